#!/usr/bin/env bash
# Instructions per malloc+free pair, counted by callgrind, for fastpool and the usual
# alternatives (the allocator-core issue's fast-path target: fastpool <= 40 in every cell).
#
# Usage: scripts/fastpath.sh [--check]
#   --check  exit non-zero when a fastpool cell is over the target
# Env: FASTPATH_N (pairs per run, default 100000), FASTPOOL_BUILD_DIR (default build).
#
# Each cell runs bench/fastpath/fastpath.c under valgrind with N and with 2N pairs and
# reports (Ir(2N) - Ir(N)) / N: startup, warm-up and exit cancel out, and what remains is
# one malloc, one free, their calls (PLT jump included) and the loop step — the honest
# per-pair cost a program pays. A second table counts only inside malloc and free
# (--toggle-collect), i.e. without the caller's loop and call instructions.
set -euo pipefail
shopt -s inherit_errexit # a failed valgrind run inside $(...) must stop the script
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/deps.sh"

check=0
[ "${1:-}" = --check ] && check=1
n=${FASTPATH_N:-100000}
target=40
build=${FASTPOOL_BUILD_DIR:-$root/build}
libdir=/usr/lib/x86_64-linux-gnu

fp_install_missing valgrind libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev cmake g++

# fastpool: Release build of the preload library (incremental, so never stale).
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  echo "error: $build is not a Release build; set FASTPOOL_BUILD_DIR" >&2
  exit 1
fi
cmake --build "$build" --target fastpool_preload fastpool_preload_secure -j"$(nproc)" >/dev/null
# The build tree's own copy: tests/package_install holds an older installed one.
fastpool_lib=$build/preload/libfastpool_preload.so
secure_lib=$build/preload/libfastpool_preload_secure.so

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -fno-builtin: the compiler must not treat malloc/free as known and drop the pair.
cc -O2 -fno-builtin -o "$tmp/fastpath" "$root/bench/fastpath/fastpath.c"

# fastpool-secure: what the hardened build's checks cost per pair (no target of its own).
allocators=(fastpool fastpool-secure glibc jemalloc mimalloc tcmalloc)
declare -A preload=(
  [fastpool]=$fastpool_lib [fastpool-secure]=$secure_lib [glibc]=""
  [jemalloc]=$libdir/libjemalloc.so.2 [mimalloc]=$libdir/libmimalloc.so.2
  [tcmalloc]=$libdir/libtcmalloc_minimal.so.4)
cells=("pair 16" "pair 64" "pair 512" "batch 16" "batch 64" "batch 512")

# Total instructions of one callgrind run: LIB MODE SIZE ITERATIONS [valgrind options...]
instructions() {
  local lib=$1 mode=$2 size=$3 iters=$4
  shift 4
  local out="$tmp/callgrind.out"
  env ${lib:+LD_PRELOAD=$lib} valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$@" "$tmp/fastpath" "$mode" "$size" "$iters" >/dev/null 2>"$tmp/valgrind.log" || {
    cat "$tmp/valgrind.log" >&2
    return 1
  }
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

# One decimal place: the difference is exact, but a pair need not cost whole instructions.
# LIB MODE SIZE [valgrind options...]
per_pair() {
  local lib=$1 mode=$2 size=$3 a b
  shift 3
  a=$(instructions "$lib" "$mode" "$size" "$n" "$@")
  b=$(instructions "$lib" "$mode" "$size" $((2 * n)) "$@")
  awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }'
}

table() {
  local title=$1
  shift
  echo "$title"
  echo
  echo "| allocator | pair16 | pair64 | pair512 | batch16 | batch64 | batch512 |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  local a cell v row
  for a in "${allocators[@]}"; do
    row="| $a |"
    for cell in "${cells[@]}"; do
      # shellcheck disable=SC2086 # cell is "mode size"
      v=$(per_pair "${preload[$a]}" $cell "$@")
      row+=" $v |"
      if [ "$a" = fastpool ] && [ $# -eq 0 ] &&
        awk -v v="$v" -v t="$target" 'BEGIN { exit !(v > t) }'; then
        over+=("$cell: $v")
      fi
    done
    echo "$row"
  done
  echo
}

over=()
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
report=$(
  echo "# Instructions per malloc+free pair (callgrind)"
  echo
  echo "$(date -u '+%F %H:%M UTC'), $cpu, $(nproc) cores, $(uname -sr), $(valgrind --version)," \
    "fastpool $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet -- src include || echo '+dirty')."
  echo "Each cell: (Ir(2N) - Ir(N)) / N with N = $n, via scripts/fastpath.sh. Target: fastpool <= $target."
  echo
  table "## Whole pair: malloc + free + their calls + the loop step"
  table "## Inside malloc and free only (--toggle-collect)" --toggle-collect=malloc --toggle-collect=free
  [ ${#over[@]} -eq 0 ] || echo "fastpool over $target: ${over[*]}"
)
echo "$report"
mkdir -p "$root/bench/results"
echo "$report" >"$root/bench/results/fastpath.md"

if [ "$check" = 1 ] && grep -q "^fastpool over" <<<"$report"; then
  echo "FAIL: fastpool is over $target instructions per pair" >&2
  exit 1
fi
