#!/usr/bin/env bash
# Wall-clock timing of the binary for the speed targets of the book's "Performance" page.
# Usage: bench/timing.sh [RUNS]   (builds the release binary first)
# Prints min / median / max in milliseconds per case. No assertions: the figures go in the
# book; timed assertions in tests would be flaky on a loaded machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
# Runs already made on the folder of the "after many runs" case (issue 11: the log).
history=${HISTORY:-500}
cargo build --release --quiet
bin=${HASCRIPT_BIN:-${CARGO_TARGET_DIR:-target}/release/hascript}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'let n = cluster.nodes();\nprint(n.len());\n' > "$tmp/trivial.rhai"
printf 'let a = [];\nfor i in 0..1000000 { a.push(i); }\nprint(a.len());\n' > "$tmp/push.rhai"

measure() {
  local name=$1 expect=$2; shift 2
  local times=() code
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N)
    set +e; "$@" >/dev/null 2>&1; code=$?; set -e
    t1=$(date +%s%N)
    if [ "$code" != "$expect" ]; then echo "$name: exit $code, expected $expect" >&2; exit 1; fi
    times+=($(( (t1 - t0) / 1000 )))
  done
  IFS=$'\n' sorted=($(sort -n <<<"${times[*]}")); unset IFS
  local n=${#sorted[@]}
  awk -v name="$name" -v a="${sorted[0]}" -v m="${sorted[$((n/2))]}" -v z="${sorted[$((n-1))]}" -v n="$n" \
    'BEGIN { printf "%-62s min %6.1f ms  median %6.1f ms  max %6.1f ms  (%d runs)\n", name, a/1000, m/1000, z/1000, n }'
}

measure "trivial script, --sim ldoms" 0 $bin run "$tmp/trivial.rhai" --sim ldoms
measure "ldoms/live-migration, default site" 0 \
  $bin run ldoms/live-migration --sim -p guest=guest2 -p target=cd3
measure "ldoms/live-migration, default site, --sim-state folder" 0 \
  bash -c "rm -rf $tmp/st && $bin run ldoms/live-migration --sim --sim-state $tmp/st -p guest=guest2 -p target=cd3"
measure "ldoms/live-migration, aborted, guest stopped (600 s virtual)" 1 \
  $bin run ldoms/live-migration --sim ldoms/migration-aborted-guest-stopped -p guest=guest2 -p target=cd3
measure "hpvm/move-package, default site" 0 \
  $bin run hpvm/move-package --sim -p package=slvm1 -p target=node2
measure "hpvm/deploy-package slvm2 (cmdeployvpkg, apply, run)" 0 \
  $bin run hpvm/deploy-package --sim -p package=slvm2 --yes

# The same folder after $history live migrations back and forth (each measured run works
# on a fresh copy of it: the copy is part of the figure).
# HISTORY_DIR: such a folder made before (by the same binary), instead of making it here.
if [ -n "${HISTORY_DIR:-}" ]; then
  cp -r "$HISTORY_DIR" "$tmp/hist"
else
  for i in $(seq "$history"); do
    if [ $((i % 2)) = 1 ]; then t=cd3; else t=cd2; fi
    $bin run ldoms/live-migration --sim --sim-state "$tmp/hist" -p guest=guest2 -p target=$t >/dev/null 2>&1
  done
fi
if [ $((history % 2)) = 1 ]; then t=cd2; else t=cd3; fi
echo "folder after $history runs: $(du -sk "$tmp/hist" | cut -f1) KiB" >&2
measure "ldoms/live-migration, --sim-state folder after $history runs (+ copying it)" 0 \
  bash -c "rm -rf $tmp/c && cp -r $tmp/hist $tmp/c && $bin run ldoms/live-migration --sim --sim-state $tmp/c -p guest=guest2 -p target=$t"
measure "a million pushes (an array grown in a loop), --sim ldoms" 0 $bin run "$tmp/push.rhai" --sim ldoms
