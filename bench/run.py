#!/usr/bin/env python3
"""Runs the benchmark suite under every allocator and writes the results.

Rounds alternate allocators run by run (A B C D E, A B C D E, ...) so that drift in the
machine's speed spreads over all allocators. Prints the markdown to stdout, progress to
stderr, and writes <out>/latest.{md,json,png} (or quick.* for --quick). Exit status: 0; 1
when a run failed (crash, corruption, timeout); 3 with --check-targets when fastpool misses a
target. Normally called by scripts/bench.sh, which installs the dependencies and builds first.
"""
import argparse
import json
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import allocators as alloc_mod  # noqa: E402
from harness import chart, machine, measure, micro, report, targets, workloads  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round of a short subset")
    p.add_argument("--rounds", type=int, help="rounds (default 5, --quick 1)")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                   help="build tree holding bench/bench_* (default build/)")
    p.add_argument("--fastpool-preload",
                   help="default: <build-dir>/preload/libfastpool_preload.so")
    p.add_argument("--allow-missing-fastpool", action="store_true",
                   help="run the other allocators when the fastpool library is not built")
    p.add_argument("--only", help="comma-separated workload names (macro); 'none' skips macro")
    p.add_argument("--no-micro", action="store_true", help="skip the Google Benchmark cases")
    p.add_argument("--out-dir", default=os.path.join(BENCH_DIR, "results"))
    p.add_argument("--check-targets", action="store_true",
                   help="exit 3 when fastpool misses a target of issue 4")
    p.add_argument("--timeout", type=float, default=300, help="seconds per run before SIGKILL")
    return p.parse_args()


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def repro(argv, env_extra, allocator):
    env = dict(env_extra)
    if allocator.preload:
        env["LD_PRELOAD"] = allocator.preload
    return " ".join([f"{k}={shlex.quote(v)}" for k, v in env.items()] + [shlex.quote(a) for a in argv])


def clean_env(extra=None):
    """The workload environment: ours, minus any LD_PRELOAD (bench_launch sets the one tested)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env.update(extra or {})
    return env


def run_macro(launcher, selected, allocs, rounds, timeout, failures):
    results = {w.name: {a.name: [] for a in allocs if not a.missing} for w in selected}
    frag = {}
    total = rounds * len(selected) * sum(1 for a in allocs if not a.missing)
    done, start = 0, time.monotonic()
    for rnd in range(1, rounds + 1):
        for w in selected:
            for a in allocs:
                if a.missing:
                    continue
                r = measure.run(launcher, w.argv, clean_env(w.env), a.preload, timeout)
                results[w.name][a.name].append(r)
                done += 1
                elapsed = time.monotonic() - start
                eta = elapsed / done * (total - done)
                status = (f"{report.fmt_time(r.wall_s)}  {report.fmt_bytes(r.peak_rss_bytes)}"
                          if r.ok else r.failure())
                progress(f"[round {rnd}/{rounds}] {w.name:<17} {a.name:<9} {status:<22} "
                         f"({done}/{total}, ~{eta:.0f} s left)")
                if not r.ok:
                    failures.append((w.name, a, r, repro(w.argv, w.env, a)))
                elif w.name == "fragmentation":
                    sample = workloads.parse_fragmentation(r.stdout)
                    sample["peak_rss_bytes"] = r.peak_rss_bytes
                    frag.setdefault(a.name, []).append(sample)
    return results, frag


def run_micro(launcher, binary, allocs, quick, timeout, failures):
    found = {}
    for a in allocs:
        if a.missing:
            continue
        progress(f"[micro] {a.name} ...")
        cases, r = micro.run(launcher, binary, a, clean_env(), 0.05 if quick else 0.2,
                             1 if quick else 3, timeout)
        if not r.ok:
            failures.append(("micro", a, r, repro([binary], {}, a)))
            progress(f"[micro] {a.name}: {r.failure()}")
        found[a.name] = cases
    return found


def failure_section(failures):
    if not failures:
        return ""
    lines = ["", "### Failures", ""]
    for name, a, r, cmd in failures:
        tail = (r.stderr.strip().splitlines() or [""])[-1][:200]
        lines.append(f"- {name} under {a.name}: {r.failure()} — `{cmd}`"
                     + (f" — stderr: `{tail}`" if tail else ""))
    return "\n".join(lines)


README_BEGIN = "<!-- bench:latest:begin (written by scripts/bench.sh) -->"
README_END = "<!-- bench:latest:end -->"


def update_readme(text):
    """Puts a full run's tables between the README's markers, so its numbers are never typed."""
    path = os.path.join(ROOT, "README.md")
    try:
        with open(path) as f:
            readme = f.read()
    except OSError:
        return
    begin, end = readme.find(README_BEGIN), readme.find(README_END)
    if begin < 0 or end < begin:
        return
    body = text.replace("\n### ", "\n#### ")  # one level below the README's section
    readme = readme[:begin + len(README_BEGIN)] + "\n" + body + readme[end:]
    with open(path, "w") as f:
        f.write(readme)
    progress(f"bench: updated the results in {path}")


def main():
    args = parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    preload = args.fastpool_preload or os.path.join(args.build_dir, "preload",
                                                    "libfastpool_preload.so")
    allocs = alloc_mod.discover(preload)
    for a in allocs:
        if a.missing and (a.name != "fastpool" or not args.allow_missing_fastpool):
            sys.exit(f"bench: {a.name} library not found" + (f" ({preload})" if a.preload is None
                                                              and a.name == "fastpool" else ""))
    missing = [a.name for a in allocs if a.missing]
    if missing:
        progress(f"bench: missing, shown as such: {', '.join(missing)}")

    scale = workloads.QUICK_SCALE if args.quick else 1.0
    selected = workloads.macro_workloads(args.build_dir, BENCH_DIR, scale)
    if args.quick:
        selected = [w for w in selected if w.quick]
    if args.only:
        wanted = args.only.split(",")
        selected = [w for w in selected if w.name in wanted]

    launcher = workloads.program(args.build_dir, "launch")
    if not os.path.exists(launcher):
        sys.exit(f"bench: {launcher} not built")
    failures = []
    results, frag = run_macro(launcher, selected, allocs, rounds, args.timeout, failures)
    micro_bin = workloads.program(args.build_dir, "alloc_micro")
    micro_results = {}
    if not args.no_micro and os.path.exists(micro_bin):
        micro_results = run_micro(launcher, micro_bin, allocs, args.quick, args.timeout,
                                  failures)

    info = machine.describe(ROOT)
    kind = "quick run (1 round, short subset, reduced work)" if args.quick else f"{rounds} rounds"
    macro_md, macro_sum = report.macro_table(selected, allocs, results)
    frag_md, frag_sum = report.fragmentation_table(allocs, frag)
    micro_md, micro_sum = report.micro_table(allocs, micro_results)
    target_md, passed = targets.check(macro_sum, frag_sum, micro_sum)
    notes = [f"† {w.name}: {w.note}." for w in selected if w.note]

    parts = [f"{machine.markdown(info)} {kind.capitalize()}; allocators alternate run by run; "
             "each cell is the median wall time or peak RSS with its ratio to the best "
             "allocator on that workload (1.00× = best). The geometric mean averages the "
             "ratios over the workloads without †.", "", "### Macro workloads", "", macro_md]
    parts += ([""] + notes) if notes else []
    if frag_md.count("\n") > 1:
        parts += ["", "### Fragmentation: RSS after the free phase and the re-allocation", "",
                  "Live data is the bytes the program holds at that moment (every byte written).",
                  "", frag_md]
    if micro_results:
        parts += ["", "### Micro (Google Benchmark, ns per iteration, median)", "", micro_md]
    parts += ["", "### Targets (issue 4)", "", target_md]
    text = "\n".join(parts) + failure_section(failures) + "\n"
    print(text)

    os.makedirs(args.out_dir, exist_ok=True)
    stem = os.path.join(args.out_dir, "quick" if args.quick else "latest")
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".json", "w") as f:
        json.dump({"machine": info, "rounds": rounds, "quick": args.quick,
                   "macro": macro_sum, "fragmentation_final_rss_over_live": frag_sum,
                   "micro": micro_sum, "targets_passed": passed,
                   "failures": [{"workload": n, "allocator": a.name, "failure": r.failure(),
                                 "command": c} for n, a, r, c in failures]},
                  f, indent=1, sort_keys=True)
    if not args.quick and not args.only and not args.no_micro and rounds >= 3:
        update_readme(text)
    drew = chart.draw(stem + ".png", f"fastpool benchmarks, {info['date']} ({kind})", allocs,
                      macro_sum, [w.name for w in selected])
    progress(f"bench: wrote {stem}.md, {stem}.json" + (f", {stem}.png" if drew else
                                                        " (no matplotlib: no chart)"))
    if failures:
        return 1
    return 3 if args.check_targets and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
