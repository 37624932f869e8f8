#!/usr/bin/env bash
# Instructions per call of each overhead variant, counted by callgrind: a noise-free
# second opinion next to the timings of `cargo bench --bench overhead`.
#   benches/callgrind.sh [variant ...]
# With --requests, instructions per request through actix-web's service stack of each
# variant of `benches/middleware.rs`, for paths served before and paths new each time:
#   benches/callgrind.sh --requests [variant ...]
# With --axum, the same through an axum Router, for the variants of `benches/axum.rs`:
#   benches/callgrind.sh --axum [variant ...]
# With --grpc, through tonic's server stack, for the variants of `benches/grpc.rs`
# (cargo feature `grpc`): per unary RPC, and per streamed message, (I(RPCs of 100
# replies) − I(RPCs of 1)) / (99 × RPCs), replies packed into one data frame or a frame each:
#   benches/callgrind.sh --grpc [variant ...]
# With --facade, per operation through the `metrics` facade, our recorder against
# metrics-exporter-prometheus', for the variants of `examples/callgrind_facade.rs`:
#   benches/callgrind.sh --facade [variant ...]
# Counts only inside the example's measured loop (after a first call has done the
# first-use work), for N and 2N calls, and prints (I(2N) − I(N)) / N.
# Needs valgrind (Debian package `valgrind`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
N=${CALLS:-20000}
example=callgrind
if [ "${1:-}" = --requests ]; then
  shift
  example=callgrind_request
  N=${CALLS:-5000}
elif [ "${1:-}" = --axum ]; then
  shift
  example=callgrind_axum
  N=${CALLS:-5000}
elif [ "${1:-}" = --facade ]; then
  shift
  example=callgrind_facade
elif [ "${1:-}" = --grpc ]; then
  shift
  example=callgrind_grpc
  N=${CALLS:-5000}
  CALLGRIND_FEATURES="grpc${CALLGRIND_FEATURES:+,$CALLGRIND_FEATURES}"
fi
variants=("$@")
if ((${#variants[@]} == 0)); then
  if [ "$example" = callgrind ]; then
    variants=(bare naive cached tracked autometrics bare-async naive-async cached-async tracked-async autometrics-async)
  elif [ "$example" = callgrind_request ]; then
    variants=(bare attribute middleware middleware+attribute actix-web-prom)
  elif [ "$example" = callgrind_grpc ]; then
    variants=(bare layer tonic-prometheus-layer)
  elif [ "$example" = callgrind_facade ]; then
    variants=(counter-ours counter-theirs histogram-ours histogram-theirs histogram-theirs-summary
      histogram+drain-theirs histogram+drain-theirs-summary macro-counter-ours macro-counter-theirs
      macro-histogram-ours macro-histogram-theirs)
  else
    variants=(bare attribute layer layer+attribute axum-prometheus)
  fi
fi
# CALLGRIND_FEATURES: cargo features of metrics-benches (e.g. `opentelemetry`).
cargo build --release -q -p metrics-benches --example "$example" ${CALLGRIND_FEATURES:+--features "$CALLGRIND_FEATURES"}
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/examples/$example"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # variant calls [paths] -> total instructions
  valgrind --tool=callgrind --toggle-collect='*measured_loop*' \
    --callgrind-out-file="$tmp/out" "$bin" "$@" >/dev/null 2>"$tmp/err"
  sed -n 's/^summary: \([0-9]*\).*/\1/p' "$tmp/out"
}
per() { # variant [paths] -> instructions per call
  local a b
  a=$(count "$1" "$N" "${@:2}"); b=$(count "$1" $((2 * N)) "${@:2}")
  python3 -c "print(f'{($b - $a) / $N:.1f}')"
}
if [ "$example" = callgrind ] || [ "$example" = callgrind_facade ]; then
  printf '%-30s %s\n' variant "instructions per call"
  for v in "${variants[@]}"; do
    printf '%-30s %s\n' "$v" "$(per "$v")"
  done
elif [ "$example" = callgrind_grpc ]; then
  M=$((N / 10)) # RPCs of each stream
  per_message() { # variant framing -> instructions per streamed message
    local a b
    a=$(count "$1" "$M" "stream-1-$2"); b=$(count "$1" "$M" "stream-100-$2")
    python3 -c "print(f'{($b - $a) / (99 * $M):.1f}')"
  }
  printf '%-24s %16s %24s %24s\n' variant "per unary RPC" "per message, packed" "per message, own frame"
  for v in "${variants[@]}"; do
    printf '%-24s %16s %24s %24s\n' "$v" "$(per "$v" unary)" "$(per_message "$v" packed)" "$(per_message "$v" frames)"
  done
else
  printf '%-22s %22s %22s\n' variant "per request, seen" "per request, new path"
  for v in "${variants[@]}"; do
    printf '%-22s %22s %22s\n' "$v" "$(per "$v" seen)" "$(per "$v" new)"
  done
fi
