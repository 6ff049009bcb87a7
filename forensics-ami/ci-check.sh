#!/usr/bin/env bash
# forensics-ami/ci-check.sh: what CI runs for forensics-ami. Installs the Debian tools (packer 1.6.6, shellcheck,
# qemu, debootstrap, jq, yara, python3 for the kdump proof's snapshot-increment count), then runs the static checks
# and the VM proofs (kdump, the evidence guard, then triage).
#
#   bash forensics-ami/ci-check.sh            static checks + the three VM proofs
#   bash forensics-ami/ci-check.sh --static   static checks only (packer validate, shellcheck, yara rules): seconds
#
# The mocha tests in test/forensics-ami run these same static checks too; this script is for a CI step of its
# own, so a failure names forensics-ami. Needs root (apt-get, debootstrap, chroot).
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_DIR
readonly PACKAGES=(packer shellcheck qemu-system-x86 qemu-utils debootstrap e2fsprogs socat jq yara python3)

phase() { printf '\n== forensics-ami: %s\n' "$*"; }

install_tools() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  phase "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

static_checks() {
  phase "shellcheck"
  local scripts=()
  mapfile -t scripts < <(grep -rl '^#!/usr/bin/env bash' "$REPO_DIR/forensics-ami" | sort)
  shellcheck --severity=style "${scripts[@]}"
  echo "shellcheck: ${#scripts[@]} scripts clean"

  phase "packer validate (packer $(packer version | head -n1))"
  # A folder is one packer configuration; packer/common is linked into both, not one of its own.
  local configuration
  for configuration in forensic-workstation kdump-workload; do
    (cd "$REPO_DIR/forensics-ami/packer/$configuration" && CHECKPOINT_DISABLE=1 packer validate . && packer fmt -check .)
    echo "valid: forensics-ami/packer/$configuration"
  done

  phase "yara: the starter triage rules compile"
  local rules
  for rules in "$REPO_DIR"/forensics-ami/triage-rules/*.yar; do
    yara -w "$rules" /dev/null
    echo "compiles: forensics-ami/triage-rules/${rules##*/}"
  done
}

main() {
  [[ $(id -u) -eq 0 ]] || {
    echo "forensics-ami/ci-check.sh must run as root" >&2
    exit 1
  }
  install_tools
  static_checks
  if [[ ${1:-} == --static ]]; then
    return 0
  fi
  phase "kdump VM proof"
  bash "$REPO_DIR/forensics-ami/vm-proof/kdump-vm-proof.sh"
  phase "evidence VM proof"
  bash "$REPO_DIR/forensics-ami/vm-proof/evidence-vm-proof.sh"
  phase "triage VM proof"
  bash "$REPO_DIR/forensics-ami/vm-proof/triage-vm-proof.sh"
}

main "$@"
