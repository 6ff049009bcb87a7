#!/usr/bin/env bash
# Evidence VM proof: build a Debian bookworm VM, apply forensics-ami/scripts/forensic-workstation-setup
# UNCHANGED inside it (chroot), boot it, HOT-PLUG an evidence disk (as the responder attaches volumes to a
# running workstation), and check in the guest that the disk is read-only at the block layer, that a careless
# `mount -o rw` cannot write to it, that ir-evidence-mount refuses rw and mounts read-only and noexec, and that
# the forensic tools run. On the host, the evidence image must be byte-identical afterwards.
#
# Same requirements, cache and settings as kdump-vm-proof.sh (IR_KDUMP_VM_*).
set -euo pipefail

readonly PROOF_NAME="evidence VM proof"
# shellcheck source=forensics-ami/vm-proof/vm-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/vm-common.sh"
readonly SCRIPTS_DIR=$REPO_DIR/forensics-ami/scripts
readonly READY_TIMEOUT=${IR_KDUMP_VM_READY_TIMEOUT:-420}
readonly MARKER_TEXT="evidence marker 7c1e"

# What runs in the guest once the evidence disk appears (harness, not product: the product is what
# forensic-workstation-setup installed). Results go to the serial console as IR-EVIDENCE lines.
write_guest_checks() {
  cat >"$WORK_DIR/rootfs/usr/local/sbin/ir-evidence-proof-guest" <<EOF
#!/bin/sh
result=ok
pass() { echo "IR-EVIDENCE: PASS \$*"; }
fail() { echo "IR-EVIDENCE: FAIL \$*"; result=fail; }
echo "IR-EVIDENCE: waiting for the evidence disk"
i=0
while [ ! -b /dev/vdb ] && [ \$i -lt 240 ]; do sleep 0.5; i=\$((i + 1)); done
[ -b /dev/vdb ] || { echo "IR-EVIDENCE: FAIL no /dev/vdb appeared"; echo "IR-EVIDENCE: RESULT fail"; poweroff; exit 0; }
udevadm settle
[ "\$(blockdev --getro /dev/vdb)" = 1 ] && pass "hot-plugged /dev/vdb is read-only at the block layer (udev rule)" || fail "/dev/vdb is writable"
[ "\$(blockdev --getro /dev/vda)" = 0 ] && pass "the workstation's own root disk stays writable" || fail "root disk made read-only"
mkdir -p /mnt/careless /mnt/evidence
mount -o rw /dev/vdb /mnt/careless 2>/dev/null
if touch /mnt/careless/written 2>/dev/null; then fail "a plain 'mount -o rw' could write"; else pass "a plain 'mount -o rw' cannot write"; fi
umount /mnt/careless 2>/dev/null
if ir-evidence-mount /dev/vdb /mnt/evidence rw 2>/dev/null; then fail "ir-evidence-mount accepted rw"; else pass "ir-evidence-mount refuses rw"; fi
if ir-evidence-mount /dev/vdb /mnt/evidence; then
  options=\$(findmnt -no OPTIONS /mnt/evidence)
  case ",\$options," in *,ro,*noexec*) pass "mounted with \$options" ;; *) fail "mount options \$options" ;; esac
  [ "\$(cat /mnt/evidence/marker.txt)" = "$MARKER_TEXT" ] && pass "evidence readable" || fail "marker unreadable"
  if /mnt/evidence/payload.sh >/dev/null 2>&1; then fail "a program on the evidence ran"; else pass "programs on the evidence cannot run (noexec)"; fi
  umount /mnt/evidence
else
  fail "ir-evidence-mount could not mount the evidence"
fi
fls /dev/vdb 2>/dev/null | grep -q marker.txt && pass "sleuthkit fls lists the evidence file system" || fail "fls failed"
for tool in ewfacquire dc3dd dcfldd hashdeep yara; do command -v \$tool >/dev/null || fail "\$tool missing"; done
[ \$result = ok ] && pass "forensic tools installed: ewfacquire dc3dd dcfldd hashdeep yara fls"
echo "IR-EVIDENCE: RESULT \$result"
poweroff
EOF
  chmod 0755 "$WORK_DIR/rootfs/usr/local/sbin/ir-evidence-proof-guest"
}

make_evidence_image() {
  local source=$WORK_DIR/evidence-src
  mkdir -p "$source"
  echo "$MARKER_TEXT" >"$source/marker.txt"
  printf '#!/bin/sh\necho executed\n' >"$source/payload.sh"
  chmod 0755 "$source/payload.sh"
  mkfs.ext4 -q -F -L victim-data -d "$source" "$WORK_DIR/evidence.img" 64M >/dev/null || fail "mkfs.ext4 of the evidence image failed"
  sha256sum "$WORK_DIR/evidence.img" | cut -d' ' -f1
}

main() {
  START_MS=$(now_ms)
  require_tools
  prepare_work_root

  local root=$WORK_DIR/rootfs provision_start
  provision_start=$(now_ms)
  mkdir -p "$root/tmp/ir-forensics"
  cp "$SCRIPTS_DIR/forensic-workstation-setup" "$SCRIPTS_DIR/ir-evidence-mount" "$SCRIPTS_DIR/ir-triage" "$root/tmp/ir-forensics/"
  cp -r "$REPO_DIR/forensics-ami/triage-rules" "$root/tmp/ir-forensics/triage-rules"
  say "running forensics-ami/scripts/forensic-workstation-setup in the chroot"
  if ! run_in_chroot "$WORK_DIR/provision.log" bash /tmp/ir-forensics/forensic-workstation-setup /tmp/ir-forensics; then
    tail -n 30 "$WORK_DIR/provision.log" >&2
    fail "forensic-workstation-setup failed in the chroot (log: $WORK_DIR/provision.log)"
  fi
  rm -rf "$root/tmp/ir-forensics"
  finish_rootfs
  write_guest_checks
  # After the boot is through (user sessions allowed), so the hot-plug meets a running system.
  install_console_unit ir-evidence-proof systemd-user-sessions.service /usr/local/sbin/ir-evidence-proof-guest
  make_boot_disk 256
  local evidence_before
  evidence_before=$(make_evidence_image)
  local provision_s
  provision_s=$(seconds_since "$provision_start")
  say "image ready: kernel $KERNEL_VERSION; evidence image sha256 ${evidence_before:0:16}..."

  start_qemu "root=/dev/vda rw console=$CONSOLE"

  PHASE=ready
  wait_for_serial "IR-EVIDENCE: waiting for the evidence disk" "$READY_TIMEOUT"
  local ready_ms
  ready_ms=$(now_ms)
  say "workstation booted $(seconds_since "$BOOT_MS" "$ready_ms") s after start; hot-plugging the evidence disk"

  PHASE=attach
  monitor "drive_add 0 if=none,id=evidence,format=raw,file=$WORK_DIR/evidence.img" || fail "drive_add refused"
  monitor "device_add virtio-blk-pci,drive=evidence,id=evidence-disk" || fail "device_add refused"

  PHASE=guest-checks
  wait_for_serial "IR-EVIDENCE: RESULT" 300
  tr -d '\r' <"$WORK_DIR/serial.log" | grep -a '^IR-EVIDENCE: \(PASS\|FAIL\)' | sed 's/^IR-EVIDENCE: /    guest> /'
  grep -qa "IR-EVIDENCE: RESULT ok" "$WORK_DIR/serial.log" || fail "a guest check failed (FAIL lines above)"

  wait_for_poweroff 120

  PHASE=verify
  local evidence_after
  evidence_after=$(sha256sum "$WORK_DIR/evidence.img" | cut -d' ' -f1)
  [[ $evidence_after == "$evidence_before" ]] || fail "the evidence image CHANGED (sha256 $evidence_before -> $evidence_after)"

  cat <<EOF

evidence VM proof: PASSED
  cache                  $CACHE_STATE ($CACHE_DIR)
  accelerator            $ACCEL, ${MEMORY_MIB} MiB guest, Debian $SUITE kernel $KERNEL_VERSION
  debootstrap root       ${DEBOOTSTRAP_S} s ($CACHE_STATE)
  provisioning + image   ${provision_s} s (forensic-workstation-setup in chroot)
  boot                   $(seconds_since "$BOOT_MS" "$ready_ms") s
  evidence image         unchanged after a hot-plug, a plain rw mount attempt and ir-evidence-mount (sha256 ${evidence_after:0:16}...)
  total                  $(seconds_since "$START_MS") s
EOF
}

main "$@"
