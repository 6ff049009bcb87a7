# Forensic workstation AMI: Debian 12 with forensic tools from Debian's packages, every attached volume
# that is not the workstation's own made read-only by udev as it appears, never automounted, and mounted
# only through ir-evidence-mount (read-only, noexec, no journal replay). The responder launches it in the
# compromised instance's Availability Zone and attaches the evidence volumes.
#
# Written for packer 1.6.6 (Debian's package): no `packer { required_plugins }` block, no `packer init`.
#   packer validate forensics-ami/packer/forensic-workstation.pkr.hcl
#   packer build -var region=eu-west-1 forensics-ami/packer/forensic-workstation.pkr.hcl
# Put the resulting AMI id into the stack configuration (the forensic AMI the handler launches).

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the AMI is built in (build one per region that runs the responder)."
}

variable "base_ami_id" {
  type        = string
  default     = ""
  description = "Exact base AMI id. Empty: the newest AMI matching base_ami_name_filter from base_ami_owners."
}

variable "base_ami_name_filter" {
  type    = string
  default = "debian-12-amd64-*"
}

variable "base_ami_owners" {
  type        = list(string)
  default     = ["136693071363"]
  description = "Debian's official AMI account."
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "instance_type" {
  type    = string
  default = "t3.medium"
}

variable "subnet_id" {
  type    = string
  default = ""
}

variable "root_volume_size_gib" {
  type        = number
  default     = 32
  description = "Room for tools and case notes; put images and exports on an ir-scratch* labelled volume."
}

variable "ami_name_prefix" {
  type    = string
  default = "ir-forensic-workstation"
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "forensic_packages" {
  type        = list(string)
  default     = ["sleuthkit", "ewf-tools", "dc3dd", "dcfldd", "hashdeep", "yara", "xfsprogs", "e2fsprogs", "ntfs-3g", "cryptsetup-bin"]
  description = "Distribution packages installed on the workstation."
}

locals {
  build_stamp = formatdate("YYYYMMDDhhmmss", timestamp())
  ami_tags = merge(var.tags, {
    "ir:managed-by"           = "ec2-incident-response"
    "ir:forensic-workstation" = "true"
    "Name"                    = "${var.ami_name_prefix}-${local.build_stamp}"
  })
  base_ami_filters = var.base_ami_id != "" ? { "image-id" = var.base_ami_id } : {
    "name"                = var.base_ami_name_filter
    "architecture"        = "x86_64"
    "virtualization-type" = "hvm"
    "root-device-type"    = "ebs"
  }
}

source "amazon-ebs" "forensic_workstation" {
  region          = var.region
  instance_type   = var.instance_type
  subnet_id       = var.subnet_id
  ssh_username    = var.ssh_username
  ami_name        = "${var.ami_name_prefix}-${local.build_stamp}"
  ami_description = "Forensic workstation: evidence volumes read-only by default (ec2-incident-response)"

  source_ami_filter {
    filters     = local.base_ami_filters
    owners      = var.base_ami_owners
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = var.root_volume_size_gib
    volume_type           = "gp3"
    iops                  = 3000
    throughput            = 125
    encrypted             = true
    delete_on_termination = true
  }

  tags          = local.ami_tags
  snapshot_tags = local.ami_tags
  run_tags = {
    "Name"          = "packer-${var.ami_name_prefix}"
    "ir:managed-by" = "ec2-incident-response"
  }
}

build {
  sources = ["source.amazon-ebs.forensic_workstation"]

  provisioner "shell" {
    inline = ["mkdir -p /tmp/ir-forensics"]
  }

  provisioner "file" {
    sources     = ["${path.root}/../scripts/forensic-workstation-setup", "${path.root}/../scripts/ir-evidence-mount"]
    destination = "/tmp/ir-forensics/"
  }

  provisioner "shell" {
    environment_vars = ["IR_FORENSIC_PACKAGES=${join(" ", var.forensic_packages)}"]
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline = [
      "bash /tmp/ir-forensics/forensic-workstation-setup /tmp/ir-forensics",
      "rm -rf /tmp/ir-forensics",
      # Prove the guard is in place before the AMI is made.
      "test -x /usr/local/sbin/ir-evidence-mount",
      "test -s /etc/udev/rules.d/61-ir-evidence-readonly.rules",
      "for tool in fls mmls ewfacquire dc3dd dcfldd hashdeep yara; do command -v $tool >/dev/null || { echo missing $tool; exit 1; }; done",
    ]
  }
}
