# Kdump-ready workload AMI: a base AMI (Amazon Linux 2023 by default) prepared by scripts/ir-kdump, rebooted
# so the crash-kernel memory is reserved, and verified with `ir-kdump check` BEFORE the AMI is made. The AMI
# carries ir:kdump-ready=true, which the responder reads before it sends the diagnostic interrupt (NMI).
#
# One configuration: this folder, with amazon-ebs.pkr.hcl (linked from the common/ folder beside this one) and image.auto.pkrvars.hcl.
# Written for packer 1.6.6 (Debian's package): no `packer { required_plugins }` block, no `packer init`.
#   cd forensics-ami/packer/kdump-workload
#   packer validate .
#   packer build -var region=eu-west-1 .

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
  # The responder reads ir:kdump-ready; the rest lets people find how the AMI dumps.
  image_tags = {
    "ir:kdump-ready"       = "true"
    "ir:kdump-dump-level"  = var.dump_level
    "ir:kdump-compression" = var.dump_compression
  }
  prepare_environment = [
    "IR_KDUMP_DUMP_LEVEL=${var.dump_level}",
    "IR_KDUMP_COMPRESSION=${var.dump_compression}",
    "IR_KDUMP_DUMP_DIR=${var.dump_dir}",
    "IR_KDUMP_DUMP_DEVICE=${var.dump_device}",
  ]
}

build {
  source "source.amazon-ebs.image" {
    name            = "kdump_workload"
    ami_description = "Kdump-ready workload image: NMI -> crash dump in ${var.dump_dir} -> power off (ec2-incident-response)"
  }

  provisioner "file" {
    source      = "${path.root}/../../scripts/ir-kdump"
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
