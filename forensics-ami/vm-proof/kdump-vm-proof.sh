#!/usr/bin/env bash
# kdump VM proof: build a Debian bookworm VM image from Debian packages, apply forensics-ami/scripts/ir-kdump
# UNCHANGED inside it (chroot), boot it under qemu, wait until kdump is ready, inject an NMI from the QEMU
# monitor (what EC2 SendDiagnosticInterrupt does), then verify that a dump was written and that the guest
# POWERED OFF by itself (not a reset). Prints the timings and the dump's throughput, measured in the capture
# kernel (kdump-throughput.sh), also as one line "IR-KDUMP-THROUGHPUT {json}" and a JSON file.
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
#   IR_KDUMP_VM_FILL_MIB (256: MiB of random data put in tmpfs before the NMI, so the dump writes a known amount
#   of incompressible in-use memory besides the idle system's; 0 = idle guest),
#   IR_KDUMP_VM_RESULT (also write the throughput JSON to this file), IR_KDUMP_VM_KEEP=1 (keep the work
#   directory, which holds kdump-throughput.json), timeouts IR_KDUMP_VM_{READY,DUMP}_TIMEOUT (seconds).
set -euo pipefail

readonly PROOF_NAME="kdump VM proof"
# shellcheck source=forensics-ami/vm-proof/vm-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/vm-common.sh"
# shellcheck source=forensics-ami/vm-proof/kdump-throughput.sh
source "$VM_PROOF_DIR/kdump-throughput.sh"
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
readonly FILL_MIB=${IR_KDUMP_VM_FILL_MIB:-256}
if [[ ! $FILL_MIB =~ ^[0-9]+$ ]] || ((FILL_MIB > MEMORY_MIB / 4)); then
  fail "IR_KDUMP_VM_FILL_MIB must be a whole number of MiB up to a quarter of the guest's memory ($((MEMORY_MIB / 4))), got '$FILL_MIB'"
fi

# native_refilter MAKEDUMP_ARGS : the guest's own makedumpfile, run natively in the image's root on the host,
# refilters the guest's dump (WORK_DIR/dump.flat) with the same arguments; prints the milliseconds it took. This
# times makedumpfile's CPU path (filter, lzo, write) on real hardware, which emulation hides; it also reads
# and decompresses, so it is an upper bound of that path's time. The dump file is consumed.
native_refilter() {
  local root=$WORK_DIR/rootfs args start_ms end_ms
  read -ra args <<<"$1"
  mv "$WORK_DIR/dump.flat" "$root/tmp/dump.flat"
  chroot "$root" /bin/sh -c 'makedumpfile -R /tmp/dump.kdump </tmp/dump.flat' >"$WORK_DIR/refilter.log" 2>&1 ||
    fail "makedumpfile -R could not rebuild the dump from its flattened form (log: $WORK_DIR/refilter.log)"
  rm -f "$root/tmp/dump.flat"
  start_ms=$(now_ms)
  chroot "$root" makedumpfile "${args[@]}" /tmp/dump.kdump /tmp/refiltered.kdump >>"$WORK_DIR/refilter.log" 2>&1 ||
    fail "makedumpfile ${args[*]} could not refilter the dump (log: $WORK_DIR/refilter.log)"
  end_ms=$(now_ms)
  rm -f "$root/tmp/dump.kdump" "$root/tmp/refiltered.kdump"
  echo $((end_ms - start_ms))
}

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
  # The fill comes first: random data in tmpfs (/dev/shm) is in-use, non-zero, incompressible memory that dump
  # level 17 keeps, so the write rate is measured on more than the idle system's few dozen MiB.
  install_console_unit ir-vm-proof-ready kdump-tools.service \
    "echo planted >/tmp/ir-vm-proof-tmp-marker; sync; head -c ${FILL_MIB}M /dev/urandom >/dev/shm/ir-vm-proof-fill; echo \"IR-VM-PROOF: fill-bytes=\$\$(wc -c </dev/shm/ir-vm-proof-fill)\"; /usr/local/sbin/ir-kdump check; echo \"IR-VM-PROOF: kdump-check exit=\$\$?\""
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
  local fill_bytes
  fill_bytes=$(tr -d '\r' <"$WORK_DIR/serial.log" | sed -n 's/^IR-VM-PROOF: fill-bytes=\([0-9]*\)$/\1/p' | tail -n1)
  [[ ${fill_bytes:-x} == $((FILL_MIB * 1048576)) ]] || fail "the guest did not fill ${FILL_MIB} MiB of tmpfs (wrote '${fill_bytes:-nothing}' bytes)"

  PHASE=${TRIGGER_NAME,,}
  # Let the boot settle so the interrupt hits a running system rather than a unit still starting.
  sleep 2
  # The disk as found, as snapshotAsFound takes it: the guest paused, its disk copied, then resumed. What the
  # dump and the power-off write after it is what the after-stop snapshot set adds (its incremental size).
  monitor stop || fail "the QEMU monitor did not pause the guest"
  cp --sparse=always "$WORK_DIR/disk.img" "$WORK_DIR/as-found.img"
  monitor cont || fail "the QEMU monitor did not resume the guest"
  local nmi_ms
  nmi_ms=$(now_ms)
  monitor "$TRIGGER" || fail "the QEMU monitor did not accept '$TRIGGER'"
  say "$TRIGGER_NAME injected through the QEMU monitor ($TRIGGER)"

  PHASE=dump
  # The capture kernel has booted and kdump-config starts makedumpfile (seen by the harness, polling: +0.25 s).
  wait_for_serial "running makedumpfile .*dump-incomplete" "$DUMP_TIMEOUT"
  local dump_start_ms
  dump_start_ms=$(now_ms)
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
  # The capture boot must not have emptied /tmp (evidence): ir-kdump masks systemd-tmpfiles-setup there.
  debugfs_list /tmp | grep -q '^ir-vm-proof-tmp-marker' || fail "/tmp was emptied during the capture boot: the file planted there is gone"

  PHASE=throughput
  local after_stop_bytes
  after_stop_bytes=$(changed_bytes "$WORK_DIR/as-found.img" "$WORK_DIR/disk.img" 524288) ||
    fail "cannot compare the disk as found with the disk after the dump"
  rm -f "$WORK_DIR/as-found.img"
  local native_ms="" native_rate=""
  if foreign_arch; then
    rm -f "$WORK_DIR/dump.flat" # emulated by qemu-user, a host run would time the emulator again
  else
    native_ms=$(native_refilter "$makedump_args")
    native_rate=$(divide "$dump_bytes" "$((native_ms * 1048576 / 1000))") || fail "the native refilter took no measurable time"
  fi
  local times start_s completed_s saved_s settings dump_level compression makedump_s sync_s boot_s write_rate scan_rate json
  times=$(capture_times "$WORK_DIR/serial.log") || fail "cannot time the dump from the capture kernel's console"
  read -r start_s completed_s saved_s <<<"$times"
  settings=$(dump_settings "$makedump_args") || fail "cannot read the dump level from MAKEDUMP_ARGS '$makedump_args'"
  read -r dump_level compression <<<"$settings"
  makedump_s=$(difference "$start_s" "$completed_s")
  sync_s=$(difference "$completed_s" "$saved_s")
  boot_s=$(seconds_since "$nmi_ms" "$dump_start_ms")
  write_rate=$(divide "$dump_bytes" "$(difference 0 "$makedump_s" 1048576)") || fail "makedumpfile took no measurable time"
  scan_rate=$(divide "$MEMORY_MIB" "$(difference 0 "$makedump_s" 1024)" 3)
  json=$(throughput_json measuredAt="$(date -u +%Y-%m-%dT%H:%M:%SZ)" arch="$ARCH" accelerator="$ACCEL" \
    kernel="$KERNEL_VERSION" guestMemoryMiB="$MEMORY_MIB" fillMiB="$FILL_MIB" makedumpArgs="$makedump_args" \
    dumpLevel="$dump_level" compression="$compression" dumpBytes="$dump_bytes" makedumpfileSeconds="$makedump_s" \
    syncSeconds="$sync_s" writeMiBPerSecond="$write_rate" scanGiBPerSecond="$scan_rate" \
    nmiToDumpStartSeconds="$boot_s" captureUptimeAtDumpStartSeconds="$start_s" \
    nmiToPowerOffSeconds="$(seconds_since "$nmi_ms" "$OFF_MS")" nativeRefilterSeconds="$(divide "${native_ms:-0}" 1000)" \
    nativeRefilterMiBPerSecond="${native_rate:-0}" afterStopIncrementBytes="$after_stop_bytes" hostLoadAverage="$(cut -d' ' -f1 /proc/loadavg)") ||
    fail "cannot write the throughput record"
  printf '%s\n' "$json" >"$WORK_DIR/kdump-throughput.json"
  if [[ -n ${IR_KDUMP_VM_RESULT:-} ]]; then printf '%s\n' "$json" >"$IR_KDUMP_VM_RESULT"; fi

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

Dump throughput, on the capture kernel's clock (accelerator $ACCEL$([[ $ACCEL == tcg ]] && echo ": emulated, many times slower than hardware"))
  guest memory           ${MEMORY_MIB} MiB, ${FILL_MIB} MiB of it random data in tmpfs
  dump settings          level $dump_level, compression $compression (MAKEDUMP_ARGS="$makedump_args")
  dump written           $dump_bytes bytes ($(divide "$dump_bytes" 1048576 1) MiB)
  makedumpfile           ${makedump_s} s (start to "Completed."), then ${sync_s} s to "dump saved" (after sync)
  throughput             ${write_rate} MiB/s written, ${scan_rate} GiB/s of guest memory scanned
  $(printf '%-22s' "$TRIGGER_NAME to dump start") ${boot_s} s (capture kernel boot; its uptime at dump start ${start_s} s)
  native refilter        $(if [[ -n $native_ms ]]; then echo "$(divide "$native_ms" 1000) s, ${native_rate} MiB/s: the guest's makedumpfile on this host's CPU, same arguments, over the same dump"; else echo "not run (foreign architecture)"; fi)
  after-stop increment   $after_stop_bytes bytes ($(divide "$after_stop_bytes" 1048576 1) MiB) in 512 KiB blocks changed since the disk as found: what the second snapshot set adds
IR-KDUMP-THROUGHPUT $json
EOF
}

main "$@"
