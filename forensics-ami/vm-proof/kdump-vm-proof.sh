#!/usr/bin/env bash
# kdump VM proof: build a Debian bookworm VM image from Debian packages, apply forensics-ami/scripts/ir-kdump
# UNCHANGED inside it (chroot), boot it under qemu, wait until kdump is ready, inject an NMI from the QEMU
# monitor (what EC2 SendDiagnosticInterrupt does), then verify that a dump was written and that the guest
# POWERED OFF by itself (not a reset). Prints the timings.
#
# Needs root and Debian packages: debootstrap qemu-system-x86 e2fsprogs socat (forensics-ami/ci-check.sh
# installs them). The debootstrap root is cached outside the repository and rebuilt when absent.
#
# Settings: IR_KDUMP_VM_CACHE (default ${XDG_CACHE_HOME:-/var/cache}/ec2-ir-kdump-vm),
#   IR_KDUMP_VM_ACCEL=auto|kvm|tcg, IR_KDUMP_VM_MEMORY_MIB (2048), IR_KDUMP_VM_MIRROR,
#   IR_KDUMP_VM_KEEP=1 (keep the work directory), timeouts IR_KDUMP_VM_{READY,DUMP}_TIMEOUT (seconds).
set -euo pipefail

readonly PROOF_NAME="kdump VM proof"
# shellcheck source=forensics-ami/vm-proof/vm-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/vm-common.sh"
readonly PROVISIONING_SCRIPT=$REPO_DIR/forensics-ami/scripts/ir-kdump
readonly READY_TIMEOUT=${IR_KDUMP_VM_READY_TIMEOUT:-420}
readonly DUMP_TIMEOUT=${IR_KDUMP_VM_DUMP_TIMEOUT:-600}

debugfs_list() { debugfs -R "ls -p $1" "$WORK_DIR/disk.img" 2>/dev/null | awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." { print $6 "\t" $7 }'; }

main() {
  START_MS=$(now_ms)
  require_tools
  [[ -r $PROVISIONING_SCRIPT ]] || fail "provisioning script not found: $PROVISIONING_SCRIPT"
  prepare_work_root

  local root=$WORK_DIR/rootfs provision_start
  provision_start=$(now_ms)
  # Readiness marker for this harness: run OUR check after kdump-tools loaded the capture kernel. Not started
  # in the capture kernel (its target is the dump unit).
  install_console_unit ir-vm-proof-ready kdump-tools.service \
    '/usr/local/sbin/ir-kdump check; echo "IR-VM-PROOF: kdump-check exit=$$?"'
  cp "$PROVISIONING_SCRIPT" "$root/tmp/ir-kdump"
  say "running forensics-ami/scripts/ir-kdump prepare in the chroot"
  if ! run_in_chroot "$WORK_DIR/provision.log" bash /tmp/ir-kdump prepare; then
    tail -n 30 "$WORK_DIR/provision.log" >&2
    fail "our provisioning script failed in the chroot (log: $WORK_DIR/provision.log)"
  fi
  rm -f "$root/tmp/ir-kdump"
  finish_rootfs
  local crashkernel makedump_args
  crashkernel=$(chroot "$root" /usr/local/sbin/ir-kdump crashkernel-param)
  makedump_args=$(sed -n 's/^MAKEDUMP_ARGS="\(.*\)"$/\1/p' "$root/etc/default/kdump-tools")
  [[ -n $makedump_args ]] || fail "provisioning did not set MAKEDUMP_ARGS"
  # Room for the dump on the root filesystem.
  make_boot_disk $((MEMORY_MIB + 512))
  [[ -s $root/var/lib/kdump/initrd.img-$KERNEL_VERSION ]] || fail "provisioning left no capture initrd for $KERNEL_VERSION"
  local provision_s
  provision_s=$(seconds_since "$provision_start")
  say "image ready: kernel $KERNEL_VERSION, crashkernel=$crashkernel, MAKEDUMP_ARGS='$makedump_args'"

  start_qemu "root=/dev/vda rw console=ttyS0 crashkernel=$crashkernel"

  PHASE=ready
  wait_for_serial "IR-VM-PROOF: kdump-check exit=" "$READY_TIMEOUT"
  local ready_ms
  ready_ms=$(now_ms)
  local check_output
  check_output=$(tr -d '\r' <"$WORK_DIR/serial.log" | grep -aE '^(PASS|FAIL|READY|NOT READY)' || true)
  printf '%s\n' "$check_output" | sed 's/^/    guest> /'
  grep -qa "IR-VM-PROOF: kdump-check exit=0" "$WORK_DIR/serial.log" || fail "ir-kdump check reported NOT READY in the guest"
  say "kdump ready $(seconds_since "$BOOT_MS" "$ready_ms") s after boot"

  PHASE=nmi
  # Let the boot settle so the NMI hits a running system rather than a unit still starting.
  sleep 2
  local nmi_ms
  nmi_ms=$(now_ms)
  monitor nmi || fail "the QEMU monitor did not accept 'nmi'"
  say "NMI injected through the QEMU monitor"

  PHASE=dump
  wait_for_serial "ir-kdump: dump" "$DUMP_TIMEOUT"
  local dump_ms
  dump_ms=$(now_ms)
  grep -qa "ir-kdump: dump saved" "$WORK_DIR/serial.log" || fail "capture kernel reported: $(grep -a 'ir-kdump: dump' "$WORK_DIR/serial.log" | tr -d '\r')"
  say "capture kernel saved the dump"

  wait_for_poweroff 120

  PHASE=verify
  local stamp_dir dump_name dump_bytes dmesg_name
  stamp_dir=$(debugfs_list /var/crash | awk -F'\t' '$1 ~ /^2[0-9]+$/ { print $1 }' | sort | tail -n1)
  [[ -n $stamp_dir ]] || fail "no dump directory in /var/crash on the guest disk"
  dump_name=$(debugfs_list "/var/crash/$stamp_dir" | awk -F'\t' '$1 ~ /^dump\./ { print $1 }')
  dump_bytes=$(debugfs_list "/var/crash/$stamp_dir" | awk -F'\t' '$1 ~ /^dump\./ { print $2 }')
  dmesg_name=$(debugfs_list "/var/crash/$stamp_dir" | awk -F'\t' '$1 ~ /^dmesg\./ { print $1 }')
  [[ -n $dump_name && ${dump_bytes:-0} -gt 0 ]] || fail "no non-empty dump file in /var/crash/$stamp_dir: $(debugfs_list "/var/crash/$stamp_dir" | tr '\n' ' ')"
  debugfs -R "dump -p /var/crash/$stamp_dir/$dump_name $WORK_DIR/dump.flat" "$WORK_DIR/disk.img" >/dev/null 2>&1
  [[ $(head -c 12 "$WORK_DIR/dump.flat") == makedumpfile ]] || fail "$dump_name is not in makedumpfile's flattened format"
  local panic_line=""
  if [[ -n $dmesg_name ]]; then
    debugfs -R "dump -p /var/crash/$stamp_dir/$dmesg_name $WORK_DIR/dmesg.txt" "$WORK_DIR/disk.img" >/dev/null 2>&1
    panic_line=$(grep -a -m1 'Kernel panic' "$WORK_DIR/dmesg.txt" | sed 's/^\[[^]]*\] *//' || true)
  fi
  [[ $panic_line == *NMI* ]] || fail "saved dmesg does not show an NMI panic (got: '${panic_line:-nothing}')"
  rm -f "$WORK_DIR/dump.flat"

  local total_s
  total_s=$(seconds_since "$START_MS")
  cat <<EOF

kdump VM proof: PASSED
  cache                  $CACHE_STATE ($CACHE_DIR)
  accelerator            $ACCEL, ${MEMORY_MIB} MiB guest, Debian $SUITE kernel $KERNEL_VERSION
  debootstrap root       ${DEBOOTSTRAP_S} s ($CACHE_STATE)
  provisioning + image   ${provision_s} s (ir-kdump prepare in chroot)
  boot to kdump ready    $(seconds_since "$BOOT_MS" "$ready_ms") s
  NMI to dump written    $(seconds_since "$nmi_ms" "$dump_ms") s
  NMI to power-off       $(seconds_since "$nmi_ms" "$OFF_MS") s
  dump                   /var/crash/$stamp_dir/$dump_name, $((dump_bytes / 1048576)) MiB (makedumpfile $makedump_args)
  panic                  $panic_line
  total                  ${total_s} s
EOF
}

main "$@"
