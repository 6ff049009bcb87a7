#!/usr/bin/env bash
# Triage VM proof: a Debian bookworm victim with planted persistence (a cron job, an added authorized key, an
# /etc/ld.so.preload entry, a miner-like binary dropped in /var/tmp by a unit and running at the moment of the
# NMI; /tmp would not do: Debian empties it at every boot, the kdump capture boot included), kdump prepared
# by forensics-ami/scripts/ir-kdump UNCHANGED; the NMI writes a real crash dump to its
# disk and powers it off. Then a forensic workstation (forensic-workstation-setup UNCHANGED, plus Debian's
# debug symbols of the victim's kernel) boots with that disk attached and runs ir-triage --device on it. The
# report must list each planted item, the dump's kernel log and a process list holding the planted process;
# the device hash must equal the host's SHA-256 of the victim image, which must be unchanged afterwards.
#
# amd64 only. Same requirements, cache and settings as kdump-vm-proof.sh (IR_KDUMP_VM_*), plus jq on the
# host. The vmlinux of linux-image-<release>-dbg (an 855 MB package, 631 MB extracted) is downloaded once
# with apt-get and kept as CACHE_DIR/debug-symbols/vmlinux-<release>.
set -euo pipefail

readonly PROOF_NAME="triage VM proof"
# shellcheck source=forensics-ami/vm-proof/vm-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/vm-common.sh"
readonly SCRIPTS_DIR=$REPO_DIR/forensics-ami/scripts
readonly RULES_DIR=$REPO_DIR/forensics-ami/triage-rules
readonly READY_TIMEOUT=${IR_KDUMP_VM_READY_TIMEOUT:-420}
readonly DUMP_TIMEOUT=${IR_KDUMP_VM_DUMP_TIMEOUT:-600}
readonly TRIAGE_TIMEOUT=${IR_TRIAGE_VM_TIMEOUT:-1200}
readonly WORKSTATION_BOOT_TIMEOUT=${IR_TRIAGE_VM_BOOT_TIMEOUT:-300}
# crash loads the whole debug vmlinux (631 MB of DWARF) through gdb.
readonly WORKSTATION_MEMORY_MIB=3072
readonly PLANTED_COMM=xmrig PLANTED_PATH=/var/tmp/xmrig
readonly PLANTED_KEY="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHBsYW50ZWQtYnktdGhlLXRyaWFnZS12bS1wcm9vZg intruder@planted"
VICTIM_DIR=""

# Planted as an intruder would leave them: a dropper unit copies the payload (a copy of sleep carrying a mining
# pool URL, so a shipped YARA rule matches) into /var/tmp and runs it. Not /tmp: Debian's tmpfiles empty it at
# boot, and the kdump capture environment boots the victim's own systemd, so the dump's boot wipes it. The
# dropper syncs: the NMI comes seconds after it ran, and a file younger than ext4's 5 s journal commit would not
# be on the disk at all.
plant_persistence() {
  local root=$1
  mkdir -p "$root/etc/cron.d" "$root/root/.ssh" "$root/var/lib/dbus-update" "$root/usr/local/lib"
  echo "*/10 * * * * root $PLANTED_PATH >/dev/null 2>&1" >"$root/etc/cron.d/dbus-update"
  chmod 0700 "$root/root/.ssh"
  echo "$PLANTED_KEY" >>"$root/root/.ssh/authorized_keys"
  chmod 0600 "$root/root/.ssh/authorized_keys"
  # A harmless library (zlib) under a rootkit's kind of name: every process loads it, nothing breaks.
  cp "$root/usr/lib/x86_64-linux-gnu/libz.so.1" "$root/usr/local/lib/libdbus-update.so"
  echo /usr/local/lib/libdbus-update.so >"$root/etc/ld.so.preload"
  { cat "$root/usr/bin/sleep" && printf '\nstratum+tcp://pool.invalid:3333\n'; } >"$root/var/lib/dbus-update/$PLANTED_COMM"
  chmod 0755 "$root/var/lib/dbus-update/$PLANTED_COMM"
  cat >"$root/etc/systemd/system/dbus-update.service" <<EOF
[Unit]
Description=D-Bus update helper

[Service]
ExecStartPre=/bin/sh -c 'cp /var/lib/dbus-update/$PLANTED_COMM $PLANTED_PATH && sync'
ExecStart=$PLANTED_PATH infinity

[Install]
WantedBy=multi-user.target
EOF
  ln -sfn /etc/systemd/system/dbus-update.service "$root/etc/systemd/system/multi-user.target.wants/dbus-update.service"
}

# The victim: kdump prepared, persistence planted, NMI, dump, power-off. Leaves VICTIM_DIR/disk.img.
run_victim() {
  prepare_work_root
  local root=$WORK_DIR/rootfs crashkernel
  # shellcheck disable=SC2016 # expanded in the guest (systemd turns $$ into $)
  install_console_unit ir-vm-proof-ready "kdump-tools.service dbus-update.service" \
    '/usr/local/sbin/ir-kdump check; echo "IR-VM-PROOF: kdump-check exit=$$? planted=$$(systemctl show -p MainPID --value dbus-update.service)"'
  cp "$SCRIPTS_DIR/ir-kdump" "$root/tmp/ir-kdump"
  say "victim: ir-kdump prepare in the chroot"
  run_in_chroot "$WORK_DIR/provision.log" bash /tmp/ir-kdump prepare || fail "ir-kdump prepare failed (log: $WORK_DIR/provision.log)"
  rm -f "$root/tmp/ir-kdump"
  finish_rootfs
  crashkernel=$(chroot "$root" /usr/local/sbin/ir-kdump crashkernel-param)
  plant_persistence "$root"
  make_boot_disk 768
  VICTIM_KERNEL=$KERNEL_VERSION
  VICTIM_IMAGE_S=$(seconds_since "$START_MS")
  say "victim image ready: kernel $VICTIM_KERNEL, crashkernel=$crashkernel"

  start_qemu "root=/dev/vda rw console=$CONSOLE crashkernel=$crashkernel"
  PHASE=ready
  wait_for_serial "IR-VM-PROOF: kdump-check exit=" "$READY_TIMEOUT"
  VICTIM_READY_S=$(seconds_since "$BOOT_MS")
  grep -qa "IR-VM-PROOF: kdump-check exit=0" "$WORK_DIR/serial.log" || fail "ir-kdump check reported NOT READY in the victim"
  grep -qaE "IR-VM-PROOF: kdump-check exit=0 planted=[1-9][0-9]*" "$WORK_DIR/serial.log" || fail "the planted process $PLANTED_COMM is not running"
  say "victim: kdump ready, planted process $PLANTED_COMM running, ${VICTIM_READY_S} s after boot"
  PHASE=nmi
  sleep 2
  local nmi_ms
  nmi_ms=$(now_ms)
  monitor nmi || fail "the QEMU monitor did not accept 'nmi'"
  PHASE=dump
  wait_for_serial "ir-kdump: dump" "$DUMP_TIMEOUT"
  grep -qa "ir-kdump: dump saved" "$WORK_DIR/serial.log" || fail "capture kernel: $(grep -a 'ir-kdump: dump' "$WORK_DIR/serial.log" | tr -d '\r')"
  wait_for_poweroff 120
  VICTIM_NMI_S=$(seconds_since "$nmi_ms" "$OFF_MS")
  say "victim: dump saved and powered off ${VICTIM_NMI_S} s after the NMI"
  VICTIM_DIR=$WORK_DIR
  rm -rf "$VICTIM_DIR/rootfs"
  WORK_DIR=""
}

# Debian's vmlinux with debug info for RELEASE, from linux-image-RELEASE-dbg, cached (only the vmlinux).
# Sets SYMBOLS (its path) and SYMBOLS_STATE.
debug_symbols() {
  local release=$1 cached=$CACHE_DIR/debug-symbols/vmlinux-$1 download
  PHASE=symbols
  SYMBOLS_STATE=warm
  if [[ ! -s $cached ]]; then
    SYMBOLS_STATE=cold
    mkdir -p "$CACHE_DIR/debug-symbols"
    download=$(mktemp -d "$CACHE_DIR/debug-symbols/download.XXXXXX")
    say "downloading linux-image-$release-dbg (cold cache)"
    (cd "$download" && { apt-get download -q "linux-image-$release-dbg" || { apt-get update -q && apt-get download -q "linux-image-$release-dbg"; }; }) >"$download.log" 2>&1 ||
      fail "apt-get download linux-image-$release-dbg failed: $(tail -n 3 "$download.log")"
    dpkg-deb --fsys-tarfile "$download"/*.deb | tar -x -O "./usr/lib/debug/boot/vmlinux-$release" >"$cached.part" || fail "no vmlinux in linux-image-$release-dbg"
    mv -f "$cached.part" "$cached"
    rm -rf "$download" "$download.log"
  fi
  SYMBOLS=$cached
}

write_workstation_guest() {
  cat >"$WORK_DIR/rootfs/usr/local/sbin/ir-triage-proof-guest" <<'EOF'
#!/bin/sh
udevadm settle
echo "IR-TRIAGE: evidence /dev/vdb read-only at the block layer: $(blockdev --getro /dev/vdb)"
start=$(date +%s)
/usr/local/sbin/ir-triage --incident vm-proof --out /var/tmp/triage --device /dev/vdb --timeline-hours 24 \
  --hash-budget-seconds 900 >/var/tmp/triage.log 2>&1
status=$?
echo "IR-TRIAGE: exit=$status seconds=$(($(date +%s) - start))"
sed 's/^/IR-TRIAGE> /' /var/tmp/triage.log
sync
poweroff
EOF
  chmod 0755 "$WORK_DIR/rootfs/usr/local/sbin/ir-triage-proof-guest"
}

# check DESCRIPTION JQ_FILTER : the filter, run on summary.json, must print true.
check() {
  if [[ $(jq -r "$2" "$RESULTS/summary.json") == true ]]; then
    echo "    PASS $1"
  else
    fail "report check failed: $1 ($2)"
  fi
}

verify_report() {
  PHASE=verify
  RESULTS=$WORK_DIR/results
  debugfs -R "rdump /var/tmp/triage $WORK_DIR" "$WORK_DIR/disk.img" >/dev/null 2>&1
  mv "$WORK_DIR/triage" "$RESULTS" 2>/dev/null || fail "no /var/tmp/triage on the workstation disk"
  [[ -s $RESULTS/summary.json ]] || fail "ir-triage wrote no summary.json: $(ls "$RESULTS")"
  echo "  summary.txt (the ten most important findings):"
  sed 's/^/    | /' "$RESULTS/summary.txt"
  (cd "$RESULTS" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
  echo "    PASS SHA256SUMS verifies every output file"
  check "device hash done and equal to the host's SHA-256 of the victim image" \
    ".devices[0].hash == \"done\" and .devices[0].sha256 == \"$VICTIM_SHA256\""
  local planted
  for planted in /etc/cron.d/dbus-update /root/.ssh/authorized_keys /etc/ld.so.preload /etc/systemd/system/dbus-update.service; do
    check "finding for the planted $planted" "any(.findings[]; .path == \"$planted\" and .severity == \"high\")"
    grep -q " $planted: " "$RESULTS/summary.txt" || fail "summary.txt does not list $planted among the ten"
  done
  check "YARA match on the planted $PLANTED_PATH" "any(.findings[]; .category == \"yara\" and .path == \"$PLANTED_PATH\")"
  grep -q "yara .* $PLANTED_PATH: " "$RESULTS/summary.txt" || fail "summary.txt does not list the YARA match among the ten"
  check "crash dump found, kernel $VICTIM_KERNEL" ".memoryDump.found and .memoryDump.kernel == \"$VICTIM_KERNEL\""
  check "the dump's kernel log read (makedumpfile --dump-dmesg)" '.memoryDump.dmesg and any(.files[]; .name == "dump-dmesg.txt")'
  grep -qa "Kernel panic - not syncing: NMI" "$RESULTS/dump-dmesg.txt" || fail "dump-dmesg.txt has no NMI panic"
  check "process list from crash with the debug symbols" '.memoryDump.processes > 20 and .memoryDump.symbols != null and any(.files[]; .name == "crash-ps.txt")'
  awk -v comm="$PLANTED_COMM" '$NF == comm { found = 1 } END { exit !found }' "$RESULTS/crash-ps.txt" ||
    fail "crash-ps.txt has no process $PLANTED_COMM"
  echo "    PASS crash-ps.txt holds the planted process: $(awk -v comm="$PLANTED_COMM" '$NF == comm' "$RESULTS/crash-ps.txt" | head -n1 | tr -s ' ')"
}

# Boots the workstation with the victim's disk; false when ir-triage has not started in WORKSTATION_BOOT_TIMEOUT.
boot_workstation() {
  GUEST_MEMORY_MIB=$WORKSTATION_MEMORY_MIB start_qemu "root=/dev/vda rw console=$CONSOLE" \
    -drive "file=$VICTIM_DIR/disk.img,format=raw,if=virtio"
  PHASE=ready
  local deadline=$(($(now_ms) + WORKSTATION_BOOT_TIMEOUT * 1000))
  until grep -qa "IR-TRIAGE: evidence" "$WORK_DIR/serial.log" 2>/dev/null; do
    kill -0 "$QEMU_PID" 2>/dev/null || fail "the workstation's qemu exited during boot"
    (($(now_ms) < deadline)) || return 1
    sleep 1
  done
  say "workstation booted $(seconds_since "$BOOT_MS") s after start; ir-triage running"
}

triage_cleanup() {
  local status=$?
  if [[ -n $VICTIM_DIR ]]; then
    if [[ $status -ne 0 || ${IR_KDUMP_VM_KEEP:-} == 1 ]]; then echo "victim directory kept: $VICTIM_DIR" >&2; else rm -rf "$VICTIM_DIR"; fi
  fi
  (exit "$status")
  cleanup
}
trap triage_cleanup EXIT

main() {
  START_MS=$(now_ms)
  [[ $ARCH == amd64 ]] || fail "the triage proof runs amd64 only"
  require_tools
  command -v jq >/dev/null || fail "missing tool: jq (apt-get install jq)"
  run_victim
  local victim_debootstrap=$DEBOOTSTRAP_S victim_cache=$CACHE_STATE symbols_start
  PHASE=verify
  VICTIM_SHA256=$(sha256sum "$VICTIM_DIR/disk.img" | cut -d' ' -f1)

  symbols_start=$(now_ms)
  debug_symbols "$VICTIM_KERNEL"
  local symbols_s
  symbols_s=$(seconds_since "$symbols_start")
  local provision_start
  provision_start=$(now_ms)
  prepare_work_root
  local root=$WORK_DIR/rootfs
  mkdir -p "$root/tmp/ir-forensics"
  cp "$SCRIPTS_DIR/forensic-workstation-setup" "$SCRIPTS_DIR/ir-evidence-mount" "$SCRIPTS_DIR/ir-triage" "$root/tmp/ir-forensics/"
  cp -r "$RULES_DIR" "$root/tmp/ir-forensics/triage-rules"
  say "workstation: forensic-workstation-setup in the chroot"
  run_in_chroot "$WORK_DIR/provision.log" bash /tmp/ir-forensics/forensic-workstation-setup /tmp/ir-forensics ||
    fail "forensic-workstation-setup failed (log: $WORK_DIR/provision.log)"
  rm -rf "$root/tmp/ir-forensics"
  finish_rootfs
  # Where linux-image-<release>-dbg puts it (only the vmlinux of that package is needed).
  install -D -m 0644 "$SYMBOLS" "$root/usr/lib/debug/boot/vmlinux-$VICTIM_KERNEL"
  write_workstation_guest
  install_console_unit ir-triage-proof systemd-user-sessions.service /usr/local/sbin/ir-triage-proof-guest
  make_boot_disk 512
  local provision_s
  provision_s=$(seconds_since "$provision_start")
  say "workstation image ready (${provision_s} s)"

  boot_workstation || {
    # Under TCG on a loaded host a boot has been seen to stall in the kernel's early setup (spinning, no output
    # for minutes). The evidence is read-only there, so one fresh boot is safe.
    say "workstation boot stalled; killing it and booting once more"
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
    kill "$QMP_READER_PID" 2>/dev/null || true
    exec {QMP_IN}>&-
    rm -f "$WORK_DIR/qmp.in" "$WORK_DIR/qmp.sock" "$WORK_DIR/monitor.sock"
    mv "$WORK_DIR/serial.log" "$WORK_DIR/serial-stalled.log"
    boot_workstation || fail "the workstation did not reach ir-triage twice"
  }
  PHASE=triage
  wait_for_serial "IR-TRIAGE: exit=" "$TRIAGE_TIMEOUT"
  tr -d '\r' <"$WORK_DIR/serial.log" | grep -a '^IR-TRIAGE' | sed 's/^/    guest> /'
  grep -qa "IR-TRIAGE: exit=0" "$WORK_DIR/serial.log" || fail "ir-triage did not exit 0"
  grep -qa "read-only at the block layer: 1" "$WORK_DIR/serial.log" || fail "the evidence disk was not read-only in the workstation"
  local triage_s
  triage_s=$(tr -d '\r' <"$WORK_DIR/serial.log" | sed -n 's/.*IR-TRIAGE: exit=0 seconds=\([0-9]*\).*/\1/p')
  wait_for_poweroff 180
  verify_report
  [[ $(sha256sum "$VICTIM_DIR/disk.img" | cut -d' ' -f1) == "$VICTIM_SHA256" ]] || fail "the victim image CHANGED during triage"
  echo "    PASS victim image unchanged (sha256 ${VICTIM_SHA256:0:16}...)"

  cat <<EOF

triage VM proof: PASSED
  cache                  debootstrap $victim_cache, debug symbols $SYMBOLS_STATE ($CACHE_DIR)
  accelerator            $ACCEL; victim ${MEMORY_MIB} MiB, workstation ${WORKSTATION_MEMORY_MIB} MiB; kernel $VICTIM_KERNEL
  debootstrap root       ${victim_debootstrap} s
  victim image           ${VICTIM_IMAGE_S} s from start (ir-kdump prepare, planting)
  victim boot to ready   ${VICTIM_READY_S} s
  NMI to power-off       ${VICTIM_NMI_S} s
  debug symbols          ${symbols_s} s ($SYMBOLS_STATE; $(($(stat -c %s "$SYMBOLS") / 1048576)) MiB vmlinux)
  workstation image      ${provision_s} s (forensic-workstation-setup in chroot)
  ir-triage in the guest ${triage_s:-?} s
  findings               $(jq '.findings | length' "$RESULTS/summary.json") ($(jq '[.findings[] | select(.severity == "high")] | length' "$RESULTS/summary.json") high), $(jq '.memoryDump.processes' "$RESULTS/summary.json") processes at the NMI
  total                  $(seconds_since "$START_MS") s
EOF
}

main "$@"
