#!/usr/bin/env bash
# Shared by the VM proofs (sourced, not run): the cached Debian root, chroot provisioning, qemu with a serial
# console, monitor and QMP, timings, and failures that name their phase. Needs root.
# IR_KDUMP_VM_ARCH picks the guest: amd64 (default) or arm64 (emulated: qemu-user-static runs the arm64
# chroot, qemu-system-aarch64 -M virt the VM).
# shellcheck disable=SC2034 # variables here are read by the proofs that source this file

VM_PROOF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$VM_PROOF_DIR/../.." && pwd)
readonly VM_PROOF_DIR REPO_DIR
readonly CACHE_DIR=${IR_KDUMP_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/ec2-ir-kdump-vm}
readonly SUITE=bookworm
readonly MEMORY_MIB=${IR_KDUMP_VM_MEMORY_MIB:-2048}
readonly ARCH=${IR_KDUMP_VM_ARCH:-amd64}
case $ARCH in
amd64)
  readonly QEMU_SYSTEM=qemu-system-x86_64 CONSOLE=ttyS0 QEMU_MACHINE=() TCG_CPU=max
  ;;
arm64)
  # pauth-impdef: QEMU's own pointer-authentication hash; the architected one makes TCG several times slower.
  readonly QEMU_SYSTEM=qemu-system-aarch64 CONSOLE=ttyAMA0 QEMU_MACHINE=(-machine virt) TCG_CPU=max,pauth-impdef=on
  ;;
*)
  echo "IR_KDUMP_VM_ARCH must be amd64 or arm64, got '$ARCH'" >&2
  exit 1
  ;;
esac
# What the base root holds before our scripts run. kdump-tools and the forensic tools are NOT here: our
# scripts install them.
readonly BASE_PACKAGES=systemd-sysv,linux-image-$ARCH,udev,procps,initramfs-tools,kmod
readonly CACHE_FORMAT=1

PHASE=prerequisites
WORK_DIR=""
QEMU_PID=""
QMP_READER_PID=""
START_MS=0
CACHE_STATE=warm
DEBOOTSTRAP_S=0
ACCEL=""

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
  printf '\n%s: FAILED in phase "%s": %s\n' "${PROOF_NAME:-VM proof}" "$PHASE" "$*" >&2
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
      # The root tree is large and rebuilt every run; keep only logs and disk images.
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
  for tool in debootstrap "$QEMU_SYSTEM" mkfs.ext4 debugfs socat; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || fail "missing tools: ${missing[*]} (apt-get install debootstrap qemu-system-x86 qemu-system-arm e2fsprogs socat)"
  if ! foreign_arch; then return 0; fi
  # The chroot runs foreign binaries through binfmt_misc and qemu-user-static (its "F" flag: no copy needed).
  [[ -e /proc/sys/fs/binfmt_misc/register ]] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
    fail "binfmt_misc is not available"
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 ||
    fail "cannot run arm64 binaries (apt-get install qemu-user-static binfmt-support)"
}

foreign_arch() { [[ $ARCH != "$(dpkg --print-architecture)" ]]; }

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
  local tarball=$1 staging mirror
  mkdir -p "$CACHE_DIR"
  # Leftovers of an interrupted debootstrap are never reused (the tarball is only renamed into place whole).
  rm -rf "$CACHE_DIR"/debootstrap.??????
  staging=$(mktemp -d "$CACHE_DIR/debootstrap.XXXXXX")
  mirror=$(debian_mirror)
  say "debootstrap $SUITE from $mirror (cold cache)"
  if ! debootstrap --arch="$ARCH" --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$staging" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1; then
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

# prepare_work_root : WORK_DIR with a fresh copy of the cached root in WORK_DIR/rootfs (debootstrap when the
# cache is empty), plus what a VM needs that an EC2 AMI already has. Sets CACHE_STATE and DEBOOTSTRAP_S.
prepare_work_root() {
  PHASE=debootstrap
  local tarball build_start
  tarball=$(base_rootfs_tarball)
  build_start=$(now_ms)
  if [[ ! -s $tarball ]]; then
    CACHE_STATE=cold
    build_base_rootfs "$tarball"
  else
    say "cached debootstrap root: $tarball"
  fi
  DEBOOTSTRAP_S=$(seconds_since "$build_start")

  PHASE=provision
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ir-kdump-vm.XXXXXX")
  local root=$WORK_DIR/rootfs
  mkdir -p "$root"
  tar -C "$root" -xf "$tarball"
  echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
  echo "ir-vm-proof" >"$root/etc/hostname"
  # Keep package scripts from starting services in the chroot (kdump-tools would try to load a capture
  # kernel into the HOST kernel).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  # No login prompt on the serial console: agetty's vhangup() would cut off the harness units' output there.
  ln -sfn /dev/null "$root/etc/systemd/system/serial-getty@$CONSOLE.service"
  # Emulated, a rebuild of the boot initrd (which packages trigger) takes about 12 min; the cached one boots
  # the VM, and nothing our scripts install belongs in it (the capture initrd is built apart). Undone after.
  if foreign_arch; then sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$root/etc/initramfs-tools/update-initramfs.conf"; fi
}

# run_in_chroot LOG COMMAND... : runs COMMAND in WORK_DIR/rootfs with /proc and the cached apt archives.
run_in_chroot() {
  local log=$1 root=$WORK_DIR/rootfs status=0
  shift
  mkdir -p "$CACHE_DIR/apt-archives/partial"
  mount -t proc proc "$root/proc"
  # Downloaded .deb files survive between runs: the warm path does not fetch packages again.
  mount --bind "$CACHE_DIR/apt-archives" "$root/var/cache/apt/archives"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@" >"$log" 2>&1 || status=$?
  umount "$root/var/cache/apt/archives"
  umount "$root/proc"
  return "$status"
}

finish_rootfs() {
  sed -i 's/^update_initramfs=no$/update_initramfs=yes/' "$WORK_DIR/rootfs/etc/initramfs-tools/update-initramfs.conf"
  rm -f "$WORK_DIR/rootfs/usr/sbin/policy-rc.d"
  rm -rf "$WORK_DIR"/rootfs/var/lib/apt/lists/*
}

# install_console_unit NAME AFTER_UNITS COMMAND : a oneshot unit in multi-user.target that runs COMMAND with
# its output on the serial console (the harness reads results from there).
install_console_unit() {
  local name=$1 after=$2 command=$3 root=$WORK_DIR/rootfs
  cat >"$root/etc/systemd/system/$name.service" <<EOF
[Unit]
Description=VM proof harness: $name
After=$after
Wants=$after

[Service]
Type=oneshot
ExecStart=/bin/sh -c '{ $command; } >/dev/$CONSOLE 2>&1'

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
  ln -sfn "/etc/systemd/system/$name.service" "$root/etc/systemd/system/multi-user.target.wants/$name.service"
}

# make_boot_disk : kernel, initrd and a whole-disk ext4 image of the root (no loop mount), with EXTRA_MIB free.
make_boot_disk() {
  local extra_mib=$1 root=$WORK_DIR/rootfs kver used_mib
  PHASE=image
  kver=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
  [[ -n $kver ]] || fail "no kernel in the image"
  KERNEL_VERSION=$kver
  cp "$root/boot/vmlinuz-$kver" "$WORK_DIR/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$WORK_DIR/initrd.img"
  used_mib=$(du -sm "$root" | cut -f1)
  mkfs.ext4 -q -F -L ir-vm-proof -d "$root" "$WORK_DIR/disk.img" "$((used_mib + extra_mib))M" >/dev/null || fail "mkfs.ext4 -d failed"
}

choose_accelerator() {
  local kernel=$1 choice=${IR_KDUMP_VM_ACCEL:-auto}
  if [[ $choice == auto ]]; then
    choice=tcg
    if [[ -r /dev/kvm && -w /dev/kvm ]] && ! foreign_arch; then
      # /dev/kvm can exist and still not run a normal guest (nested paravirtual KVM: -cpu host aborts,
      # other models hang). Only a kernel that prints its banner counts.
      local probe_log=$WORK_DIR/kvm-probe.log
      timeout 15 "$QEMU_SYSTEM" "${QEMU_MACHINE[@]}" -accel kvm -cpu host -m 256 -nodefaults -display none -no-reboot \
        -kernel "$kernel" -append "console=$CONSOLE panic=-1" -serial "file:$probe_log" >/dev/null 2>&1 || true
      grep -q "Linux version" "$probe_log" 2>/dev/null && choice=kvm
    fi
  fi
  echo "$choice"
}

# start_qemu APPEND [EXTRA_QEMU_ARGS...] : boots WORK_DIR/disk.img with a serial log, an HMP monitor and a
# QMP session recording events. Sets ACCEL, QEMU_PID, BOOT_MS. GUEST_MEMORY_MIB overrides MEMORY_MIB for one VM.
start_qemu() {
  local append=$1
  shift
  PHASE=boot
  ACCEL=$(choose_accelerator "$WORK_DIR/vmlinuz")
  local cpu_args=(-accel tcg -cpu "$TCG_CPU")
  [[ $ACCEL == kvm ]] && cpu_args=(-accel kvm -cpu host)
  : >"$WORK_DIR/serial.log"
  BOOT_MS=$(now_ms)
  "$QEMU_SYSTEM" "${QEMU_MACHINE[@]}" "${cpu_args[@]}" -m "${GUEST_MEMORY_MIB:-$MEMORY_MIB}" -smp 2 -nodefaults -display none -no-reboot \
    -kernel "$WORK_DIR/vmlinuz" -initrd "$WORK_DIR/initrd.img" -append "$append" \
    -drive "file=$WORK_DIR/disk.img,format=raw,if=virtio" "$@" \
    -serial "file:$WORK_DIR/serial.log" \
    -monitor "unix:$WORK_DIR/monitor.sock,server=on,wait=off" \
    -qmp "unix:$WORK_DIR/qmp.sock,server=on,wait=off" \
    >"$WORK_DIR/qemu.log" 2>&1 &
  QEMU_PID=$!
  say "qemu started (pid $QEMU_PID, accel $ACCEL, ${GUEST_MEMORY_MIB:-$MEMORY_MIB} MiB)"
  local tries=0
  until [[ -S $WORK_DIR/qmp.sock ]]; do
    ((tries++ < 100)) || fail "qemu did not open its QMP socket: $(cat "$WORK_DIR/qemu.log")"
    kill -0 "$QEMU_PID" 2>/dev/null || fail "qemu exited at start: $(cat "$WORK_DIR/qemu.log")"
    sleep 0.1
  done
  # QMP tells a power-off ("guest-shutdown") from a reset ("guest-reset"): with -no-reboot both end qemu.
  # A FIFO feeds socat's stdin; this shell holds its write end open so the session lasts until qemu exits.
  mkfifo "$WORK_DIR/qmp.in"
  socat - "UNIX-CONNECT:$WORK_DIR/qmp.sock" <"$WORK_DIR/qmp.in" >"$WORK_DIR/qmp.log" 2>&1 &
  QMP_READER_PID=$!
  exec {QMP_IN}>"$WORK_DIR/qmp.in"
  printf '{"execute":"qmp_capabilities"}\n' >&"$QMP_IN"
}

# Waits until PATTERN appears in the serial log while qemu runs; fails the phase on timeout or early exit.
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

# wait_for_poweroff TIMEOUT : qemu must exit, and QMP must say the guest powered itself off. Sets OFF_MS.
wait_for_poweroff() {
  local timeout_s=$1 deadline
  PHASE=poweroff
  deadline=$(($(now_ms) + timeout_s * 1000))
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    (($(now_ms) < deadline)) || fail "guest did not power off within ${timeout_s}s"
    sleep 0.2
  done
  OFF_MS=$(now_ms)
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=""
  # socat sees the socket close and exits; the event it last printed is then on disk.
  wait "$QMP_READER_PID" 2>/dev/null || true
  QMP_READER_PID=""
  exec {QMP_IN}>&-
  local shutdown_event
  shutdown_event=$(grep -a '"event": *"SHUTDOWN"' "$WORK_DIR/qmp.log" | head -n1 || true)
  [[ -n $shutdown_event ]] || fail "qemu exited without a SHUTDOWN event (crash?): $(cat "$WORK_DIR/qemu.log")"
  [[ $shutdown_event == *'"reason": "guest-shutdown"'* ]] || fail "guest did not power off: $shutdown_event"
  say "guest powered off (QMP: $(grep -o '"reason": "[^"]*"' <<<"$shutdown_event"))"
}
