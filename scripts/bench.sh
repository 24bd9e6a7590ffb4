#!/usr/bin/env bash
# Benchmarks fastpool against glibc, jemalloc, mimalloc and tcmalloc (issue 4).
# Usage: scripts/bench.sh [--quick] [--rounds N] [--only w1,w2] [--no-micro] [--check-targets]
#                         [--peers DIR | --no-peers]
#                         [--allow-missing-fastpool] [--robust-only|--no-robust] (bench/run.py -h)
#   --quick   one round of a short subset (< 2 min); writes bench/results/quick.{md,json,png}
#   default   5 rounds of everything (~12 min);     writes bench/results/latest.{md,json,png}
# The markdown table goes to stdout (paste it into README), progress to stderr.
# Builds in build-bench/ (FASTPOOL_BENCH_BUILD_DIR) so it never races a developer's build/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/deps.sh"
fp_install_missing cmake g++ make python3 libbenchmark-dev libjemalloc-dev libmimalloc-dev \
  libgoogle-perftools-dev python3-matplotlib sqlite3 lua5.4 redis-server redis-tools z3

allow_missing=0
for arg in "$@"; do [ "$arg" = "--allow-missing-fastpool" ] && allow_missing=1; done

build="${FASTPOOL_BENCH_BUILD_DIR:-$root/build-bench}"
jobs="$(nproc)"
echo "bench: building fastpool and the workloads (Release) in $build" >&2
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTPOOL_BUILD_TESTS=OFF \
         -DFASTPOOL_BUILD_BENCH=ON >&2 && cmake --build "$build" -j"$jobs" >&2; }; then
  [ "$allow_missing" = 1 ] || { echo "bench: fastpool build failed" >&2; exit 1; }
  # The core does not build: benchmark the other allocators with a bench-only build.
  echo "bench: fastpool build failed; building the workloads alone" >&2
  build="$build-standalone"
  cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
  cmake --build "$build" -j"$jobs" >&2
fi

# The system python has Debian's matplotlib; a python3 earlier on PATH (pyenv) may not.
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
exec "$py" "$root/bench/run.py" --build-dir "$build" "$@"
