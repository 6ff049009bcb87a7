# What both AMI builds share: the base AMI lookup, the build instance and the amazon-ebs source.
# Packer reads one folder as one configuration and 1.6.6 has no include or module, so this file is linked
# (a symlink, amazon-ebs.pkr.hcl) into each image folder instead of being copied there. Each folder gives
# the variables without a default in its image.auto.pkrvars.hcl, defines local.image_tags, and adds what is
# its own (ami_description, block devices) in its build's `source "source.amazon-ebs.image"` block.

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
  type        = string
  description = "Name filter for the base AMI when base_ami_id is empty."
}

variable "base_ami_owners" {
  type        = list(string)
  description = "Owners of the base AMI (Debian's official account: 136693071363; Amazon Linux: amazon)."
}

variable "ssh_username" {
  type        = string
  description = "Login user of the base AMI (ec2-user on Amazon Linux, admin on Debian, ubuntu on Ubuntu)."
}

variable "instance_type" {
  type        = string
  default     = "t3.medium"
  description = "Build instance type, of the base AMI's architecture (the name filter finds x86_64; for Graviton pin base_ami_id). Any Nitro type but A1 takes the diagnostic interrupt."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet for the build instance (empty: the default VPC)."
}

variable "ami_name_prefix" {
  type = string
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Extra tags for the AMI and its snapshots."
}

locals {
  build_stamp = formatdate("YYYYMMDDhhmmss", timestamp())
  ami_name    = "${var.ami_name_prefix}-${local.build_stamp}"
  # Merged last, the image's own tags and ours: a user's tags cannot override them.
  ami_tags = merge(var.tags, local.image_tags, {
    "ir:managed-by" = "ec2-incident-response"
    "Name"          = local.ami_name
  })
  base_ami_filters = var.base_ami_id != "" ? { "image-id" = var.base_ami_id } : {
    "name"                = var.base_ami_name_filter
    "architecture"        = "x86_64"
    "virtualization-type" = "hvm"
    "root-device-type"    = "ebs"
  }
}

source "amazon-ebs" "image" {
  region        = var.region
  instance_type = var.instance_type
  subnet_id     = var.subnet_id
  ssh_username  = var.ssh_username
  ami_name      = local.ami_name

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
