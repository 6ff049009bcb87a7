# Forensic workstation AMI: Debian 12 with forensic tools from Debian's packages, ir-triage (the unattended
# first-hour triage the responder starts through SSM) with its starter YARA rules, every attached volume
# that is not the workstation's own made read-only by udev as it appears, never automounted, and mounted
# only through ir-evidence-mount (read-only, noexec, no journal replay). The responder launches it in the
# compromised instance's Availability Zone and attaches the evidence volumes.
#
# One configuration: this folder, with amazon-ebs.pkr.hcl (linked from the common/ folder beside this one) and image.auto.pkrvars.hcl.
# Written for packer 1.6.6 (Debian's package): no `packer { required_plugins }` block, no `packer init`.
#   cd forensics-ami/packer/forensic-workstation
#   packer validate .
#   packer build -var region=eu-west-1 .
# Put the resulting AMI id into the stack configuration (the forensic AMI the handler launches).

variable "root_volume_size_gib" {
  type        = number
  default     = 32
  description = "Room for tools and case notes; put images and exports on an ir-scratch* labelled volume."
}

variable "forensic_packages" {
  type        = list(string)
  default     = ["sleuthkit", "ewf-tools", "dc3dd", "dcfldd", "hashdeep", "yara", "xfsprogs", "e2fsprogs", "ntfs-3g", "cryptsetup-bin", "makedumpfile", "crash", "jq", "awscli"]
  description = "Distribution packages installed on the workstation (the last four are what ir-triage needs beyond the forensic tools)."
}

locals {
  image_tags = { "ir:forensic-workstation" = "true" }
}

build {
  source "source.amazon-ebs.image" {
    name            = "forensic_workstation"
    ami_description = "Forensic workstation: evidence volumes read-only by default (ec2-incident-response)"

    launch_block_device_mappings {
      device_name           = "/dev/xvda"
      volume_size           = var.root_volume_size_gib
      volume_type           = "gp3"
      iops                  = 3000
      throughput            = 125
      encrypted             = true
      delete_on_termination = true
    }
  }

  provisioner "shell" {
    inline = ["mkdir -p /tmp/ir-forensics"]
  }

  provisioner "file" {
    sources     = ["${path.root}/../../scripts/forensic-workstation-setup", "${path.root}/../../scripts/ir-evidence-mount", "${path.root}/../../scripts/ir-triage", "${path.root}/../../triage-rules"]
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
      "for tool in fls mmls mactime ewfacquire dc3dd dcfldd hashdeep yara makedumpfile crash jq aws; do command -v $tool >/dev/null || { echo missing $tool; exit 1; }; done",
      # ir-triage and its starter rules are installed, and the script runs.
      "test -x /usr/local/sbin/ir-triage && ls /usr/local/share/ir-triage/rules/*.yar",
      "/usr/local/sbin/ir-triage --help",
    ]
  }
}
