#!/usr/bin/env bash
# Sourced by kdump-vm-proof.sh (and by its tests): reads the dump's timings out of the capture kernel's console
# and turns them into throughput figures. Pure functions: no qemu, no root.
#
# The times come from the capture kernel's own clock: kdump-config logs "running makedumpfile ... |
# compress > .../dump-incomplete" just before makedumpfile starts, makedumpfile prints "makedumpfile
# Completed." when it has written the last page, and `ir-kdump save-dump` logs "dump saved" after its sync. The
# journal forwards each line to the console with the kernel's timestamp ("[   20.592220] ir-kdump[266]: ..."),
# so the differences are measured in the guest, not by the harness polling the serial log.

# capture_times SERIAL_LOG -> "START COMPLETED SAVED": capture-kernel seconds at makedumpfile's start, at its
# "Completed." and at "dump saved" (after sync). Fails, naming the missing line, when one is absent.
capture_times() {
  local log=$1 times
  [[ -r $log ]] || {
    echo "no console log at $log" >&2
    return 1
  }
  times=$(tr -d '\r' <"$log" | awk '
    function stamp(line) { return match(line, /^\[ *[0-9]+\.[0-9]+\]/) ? substr(line, RSTART + 1, RLENGTH - 2) : "" }
    /running makedumpfile .*dump-incomplete/ { start = stamp($0); completed = ""; saved = ""; next }
    start != "" && completed == "" && /makedumpfile Completed\./ { completed = stamp($0) }
    start != "" && saved == "" && /ir-kdump: dump saved/ { saved = stamp($0) }
    function shown(value) { return value == "" ? "-" : value }
    END { printf "%s %s %s\n", shown(start), shown(completed), shown(saved) }
  ')
  local start completed saved
  read -r start completed saved <<<"$times"
  [[ $start != - ]] || {
    echo "the console shows no timestamped 'running makedumpfile ... dump-incomplete' line (kdump-config's start of the dump)" >&2
    return 1
  }
  [[ $completed != - ]] || {
    echo "the console shows no timestamped 'makedumpfile Completed.' after the dump started" >&2
    return 1
  }
  [[ $saved != - ]] || {
    echo "the console shows no timestamped 'ir-kdump: dump saved' after the dump started" >&2
    return 1
  }
  printf '%s %s %s\n' "$start" "$completed" "$saved"
}

# dump_settings MAKEDUMP_ARGS -> "LEVEL COMPRESSION" as makedumpfile reads them ("-l -d 17" -> "17 lzo").
dump_settings() {
  local args=$1 level="" compression=none word previous=""
  for word in $args; do
    case $word in
    -l) compression=lzo ;;
    -c) compression=zlib ;;
    -p) compression=snappy ;;
    -z) compression=zstd ;;
    esac
    [[ $previous == -d ]] && level=$word
    previous=$word
  done
  [[ $level =~ ^[0-9]+$ ]] || {
    echo "no dump level (-d N) in MAKEDUMP_ARGS '$args'" >&2
    return 1
  }
  printf '%s %s\n' "$level" "$compression"
}

# throughput_json KEY=VALUE... -> one JSON object. Values that are numbers stay numbers, others become strings
# (the values here are our own: no quotes or backslashes to escape, which is checked).
throughput_json() {
  local pair key value out=""
  for pair in "$@"; do
    key=${pair%%=*}
    value=${pair#*=}
    [[ $key =~ ^[A-Za-z][A-Za-z0-9]*$ && $value != *[\"\\]* ]] || {
      echo "throughput_json: bad pair '$pair'" >&2
      return 1
    }
    if [[ $value =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
      out+="${out:+,}\"$key\":$value"
    else
      out+="${out:+,}\"$key\":\"$value\""
    fi
  done
  printf '{%s}\n' "$out"
}

# divide A B [DECIMALS] -> A / B rounded; fails when B is not positive (awk: bash has no floating point).
divide() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b <= 0) exit 1; printf "%.*f\n", d, a / b }'; }

# difference A B [FACTOR] -> (B - A) x FACTOR with two decimals.
difference() { awk -v a="$1" -v b="$2" -v f="${3:-1}" 'BEGIN { printf "%.2f\n", (b - a) * f }'; }

# changed_bytes OLD NEW BLOCK -> the bytes of NEW, counted in BLOCK-sized blocks, that differ from OLD: what a
# later EBS snapshot adds to an earlier one of the same volume (EBS stores a snapshot's changed 512 KiB blocks).
changed_bytes() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
block = int(sys.argv[3])
changed = 0
with open(sys.argv[1], "rb") as old, open(sys.argv[2], "rb") as new:
    while True:
        a, b = old.read(block), new.read(block)
        if not a and not b:
            break
        changed += a != b
print(changed * block)
PY
}
