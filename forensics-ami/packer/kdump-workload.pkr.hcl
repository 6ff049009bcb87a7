# Kdump-ready workload AMI: a base AMI (Amazon Linux 2023 by default) prepared by scripts/ir-kdump, rebooted
# so the crash-kernel memory is reserved, and verified with `ir-kdump check` BEFORE the AMI is made. The AMI
# carries ir:kdump-ready=true, which the responder reads before it sends the diagnostic interrupt (NMI).
#
# Written for packer 1.6.6 (Debian's package): no `packer { required_plugins }` block, no `packer init`.
#   packer validate forensics-ami/packer/kdump-workload.pkr.hcl
#   packer build -var region=eu-west-1 forensics-ami/packer/kdump-workload.pkr.hcl

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "Region the AMI is built in."
}

variable "base_ami_id" {
  type        = string
  default     = ""
  description = "Exact base AMI id. Empty: the newest AMI matching base_ami_name_filter from base_ami_owners."
}

variable "base_ami_name_filter" {
  type        = string
  default     = "al2023-ami-2023.*-kernel-6.1-x86_64"
  description = "Name filter for the base AMI when base_ami_id is empty (Debian 12: debian-12-amd64-*)."
}

variable "base_ami_owners" {
  type        = list(string)
  default     = ["amazon"]
  description = "Owners of the base AMI (Debian's official account: 136693071363)."
}

variable "ssh_username" {
  type        = string
  default     = "ec2-user"
  description = "Login user of the base AMI (ec2-user on Amazon Linux, admin on Debian, ubuntu on Ubuntu)."
}

variable "instance_type" {
  type        = string
  default     = "t3.medium"
  description = "Build instance type. x86_64 Nitro: the diagnostic interrupt is not available on Graviton."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the build instance (empty: the default VPC)."
}

variable "ami_name_prefix" {
  type    = string
  default = "ir-kdump-workload"
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags for the AMI and its snapshots."
}

variable "dump_level" {
  type        = string
  default     = "17"
  description = "makedumpfile -d mask: 17 drops zero and free pages, keeps kernel, user and page-cache pages."
}

variable "dump_compression" {
  type        = string
  default     = "lzo"
  description = "lzo (fast), zlib (smaller, slower) or none."
}

variable "dump_dir" {
  type    = string
  default = "/var/crash"
}

variable "dump_device" {
  type        = string
  default     = ""
  description = "Optional dedicated dump volume as UUID=... or LABEL=... (must exist in the AMI's block device mapping)."
}

variable "ready_wait" {
  type        = string
  default     = "60s"
  description = "Pause after the reboot before `ir-kdump check` runs."
}

locals {
  build_stamp = formatdate("YYYYMMDDhhmmss", timestamp())
  # The responder reads ir:kdump-ready; the rest lets people find what built the AMI and how it dumps.
  ami_tags = merge(var.tags, {
    "ir:kdump-ready"       = "true"
    "ir:managed-by"        = "ec2-incident-response"
    "ir:kdump-dump-level"  = var.dump_level
    "ir:kdump-compression" = var.dump_compression
    "Name"                 = "${var.ami_name_prefix}-${local.build_stamp}"
  })
  base_ami_filters = var.base_ami_id != "" ? { "image-id" = var.base_ami_id } : {
    "name"                = var.base_ami_name_filter
    "architecture"        = "x86_64"
    "virtualization-type" = "hvm"
    "root-device-type"    = "ebs"
  }
  prepare_environment = [
    "IR_KDUMP_DUMP_LEVEL=${var.dump_level}",
    "IR_KDUMP_COMPRESSION=${var.dump_compression}",
    "IR_KDUMP_DUMP_DIR=${var.dump_dir}",
    "IR_KDUMP_DUMP_DEVICE=${var.dump_device}",
  ]
}

source "amazon-ebs" "kdump_workload" {
  region          = var.region
  instance_type   = var.instance_type
  subnet_id       = var.subnet_id
  ssh_username    = var.ssh_username
  ami_name        = "${var.ami_name_prefix}-${local.build_stamp}"
  ami_description = "Kdump-ready workload image: NMI -> crash dump in ${var.dump_dir} -> power off (ec2-incident-response)"

  source_ami_filter {
    filters     = local.base_ami_filters
    owners      = var.base_ami_owners
    most_recent = true
  }

  tags          = local.ami_tags
  snapshot_tags = local.ami_tags
  run_tags = {
    "Name"          = "packer-${var.ami_name_prefix}"
    "ir:managed-by" = "ec2-incident-response"
  }
}

build {
  sources = ["source.amazon-ebs.kdump_workload"]

  provisioner "file" {
    source      = "${path.root}/../scripts/ir-kdump"
    destination = "/tmp/ir-kdump"
  }

  # Exit 3 = prepared, reboot required to reserve the crash-kernel memory (expected on a fresh base AMI).
  provisioner "shell" {
    environment_vars = local.prepare_environment
    execute_command  = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline = [
      "bash /tmp/ir-kdump prepare || test $? -eq 3",
      "rm -f /tmp/ir-kdump",
    ]
  }

  provisioner "shell" {
    execute_command   = "chmod +x {{ .Path }}; sudo {{ .Path }}"
    inline            = ["systemctl reboot"]
    expect_disconnect = true
  }

  # The AMI is only made when the rebooted instance WOULD take a dump: a failed check fails the build.
  provisioner "shell" {
    pause_before    = var.ready_wait
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Path }}"
    inline          = ["/usr/local/sbin/ir-kdump check"]
  }
}
