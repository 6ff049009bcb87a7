# The base image of the forensic workstation: Debian 12 from Debian's official AMI account.
base_ami_name_filter = "debian-12-amd64-*"
base_ami_owners      = ["136693071363"]
ssh_username         = "admin"
ami_name_prefix      = "ir-forensic-workstation"
