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

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO_DIR
readonly PROVISIONING_SCRIPT=$REPO_DIR/forensics-ami/scripts/ir-kdump
readonly CACHE_DIR=${IR_KDUMP_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/ec2-ir-kdump-vm}
readonly SUITE=bookworm
readonly MEMORY_MIB=${IR_KDUMP_VM_MEMORY_MIB:-2048}
readonly READY_TIMEOUT=${IR_KDUMP_VM_READY_TIMEOUT:-420}
readonly DUMP_TIMEOUT=${IR_KDUMP_VM_DUMP_TIMEOUT:-600}
# What the base root holds before our script runs. kdump-tools is NOT here: our script installs it.
readonly BASE_PACKAGES=systemd-sysv,linux-image-amd64,udev,procps,initramfs-tools,kmod
readonly CACHE_FORMAT=1

PHASE=prerequisites
WORK_DIR=""
QEMU_PID=""
QMP_READER_PID=""
START_MS=0

now_ms() {
  local micros=${EPOCHREALTIME/./}
  echo $((micros / 1000))
}
seconds_since() { # seconds_since START_MS [END_MS] -> "12.3"
  local end=${2:-$(now_ms)}
  local elapsed=$((end - $1))
  printf '%d.%d' $((elapsed / 1000)) $(((elapsed % 1000) / 100))
}
say() { printf '[%6ss] %s\n' "$(seconds_since "$START_MS")" "$*"; }

fail() {
  printf '\nkdump VM proof: FAILED in phase "%s": %s\n' "$PHASE" "$*" >&2
  if [[ -n $WORK_DIR && -s $WORK_DIR/serial.log ]]; then
    echo "--- last 40 lines of the serial console ($WORK_DIR/serial.log) ---" >&2
    tail -n 40 "$WORK_DIR/serial.log" | tr -d '\r' >&2
  fi
  exit 1
}

cleanup() {
  local status=$?
  if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  if [[ -n $QMP_READER_PID ]]; then kill "$QMP_READER_PID" 2>/dev/null || true; fi
  if [[ -n $WORK_DIR ]]; then
    mountpoint -q "$WORK_DIR/rootfs/proc" 2>/dev/null && umount "$WORK_DIR/rootfs/proc"
    mountpoint -q "$WORK_DIR/rootfs/var/cache/apt/archives" 2>/dev/null && umount "$WORK_DIR/rootfs/var/cache/apt/archives"
    if [[ ${IR_KDUMP_VM_KEEP:-} == 1 || $status -ne 0 ]]; then
      echo "work directory kept: $WORK_DIR" >&2
      # The root tree is large and rebuilt every run; keep only logs and the disk image.
      rm -rf "$WORK_DIR/rootfs"
    else
      rm -rf "$WORK_DIR"
    fi
  fi
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

require_tools() {
  [[ $(id -u) -eq 0 ]] || fail "must run as root (debootstrap, chroot)"
  local tool missing=()
  for tool in debootstrap qemu-system-x86_64 mkfs.ext4 debugfs socat; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || fail "missing tools: ${missing[*]} (apt-get install debootstrap qemu-system-x86 e2fsprogs socat)"
  [[ -r $PROVISIONING_SCRIPT ]] || fail "provisioning script not found: $PROVISIONING_SCRIPT"
}

debian_mirror() {
  if [[ -n ${IR_KDUMP_VM_MIRROR:-} ]]; then
    echo "$IR_KDUMP_VM_MIRROR"
    return
  fi
  # The machine's configured mirror (deb822 or one-line format), first entry for the main archive.
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [[ -z $uri ]] && uri=$(sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
  echo "${uri:-http://deb.debian.org/debian}"
}

# The debootstrap root, as a tarball in the cache (a tarball keeps device nodes and ownership intact and
# lets each run start from a pristine tree). Its name carries what it was built from.
base_rootfs_tarball() {
  local key
  key=$(printf '%s %s %s' "$CACHE_FORMAT" "$SUITE" "$BASE_PACKAGES" | sha256sum | cut -c1-12)
  echo "$CACHE_DIR/rootfs-$SUITE-$key.tar"
}

build_base_rootfs() {
  local tarball=$1 staging
  mkdir -p "$CACHE_DIR"
  # Leftovers of an interrupted debootstrap are never reused (the tarball is only renamed into place whole).
  rm -rf "$CACHE_DIR"/debootstrap.??????
  staging=$(mktemp -d "$CACHE_DIR/debootstrap.XXXXXX")
  local mirror
  mirror=$(debian_mirror)
  say "debootstrap $SUITE from $mirror (cold cache)"
  if ! debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$staging" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE_DIR/debootstrap.log" >&2
    rm -rf "$staging"
    fail "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"
  fi
  # debootstrap's own package cache is not needed in the image.
  rm -rf "$staging"/var/cache/apt/archives/*.deb
  tar -C "$staging" -cf "$tarball.new" .
  mv -f "$tarball.new" "$tarball"
  rm -rf "$staging"
}

# Things a VM needs that an EC2 AMI already has; none of them touches kdump.
add_vm_scaffolding() {
  local root=$1
  echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
  echo "kdump-proof" >"$root/etc/hostname"
  # Keep package scripts from starting services in the chroot (kdump-tools would try to load a capture
  # kernel into the HOST kernel).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  # Readiness marker for this harness: run OUR check after kdump-tools loaded the capture kernel and print
  # the result on the serial console. Not started in the capture kernel (its target is the dump unit).
  cat >"$root/etc/systemd/system/ir-vm-proof-ready.service" <<'EOF'
[Unit]
Description=kdump VM proof: report kdump readiness on the serial console
After=kdump-tools.service
Wants=kdump-tools.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c '/usr/local/sbin/ir-kdump check >/dev/ttyS0 2>&1; echo "IR-VM-PROOF: kdump-check exit=$$?" >/dev/ttyS0'

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sfn /etc/systemd/system/ir-vm-proof-ready.service "$root/etc/systemd/system/multi-user.target.wants/ir-vm-proof-ready.service"
}

provision_rootfs() {
  local root=$1
  mkdir -p "$root/tmp" "$CACHE_DIR/apt-archives/partial"
  cp "$PROVISIONING_SCRIPT" "$root/tmp/ir-kdump"
  mount -t proc proc "$root/proc"
  # Downloaded .deb files survive between runs: the warm path does not fetch kdump-tools again.
  mount --bind "$CACHE_DIR/apt-archives" "$root/var/cache/apt/archives"
  if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash /tmp/ir-kdump prepare >"$WORK_DIR/provision.log" 2>&1; then
    tail -n 30 "$WORK_DIR/provision.log" >&2
    fail "our provisioning script failed in the chroot (log: $WORK_DIR/provision.log)"
  fi
  umount "$root/var/cache/apt/archives"
  umount "$root/proc"
  rm -f "$root/tmp/ir-kdump" "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/*
}

choose_accelerator() {
  local kernel=$1 choice=${IR_KDUMP_VM_ACCEL:-auto}
  if [[ $choice == auto ]]; then
    choice=tcg
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then
      # /dev/kvm can exist and still not run a normal guest (nested paravirtual KVM: -cpu host aborts,
      # other models hang). Only a kernel that prints its banner counts.
      local probe_log=$WORK_DIR/kvm-probe.log
      timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none -no-reboot \
        -kernel "$kernel" -append "console=ttyS0 panic=-1" -serial "file:$probe_log" >/dev/null 2>&1 || true
      grep -q "Linux version" "$probe_log" 2>/dev/null && choice=kvm
    fi
  fi
  echo "$choice"
}

# Seconds until PATTERN appears in FILE while qemu runs; fails the phase on timeout or early exit.
wait_for_serial() {
  local pattern=$1 timeout_s=$2 deadline
  deadline=$(($(now_ms) + timeout_s * 1000))
  while ! grep -qa -- "$pattern" "$WORK_DIR/serial.log" 2>/dev/null; do
    kill -0 "$QEMU_PID" 2>/dev/null || fail "qemu exited before the console showed '$pattern'"
    (($(now_ms) < deadline)) || fail "no '$pattern' on the console within ${timeout_s}s"
    sleep 0.25
  done
}

monitor() { printf '%s\n' "$1" | socat - "UNIX-CONNECT:$WORK_DIR/monitor.sock" >/dev/null; }

debugfs_list() { debugfs -R "ls -p $1" "$WORK_DIR/disk.img" 2>/dev/null | awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." { print $6 "\t" $7 }'; }

main() {
  START_MS=$(now_ms)
  require_tools

  PHASE=debootstrap
  local tarball cache_state=warm build_start
  tarball=$(base_rootfs_tarball)
  build_start=$(now_ms)
  if [[ ! -s $tarball ]]; then
    cache_state=cold
    build_base_rootfs "$tarball"
  else
    say "cached debootstrap root: $tarball"
  fi
  local debootstrap_s
  debootstrap_s=$(seconds_since "$build_start")

  PHASE=provision
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ir-kdump-vm.XXXXXX")
  local root=$WORK_DIR/rootfs provision_start
  provision_start=$(now_ms)
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  add_vm_scaffolding "$root"
  say "running forensics-ami/scripts/ir-kdump prepare in the chroot"
  provision_rootfs "$root"
  local crashkernel kver
  crashkernel=$(chroot "$root" /usr/local/sbin/ir-kdump crashkernel-param)
  kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
  [[ -n $kver ]] || fail "no kernel in the image"
  [[ -s $root/var/lib/kdump/initrd.img-$kver ]] || fail "provisioning left no capture initrd for $kver"
  grep -q "^MAKEDUMP_ARGS=" "$root/etc/default/kdump-tools" || fail "provisioning did not set MAKEDUMP_ARGS"
  local makedump_args
  makedump_args=$(sed -n 's/^MAKEDUMP_ARGS="\(.*\)"$/\1/p' "$root/etc/default/kdump-tools")
  local provision_s
  provision_s=$(seconds_since "$provision_start")

  PHASE=image
  cp "$root/boot/vmlinuz-$kver" "$WORK_DIR/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$WORK_DIR/initrd.img"
  # Whole-disk ext4 from the tree: no loop mount needed. Room for the dump on the root filesystem.
  local used_mib
  used_mib=$(du -sm "$root" | cut -f1)
  mkfs.ext4 -q -F -L kdump-proof -d "$root" "$WORK_DIR/disk.img" "$((used_mib + MEMORY_MIB + 512))M" ||
    fail "mkfs.ext4 -d failed"
  say "image ready: kernel $kver, crashkernel=$crashkernel, MAKEDUMP_ARGS='$makedump_args'"

  PHASE=boot
  local accel
  accel=$(choose_accelerator "$WORK_DIR/vmlinuz")
  local cpu_args=(-accel tcg -cpu max)
  [[ $accel == kvm ]] && cpu_args=(-accel kvm -cpu host)
  : >"$WORK_DIR/serial.log"
  local boot_start
  boot_start=$(now_ms)
  qemu-system-x86_64 "${cpu_args[@]}" -m "$MEMORY_MIB" -smp 2 -nodefaults -display none -no-reboot \
    -kernel "$WORK_DIR/vmlinuz" -initrd "$WORK_DIR/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 crashkernel=$crashkernel" \
    -drive "file=$WORK_DIR/disk.img,format=raw,if=virtio" \
    -serial "file:$WORK_DIR/serial.log" \
    -monitor "unix:$WORK_DIR/monitor.sock,server=on,wait=off" \
    -qmp "unix:$WORK_DIR/qmp.sock,server=on,wait=off" \
    >"$WORK_DIR/qemu.log" 2>&1 &
  QEMU_PID=$!
  say "qemu started (pid $QEMU_PID, accel $accel, ${MEMORY_MIB} MiB)"
  local tries=0
  until [[ -S $WORK_DIR/qmp.sock ]]; do
    ((tries++ < 100)) || fail "qemu did not open its QMP socket: $(cat "$WORK_DIR/qemu.log")"
    kill -0 "$QEMU_PID" 2>/dev/null || fail "qemu exited at start: $(cat "$WORK_DIR/qemu.log")"
    sleep 0.1
  done
  # QMP tells a power-off ("guest-shutdown") from a reset ("guest-reset"): with -no-reboot both end qemu.
  # A FIFO feeds socat's stdin; this shell holds its write end open so the session stays up until qemu exits.
  mkfifo "$WORK_DIR/qmp.in"
  socat - "UNIX-CONNECT:$WORK_DIR/qmp.sock" <"$WORK_DIR/qmp.in" >"$WORK_DIR/qmp.log" 2>&1 &
  QMP_READER_PID=$!
  exec {qmp_in}>"$WORK_DIR/qmp.in"
  printf '{"execute":"qmp_capabilities"}\n' >&"$qmp_in"

  PHASE=ready
  wait_for_serial "IR-VM-PROOF: kdump-check exit=" "$READY_TIMEOUT"
  local ready_ms
  ready_ms=$(now_ms)
  local check_output
  check_output=$(tr -d '\r' <"$WORK_DIR/serial.log" | grep -aE '^(PASS|FAIL|READY|NOT READY)' || true)
  printf '%s\n' "$check_output" | sed 's/^/    guest> /'
  grep -qa "IR-VM-PROOF: kdump-check exit=0" "$WORK_DIR/serial.log" || fail "ir-kdump check reported NOT READY in the guest"
  say "kdump ready $(seconds_since "$boot_start" "$ready_ms") s after boot"

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

  PHASE=poweroff
  local deadline
  deadline=$(($(now_ms) + 120 * 1000))
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    (($(now_ms) < deadline)) || fail "guest did not power off within 120 s after saving the dump"
    sleep 0.2
  done
  local off_ms
  off_ms=$(now_ms)
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=""
  # socat sees the socket close and exits; the event it last printed is then on disk.
  wait "$QMP_READER_PID" 2>/dev/null || true
  QMP_READER_PID=""
  exec {qmp_in}>&-
  local shutdown_event
  shutdown_event=$(grep -a '"event": *"SHUTDOWN"' "$WORK_DIR/qmp.log" | head -n1 || true)
  [[ -n $shutdown_event ]] || fail "qemu exited without a SHUTDOWN event (crash?): $(cat "$WORK_DIR/qemu.log")"
  [[ $shutdown_event == *'"reason": "guest-shutdown"'* ]] || fail "guest did not power off: $shutdown_event"
  say "guest powered off (QMP: $(grep -o '"reason": "[^"]*"' <<<"$shutdown_event"))"

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
  cache                  $cache_state ($CACHE_DIR)
  accelerator            $accel, ${MEMORY_MIB} MiB guest, Debian $SUITE kernel $kver
  debootstrap root       ${debootstrap_s} s ($cache_state)
  provisioning + image   ${provision_s} s (ir-kdump prepare in chroot)
  boot to kdump ready    $(seconds_since "$boot_start" "$ready_ms") s
  NMI to dump written    $(seconds_since "$nmi_ms" "$dump_ms") s
  NMI to power-off       $(seconds_since "$nmi_ms" "$off_ms") s
  dump                   /var/crash/$stamp_dir/$dump_name, $((dump_bytes / 1048576)) MiB (makedumpfile $makedump_args)
  panic                  $panic_line
  total                  ${total_s} s
EOF
}

main "$@"
