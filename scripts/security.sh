#!/usr/bin/env bash
# The heap-bug probes (tests/security) under every allocator: which bugs each one stops.
# Prints the summary table (per family of bugs) on stdout, writes it with the table of every
# probe to bench/results/security.md, and puts the summary in README.md (between its
# security markers).
#
# Usage: scripts/security.sh [--peers DIR | --no-peers]
#   Columns: glibc, Debian's jemalloc, mimalloc and tcmalloc, every lib*.so in DIR
#   (default ../shared/peers, when it exists), fastpool and fastpool-secure.
# Env: FASTPOOL_BUILD_DIR (default build, a Release build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/deps.sh"
fp_install_missing cmake g++ make doctest-dev libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev

peers=$root/../shared/peers
case ${1:-} in
  --peers) peers=${2:?--peers DIR} ;;
  --no-peers) peers= ;;
  "") ;;
  *) echo "usage: $0 [--peers DIR | --no-peers]" >&2; exit 2 ;;
esac
build=${FASTPOOL_BUILD_DIR:-$root/build}
[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target fastpool_preload fastpool_preload_secure \
  probe_double_free probe_invalid_free probe_overflow probe_use_after_free probe_misc \
  probe_cxx_delete >/dev/null

libdir=/usr/lib/x86_64-linux-gnu
names=(glibc jemalloc mimalloc tcmalloc)
libs=("" "$libdir/libjemalloc.so.2" "$libdir/libmimalloc.so.2" "$libdir/libtcmalloc_minimal.so.4")
if [ -n "$peers" ] && [ -d "$peers" ]; then
  for f in "$peers"/lib*.so; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .so)
    names+=("${n#lib}")
    libs+=("$f")
  done
fi
names+=(fastpool fastpool-secure)
libs+=("$build/preload/libfastpool_preload.so" "$build/preload/libfastpool_preload_secure.so")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in "${!names[@]}"; do
  echo "security: ${names[$i]}" >&2
  bash "$root/tests/security/run.sh" "$build/tests/security" "${libs[$i]}" >"$tmp/$i.txt"
done

out=$root/bench/results/security.md
python3 - "$tmp" "$out" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$root" rev-parse --short HEAD)" \
  "${names[@]}" <<'PY'
import collections, os, sys
tmp, out, date, rev, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
results = []
for i in range(len(names)):
    with open(f"{tmp}/{i}.txt") as f:
        results.append(dict(line.split() for line in f if line.strip()))
probes = list(results[0])
families = collections.OrderedDict()
for p in probes:
    families.setdefault(p.split("/")[0], []).append(p)
head = "| bugs | probes | " + " | ".join(names) + " |\n|---|---:|" + "---:|" * len(names) + "\n"
summary = head
for fam, ps in families.items():
    cells = [str(sum(r[p] == "caught" for p in ps)) for r in results]
    summary += f"| {fam.replace('_', ' ')} | {len(ps)} | " + " | ".join(cells) + " |\n"
totals = [sum(r[p] == "caught" for p in probes) for r in results]
summary += f"| **all** | **{len(probes)}** | " + " | ".join(
    f"**{t}** ({100 * t / len(probes):.0f}%)" for t in totals) + " |\n"
detail = "| probe | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
for p in probes:
    detail += f"| {p} | " + " | ".join("✓" if r[p] == "caught" else "·" for r in results) + " |\n"
text = (f"# Heap bugs caught (scripts/security.sh)\n\n{date}, fastpool {rev}. A probe commits one "
        "bug and goes on using the heap; ✓: the allocator stopped it (abort or fault), ·: the "
        "program ran on.\n\n" + summary + "\n## Every probe\n\n" + detail)
with open(out, "w") as f:
    f.write(text)
# The README's copy sits between its security markers, so its numbers are never typed.
readme = os.path.join(os.path.dirname(os.path.dirname(out)), "..", "README.md")
with open(readme) as f:
    r = f.read()
begin = r.find("<!-- security:begin")
end = r.find("<!-- security:end -->")
if begin >= 0 and end > begin:
    begin = r.index("\n", begin) + 1
    r = r[:begin] + f"{date}, fastpool {rev}, `scripts/security.sh` (every probe: " \
        "bench/results/security.md):\n\n" + summary + r[end:]
    with open(readme, "w") as f:
        f.write(r)
print(summary, end="")
PY
echo "security: wrote $out" >&2
