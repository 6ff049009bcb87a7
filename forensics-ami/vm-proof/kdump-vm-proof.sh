#!/usr/bin/env bash
# kdump VM proof: build a Debian bookworm VM image from Debian packages, apply forensics-ami/scripts/ir-kdump
# UNCHANGED inside it (chroot), boot it under qemu, wait until kdump is ready, inject an NMI from the QEMU
# monitor (what EC2 SendDiagnosticInterrupt does), then verify that a dump was written and that the guest
# POWERED OFF by itself (not a reset). Prints the timings.
#
# IR_KDUMP_VM_ARCH=arm64 does the same for Debian arm64 under emulation, except the interrupt: QEMU's arm
# "virt" machine has no NMI (the monitor answers "not supported") and no SDEI firmware, Graviton's delivery as
# far as we can infer (ACPI AGDI over SDEI). There the panic is sysrq-c typed on a virtio keyboard through the
# monitor, which could prove the arm64 capture path, never the delivery. On bookworm it fails in phase "dump":
# kexec-tools 2.0.25 builds broken crash headers for Debian's 6.1 arm64 kernel (forensics-ami/README.md).
#
# Needs root and Debian packages: debootstrap qemu-system-x86 e2fsprogs socat (forensics-ami/ci-check.sh installs
# them), for arm64 also qemu-system-arm qemu-user-static binfmt-support. The debootstrap root is cached outside
# the repository and rebuilt when absent.
#
# Settings: IR_KDUMP_VM_ARCH=amd64|arm64, IR_KDUMP_VM_CACHE (default ${XDG_CACHE_HOME:-/var/cache}/ec2-ir-kdump-vm),
#   IR_KDUMP_VM_ACCEL=auto|kvm|tcg, IR_KDUMP_VM_MEMORY_MIB (2048), IR_KDUMP_VM_MIRROR,
#   IR_KDUMP_VM_KEEP=1 (keep the work directory), timeouts IR_KDUMP_VM_{READY,DUMP}_TIMEOUT (seconds).
set -euo pipefail

readonly PROOF_NAME="kdump VM proof"
# shellcheck source=forensics-ami/vm-proof/vm-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/vm-common.sh"
readonly PROVISIONING_SCRIPT=$REPO_DIR/forensics-ami/scripts/ir-kdump
if [[ $ARCH == amd64 ]]; then
  readonly TRIGGER=nmi TRIGGER_NAME=NMI PANIC_TEXT=NMI TRIGGER_APPEND="" TRIGGER_DEVICE=() SLOWDOWN=1
else
  # sysrq_always_enabled: Debian's default kernel.sysrq mask leaves out crash; the capture kernel inherits it.
  readonly TRIGGER="sendkey alt-sysrq-c" TRIGGER_NAME=sysrq-c PANIC_TEXT="sysrq triggered crash" \
    TRIGGER_APPEND=" sysrq_always_enabled" TRIGGER_DEVICE=(-device virtio-keyboard-pci) SLOWDOWN=2
fi
readonly READY_TIMEOUT=${IR_KDUMP_VM_READY_TIMEOUT:-$((420 * SLOWDOWN))}
readonly DUMP_TIMEOUT=${IR_KDUMP_VM_DUMP_TIMEOUT:-$((600 * SLOWDOWN))}

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

  start_qemu "root=/dev/vda rw console=$CONSOLE crashkernel=$crashkernel$TRIGGER_APPEND" "${TRIGGER_DEVICE[@]}"

  PHASE=ready
  wait_for_serial "IR-VM-PROOF: kdump-check exit=" "$READY_TIMEOUT"
  local ready_ms
  ready_ms=$(now_ms)
  local check_output
  check_output=$(tr -d '\r' <"$WORK_DIR/serial.log" | grep -aE '^(PASS|FAIL|READY|NOT READY)' || true)
  printf '%s\n' "$check_output" | sed 's/^/    guest> /'
  grep -qa "IR-VM-PROOF: kdump-check exit=0" "$WORK_DIR/serial.log" || fail "ir-kdump check reported NOT READY in the guest"
  say "kdump ready $(seconds_since "$BOOT_MS" "$ready_ms") s after boot"

  PHASE=${TRIGGER_NAME,,}
  # Let the boot settle so the interrupt hits a running system rather than a unit still starting.
  sleep 2
  local nmi_ms
  nmi_ms=$(now_ms)
  monitor "$TRIGGER" || fail "the QEMU monitor did not accept '$TRIGGER'"
  say "$TRIGGER_NAME injected through the QEMU monitor ($TRIGGER)"

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
  [[ $panic_line == *"$PANIC_TEXT"* ]] || fail "saved dmesg does not show a $TRIGGER_NAME panic (got: '${panic_line:-nothing}')"
  rm -f "$WORK_DIR/dump.flat"

  local total_s
  total_s=$(seconds_since "$START_MS")
  cat <<EOF

kdump VM proof ($ARCH): PASSED
  cache                  $CACHE_STATE ($CACHE_DIR)
  accelerator            $ACCEL, ${MEMORY_MIB} MiB guest, Debian $SUITE $ARCH kernel $KERNEL_VERSION
  debootstrap root       ${DEBOOTSTRAP_S} s ($CACHE_STATE)
  provisioning + image   ${provision_s} s (ir-kdump prepare in chroot)
  boot to kdump ready    $(seconds_since "$BOOT_MS" "$ready_ms") s
  $(printf '%-22s' "$TRIGGER_NAME to dump written") $(seconds_since "$nmi_ms" "$dump_ms") s
  $(printf '%-22s' "$TRIGGER_NAME to power-off") $(seconds_since "$nmi_ms" "$OFF_MS") s
  dump                   /var/crash/$stamp_dir/$dump_name, $((dump_bytes / 1048576)) MiB (makedumpfile $makedump_args)
  panic                  $panic_line
  total                  ${total_s} s
EOF
}

main "$@"
