#!/usr/bin/env bash
# Long and sanitizer runs. asan/tsan: build-asan (address+undefined) and build-tsan
# (thread) trees with the typed tests compiled under the sanitizer, ctest labels
# `sanitize` and `stress` there; release: the typed pools' `stress` tests; core: the
# allocator's stress tests (linked in, preloaded, checked) and the long integration runs.
# Usage: scripts/stress.sh [asan|tsan|release|core ...]   (default: all four)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/deps.sh"
fp_install_missing cmake g++ doctest-dev
jobs="$(nproc)"
[ $# -eq 0 ] && set -- asan tsan release core
for what in "$@"; do
  case "$what" in
    asan) build="$root/build-asan"; san="address,undefined" ;;
    tsan) build="$root/build-tsan"; san="thread" ;;
    release) build="$root/build"; san="" ;;
    core)
      cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$root/build" -j"$jobs"
      echo "== core"
      (cd "$root/build" && ctest --output-on-failure -L stress -R 'stress_core|integration')
      continue ;;
    *) echo "unknown: $what" >&2; exit 2 ;;
  esac
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTPOOL_BUILD_BENCH=OFF \
    -DFASTPOOL_TYPED_SANITIZER="$san" >/dev/null
  targets=(typed_tests)
  [ "$what" = asan ] && targets+=(typed_asan_probe)  # its probes expect ASan's reports
  cmake --build "$build" -j"$jobs" --target "${targets[@]}"
  echo "== $what"
  (cd "$build" && ctest --output-on-failure -L "${san:+sanitize|}stress" -R typed)
done
