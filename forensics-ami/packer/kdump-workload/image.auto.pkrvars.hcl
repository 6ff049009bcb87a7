# The base image of the kdump-ready workload: Amazon Linux 2023 (Debian 12: debian-12-amd64-*, owner
# 136693071363, user admin).
base_ami_name_filter = "al2023-ami-2023.*-kernel-6.1-x86_64"
base_ami_owners      = ["amazon"]
ssh_username         = "ec2-user"
ami_name_prefix      = "ir-kdump-workload"
