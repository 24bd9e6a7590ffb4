#!/usr/bin/env bash
# Long and sanitizer runs of the typed pools: builds build-asan (address+undefined) and
# build-tsan (thread) trees with the typed tests compiled under the sanitizer, runs the
# ctest labels `sanitize` and `stress` there, and `stress` in the Release tree.
# Usage: scripts/stress.sh [asan|tsan|release ...]   (default: all three)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/deps.sh"
fp_install_missing cmake g++ doctest-dev
jobs="$(nproc)"
[ $# -eq 0 ] && set -- asan tsan release
for what in "$@"; do
  case "$what" in
    asan) build="$root/build-asan"; san="address,undefined" ;;
    tsan) build="$root/build-tsan"; san="thread" ;;
    release) build="$root/build"; san="" ;;
    *) echo "unknown: $what" >&2; exit 2 ;;
  esac
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTPOOL_BUILD_BENCH=OFF \
    -DFASTPOOL_TYPED_SANITIZER="$san" >/dev/null
  cmake --build "$build" -j"$jobs" --target typed_tests
  echo "== $what"
  (cd "$build" && ctest --output-on-failure -L "${san:+sanitize|}stress" -R typed)
done
