#!/usr/bin/env bash
# Typed-pool speed: (1) callgrind instructions per allocate+release pair of a 64-byte
# object through OwnedHandle (target <= 12 for FixedPool/ThreadLocalPool), measured as
# the difference between two run lengths so setup cancels, with and without the loop's
# own cost; (2) Google Benchmark of the typed pools next to new/delete under glibc,
# jemalloc, mimalloc and tcmalloc (LD_PRELOAD), with the speed-up over the best malloc.
# Usage: scripts/typed_speed.sh [stats=OFF|ON]   (default OFF: the counters' cost is
# reported separately by running with ON)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/deps.sh"
fp_install_missing cmake g++ valgrind libbenchmark-dev libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4
stats="${1:-OFF}"
build="$root/build-typed-speed-$stats"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTPOOL_STATS="$stats" \
  -DFASTPOOL_BUILD_TESTS=OFF -DFASTPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fastpool >/dev/null
defs=""
[ "$stats" = ON ] && defs="-DFASTPOOL_STATS=1"
flags="-std=c++20 -O2 -DNDEBUG $defs -I$root/include"
g++ $flags "$root/bench/typed/pair_count.cpp" "$build/libfastpool.a" -pthread -o "$build/pair_count"
# Checked mode for this translation unit only, over the same library (include/fastpool
# detail/diagnostics.hpp): what the misuse checks cost.
g++ $flags -DFASTPOOL_SECURE=1 "$root/bench/typed/pair_count.cpp" "$build/libfastpool.a" -pthread \
  -o "$build/pair_count_checked"
g++ $flags "$root/bench/typed/overhead.cpp" "$build/libfastpool.a" -pthread -o "$build/overhead"
g++ $flags "$root/bench/typed/typed_pools_bench.cpp" "$build/libfastpool.a" -lbenchmark -pthread \
  -o "$build/bench_typed_pools"

ir() {  # total instructions of one run: ir PROGRAM CASE N
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}
per_pair() {  # per_pair CASE [PROGRAM]
  local prog="${2:-$build/pair_count}"
  echo $(( ($(ir "$prog" "$1" 200000) - $(ir "$prog" "$1" 100000)) / 100000 ))
}
echo "== $(date -u +%Y-%m-%d) on $(uname -m), $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1),"\
  "$(nproc) cores, $(g++ -dumpfullversion) -O2, FASTPOOL_STATS=$stats"
echo "== callgrind: instructions per allocate+release pair (target <= 12)"
echo "   handle: auto h = pool.allocate(x) (pool-typed handle); erased: OwnedHandle<T> h = ...;"
echo "   raw: pool.create(x) + pool.destroy(p). 'without' subtracts the bare loop."
loop=$(per_pair loop)
printf "%-16s %s\n" "loop alone" "$loop"
printf "%-16s %-26s %-26s %-26s %s\n" "pool" "handle (with/without loop)" "erased (with/without)" \
  "raw (with/without)" "checked handle (without)"
for k in fixed thread-local fixed-stack thread-safe lock-free; do
  line=$(printf "%-16s" "$k")
  for mode in "" -erased -raw; do
    "$build/pair_count" "$k$mode" 1 || { echo "pair_count $k$mode: unknown or failed" >&2; exit 1; }
    n=$(per_pair "$k$mode")
    line="$line $(printf "%-26s" "$n / $((n - loop))")"
  done
  echo "$line $(( $(per_pair "$k" "$build/pair_count_checked") - loop ))"
done

echo "== memory overhead, measured (engine bytes for 1000 and 1 001 000 slots; README table)"
"$build/overhead"

echo "== Google Benchmark (median of 5, repetitions interleaved at random, real time; ns per iteration:"
echo "   one pair, or 8, 32 or 64 pairs for bursts; with threads, wall time / all threads' iterations)"
declare -A preload=(
  [glibc]=""
  [jemalloc]="$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)"
  [mimalloc]="$(ls /usr/lib/*/libmimalloc.so.2 2>/dev/null | head -1)"
  [tcmalloc]="$(ls /usr/lib/*/libtcmalloc_minimal.so.4 2>/dev/null | head -1)")
out="$build/results"
mkdir -p "$out"
for m in glibc jemalloc mimalloc tcmalloc; do
  [ "$m" != glibc ] && [ -z "${preload[$m]}" ] && { echo "$m: not installed, skipped"; continue; }
  filter='BM_NewDelete$|BM_Burst32_NewDelete'
  [ "$m" = glibc ] && filter='.'
  LD_PRELOAD="${preload[$m]}" "$build/bench_typed_pools" --benchmark_filter="$filter" \
    --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true \
    --benchmark_format=csv 2>/dev/null | grep '_median' | sed "s/^/$m,/" >"$out/$m.csv"
done
python3 - "$out" <<'PY'
import csv, glob, os, sys
rows = {}
for f in glob.glob(os.path.join(sys.argv[1], "*.csv")):
    for r in csv.reader(open(f)):
        malloc, name, t = r[0], r[1].strip('"').replace("_median", ""), float(r[3])  # real time
        rows[(malloc, name)] = t
best = min((t, m) for (m, n), t in rows.items() if n == "BM_NewDelete")
for (m, n), t in sorted(rows.items()):
    print(f"{m:9} {n:46} {t:8.2f} ns")
print(f"best new/delete: {best[1]} {best[0]:.2f} ns")
def get(n): return rows.get(("glibc", n))
for n in ["BM_FixedPool", "BM_ThreadLocalPool", "BM_FixedPool_Raw"]:
    if get(n): print(f"{n}: {best[0] / get(n):.2f}x faster than the best new/delete (target >= 3x)")
ts, fx = get("BM_ThreadSafePool/real_time/threads:1"), get("BM_FixedPool")
if ts and fx: print(f"ThreadSafePool uncontended / FixedPool: {ts / fx:.2f} (target <= 2)")
lin, exp = get("BM_GrowingChurn_Linear100"), get("BM_GrowingChurn_Exponential2")
if lin and exp:
    print(f"GrowingPool random release+allocate, 1200 chunks: linear(100) {lin:.1f} ns,"
          f" exponential(2) {exp:.1f} ns (ratio {lin / exp:.2f})")
fa, pmr = get("BM_Frame_FrameArena"), get("BM_Frame_PmrMonotonic")
if fa and pmr:
    print(f"Frame of 64 x 32 B: FrameArena {fa / 64:.2f} ns/object, pmr::monotonic_buffer_resource"
          f" {pmr / 64:.2f} ns/object ({pmr / fa:.2f}x)")
# LockFreePool vs ThreadSafePool, same pattern and thread count, same run: ts/lf > 1
# means LockFreePool is faster.
print("LockFreePool vs ThreadSafePool (same run; ratio > 1: LockFreePool faster; target: faster at 2 threads)")
for label, pattern in [("pairs", "BM_{}"), ("burst 8", "BM_Burst8_{}"), ("burst 64", "BM_Burst64_{}")]:
    for threads in [1, 2, 8]:
        suffix = f"/real_time/threads:{threads}"
        lf, ts = get(pattern.format("LockFreePool") + suffix), get(pattern.format("ThreadSafePool") + suffix)
        if lf and ts:
            print(f"  {label:9} {threads} thread{'s' if threads > 1 else ' '}: LockFreePool {lf:8.2f} ns"
                  f"  ThreadSafePool {ts:8.2f} ns  ratio {ts / lf:5.2f}")
PY
