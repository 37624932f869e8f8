#!/usr/bin/env bash
# Instructions per call of each overhead variant, counted by callgrind: a noise-free
# second opinion next to the timings of `cargo bench --bench overhead`.
#   benches/callgrind.sh [variant ...]
# Counts only inside the example's measured loop (after a first call has done the
# first-use work), for N and 2N calls, and prints (I(2N) − I(N)) / N.
# Needs valgrind (Debian package `valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
N=${CALLS:-20000}
variants=("$@")
((${#variants[@]})) || variants=(bare naive cached tracked autometrics bare-async naive-async cached-async tracked-async autometrics-async)
cargo build --release -q -p metrics-benches --example callgrind
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/examples/callgrind"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # variant calls -> total instructions
  valgrind --tool=callgrind --toggle-collect='*measured_loop*' \
    --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/err"
  sed -n 's/^summary: \([0-9]*\).*/\1/p' "$tmp/out"
}
printf '%-20s %s\n' variant "instructions per call"
for v in "${variants[@]}"; do
  a=$(count "$v" "$N"); b=$(count "$v" $((2 * N)))
  printf '%-20s %s\n' "$v" "$(python3 -c "print(f'{($b - $a) / $N:.1f}')")"
done
