#!/usr/bin/env python3
"""Runs the benchmark suite under every allocator and writes the results.

Rounds alternate allocators run by run (A B C D E, A B C D E, ...) so that drift in the
machine's speed spreads over all allocators. Prints the markdown to stdout, progress to
stderr, and writes <out>/latest.{md,json,png} (or quick.* for --quick). Exit status: 0; 1
when a run failed (crash, corruption, timeout; a robustness row's timeout is only listed);
3 with --check-targets when fastpool misses a target of issue 4. Normally called by
scripts/bench.sh, which installs the dependencies and builds first.

Tables: macro workloads, fragmentation, micro (Google Benchmark), the targets of issue 4, and
robustness (harness/robust.py: huge blocks, realloc, trimming, thread waves, a big heap; its
own rounds, default 3, and a shorter timeout; fastpool cells above 1.5x the best are flagged).
--only takes macro workload and robustness row names, and `robust` for every robustness row;
--robust-only is --only robust --no-micro; --no-robust leaves the robustness table out.
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
from harness import robust  # noqa: E402

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)
DEFAULT_PEERS = os.path.join(os.path.dirname(ROOT), "shared", "peers")


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Robustness table (harness/robust.py, rows: bench/robust/bench_robust.c): "
               "realloc growth, huge blocks, realloc ping-pong, shrink-to-fit, calloc, "
               "malloc_trim after threads exit or idle, thread waves, worst malloc latency "
               f"next to a big heap. Runs by default; --only robust or --robust-only for it "
               f"alone, --only ROW,ROW for some rows (names: {', '.join(robust.NAMES)}). "
               f"fastpool cells above {robust.TARGET:g}x the best are flagged; a robustness "
               "timeout is listed under Failures but does not make the exit status 1.")
    p.add_argument("--quick", action="store_true", help="one round of a short subset")
    p.add_argument("--rounds", type=int, help="rounds (default 5, --quick 1)")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                   help="build tree holding bench/bench_* (default build/)")
    p.add_argument("--fastpool-preload",
                   help="default: <build-dir>/preload/libfastpool_preload.so")
    p.add_argument("--peers", default=DEFAULT_PEERS,
                   help="a folder whose lib*.so each become a column (default: ../shared/peers "
                        "when it exists: mimalloc 3.4.3, snmalloc 0.7.5)")
    p.add_argument("--no-peers", action="store_true", help="no peer columns")
    p.add_argument("--allocators",
                   help="comma-separated columns to keep (e.g. fastpool,fastpool-secure: what "
                        "the hardened build costs); ratios are then to the best of those")
    p.add_argument("--allow-missing-fastpool", action="store_true",
                   help="run the other allocators when the fastpool library is not built")
    p.add_argument("--only",
                   help="comma-separated names of macro workloads and robustness rows to run "
                        "(nothing else of those two tables runs); 'robust' selects every "
                        "robustness row, 'none' nothing")
    p.add_argument("--no-micro", action="store_true", help="skip the Google Benchmark cases")
    p.add_argument("--robust-only", action="store_true",
                   help="only the robustness table (= --only robust --no-micro)")
    p.add_argument("--no-robust", action="store_true", help="skip the robustness table")
    p.add_argument("--robust-rounds", type=int,
                   help=f"rounds of the robustness table (default {robust.DEFAULT_ROUNDS}, or "
                        "--rounds when fewer; --quick 1)")
    p.add_argument("--robust-timeout", type=float,
                   help=f"seconds per robustness run (default {robust.TIMEOUT_S}, --quick "
                        f"{robust.QUICK_TIMEOUT_S}; at most --timeout); a run that failed is "
                        "not repeated in later rounds")
    p.add_argument("--out-dir", default=os.path.join(BENCH_DIR, "results"))
    p.add_argument("--check-targets", action="store_true",
                   help="exit 3 when fastpool misses a target of issue 4")
    p.add_argument("--timeout", type=float, default=300, help="seconds per run before SIGKILL")
    p.add_argument("--readme-from", metavar="STEM",
                   help="run nothing: write the README's tables from STEM.md and STEM.json "
                        "of a full run (e.g. bench/results/latest)")
    args = p.parse_args()
    if args.robust_only:
        if args.only or args.no_robust:
            p.error("--robust-only does not go with --only or --no-robust")
        args.only, args.no_micro = "robust", True
    return args


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


def run_robust(launcher, rows, allocs, rounds, timeout, failures):
    """Like run_macro, but an allocator that failed a row does not run it again."""
    results = {row.name: {a.name: [] for a in allocs if not a.missing} for row in rows}
    live = [a for a in allocs if not a.missing]
    total = rounds * len(rows) * len(live)
    done, start = 0, time.monotonic()
    for rnd in range(1, rounds + 1):
        for row in rows:
            for a in live:
                runs = results[row.name][a.name]
                done += 1
                if any(not r.ok for r in runs):
                    continue
                r = measure.run(launcher, row.argv, clean_env(), a.preload, timeout)
                runs.append(r)
                elapsed = time.monotonic() - start
                eta = elapsed / done * (total - done)
                status = (f"{report.fmt_time(r.wall_s)}  {report.fmt_bytes(r.peak_rss_bytes)}"
                          if r.ok else r.failure())
                extra = robust.parse_extra(r.stdout, row.extra) if row.extra and r.ok else None
                if extra is not None:
                    status += f"  {row.extra}={extra:g}"
                progress(f"[robust {rnd}/{rounds}] {row.name:<21} {a.name:<9} {status:<34} "
                         f"({done}/{total}, ~{eta:.0f} s left)")
                if not r.ok:
                    failures.append((f"{row.name} (robust)", a, r, repro(row.argv, {}, a)))
    return results


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
    lines = ["", "", "### Failures", ""]
    for name, a, r, cmd in failures:
        tail = (r.stderr.strip().splitlines() or [""])[-1][:200]
        lines.append(f"- {name} under {a.name}: {r.failure()} — `{cmd}`"
                     + (f" — stderr: `{tail}`" if tail else ""))
    return "\n".join(lines)


README_BLOCKS = {
    "latest": ("<!-- bench:latest:begin (written by scripts/bench.sh) -->",
               "<!-- bench:latest:end -->"),
    "summary": ("<!-- bench:summary:begin (written by scripts/bench.sh) -->",
                "<!-- bench:summary:end -->"),
}


def update_readme(blocks):
    """Puts a full run's tables between the README's markers, so its numbers are never typed.
    blocks: {name in README_BLOCKS: markdown}."""
    path = os.path.join(ROOT, "README.md")
    try:
        with open(path) as f:
            readme = f.read()
    except OSError:
        return
    for name, text in blocks.items():
        begin_mark, end_mark = README_BLOCKS[name]
        begin, end = readme.find(begin_mark), readme.find(end_mark)
        if begin < 0 or end < begin:
            continue
        readme = readme[:begin + len(begin_mark)] + "\n" + text + "\n" + readme[end:]
    with open(path, "w") as f:
        f.write(readme)
    progress(f"bench: updated the results in {path}")


def readme_blocks(text, data):
    return {"latest": text.replace("\n### ", "\n#### ").rstrip("\n"),  # a level below
            "summary": report.summary_table(data)}


def main():
    args = parse_args()
    if args.readme_from:  # the README's tables again from a saved full run, nothing run
        with open(args.readme_from + ".json") as f, open(args.readme_from + ".md") as g:
            update_readme(readme_blocks(g.read(), json.load(f)))
        return 0
    rounds = args.rounds or (1 if args.quick else 5)
    preload = args.fastpool_preload or os.path.join(args.build_dir, "preload",
                                                    "libfastpool_preload.so")
    allocs = alloc_mod.discover(preload, None if args.no_peers else args.peers)
    if args.allocators:
        wanted = args.allocators.split(",")
        unknown = sorted(set(wanted) - {a.name for a in allocs})
        if unknown:
            sys.exit(f"bench: --allocators: no such column: {', '.join(unknown)}")
        allocs = [a for a in allocs if a.name in wanted]
    for a in allocs:
        if a.missing and (a.name != "fastpool" or not args.allow_missing_fastpool):
            sys.exit(f"bench: {a.name} library not found" + (f" ({preload})" if a.preload is None
                                                              and a.name == "fastpool" else ""))
    missing = [a.name for a in allocs if a.missing]
    if missing:
        progress(f"bench: missing, shown as such: {', '.join(missing)}")

    scale = workloads.QUICK_SCALE if args.quick else 1.0
    selected = workloads.macro_workloads(args.build_dir, BENCH_DIR, scale)
    robust_rows = [] if args.no_robust else robust.rows(args.build_dir, scale)
    if args.quick:
        selected = [w for w in selected if w.quick]
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {w.name for w in selected} - set(robust.NAMES)
                         - {"robust", "none"})
        if unknown:
            progress(f"bench: --only: not run (unknown, or not in this run): "
                     f"{', '.join(unknown)}")
        selected = [w for w in selected if w.name in wanted]
        robust_rows = [r for r in robust_rows if r.name in wanted or "robust" in wanted]
    if not args.no_robust and not robust.rows(args.build_dir) and (
            not args.only or set(args.only.split(",")) & set(robust.NAMES + ["robust"])):
        progress("bench: bench_robust not built: no robustness table")
    robust_rounds = args.robust_rounds or (1 if args.quick else min(rounds,
                                                                   robust.DEFAULT_ROUNDS))
    robust_timeout = min(args.timeout, args.robust_timeout or (
        robust.QUICK_TIMEOUT_S if args.quick else robust.TIMEOUT_S))

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
    robust_results = run_robust(launcher, robust_rows, allocs, robust_rounds, robust_timeout,
                                failures)

    info = machine.describe(ROOT)
    kind = "quick run (1 round, short subset, reduced work)" if args.quick else f"{rounds} rounds"
    if robust_rows and not selected and not micro_results:
        kind = "robustness table only" + (" (quick run, reduced work)" if args.quick else "")
    macro_md, macro_sum = report.macro_table(selected, allocs, results)
    frag_md, frag_sum = report.fragmentation_table(allocs, frag)
    micro_md, micro_sum = report.micro_table(allocs, micro_results)
    target_md, passed = targets.check(macro_sum, frag_sum, micro_sum)
    notes = [f"{report.note_mark(w)} {w.name}: {w.note}." for w in selected if w.note]

    parts = [f"{machine.markdown(info)} {kind.capitalize()}; allocators alternate run by run; "
             "each cell is the median wall time or peak RSS with its ratio to the best "
             "allocator on that workload (1.00× = best)."]
    if selected or not robust_rows:
        parts[0] += " The geometric mean averages the ratios over the workloads without †."
        parts += ["", "### Macro workloads", "", macro_md]
        parts += ([""] + notes) if notes else []
    if frag_md.count("\n") > 1:
        parts += ["", "### Fragmentation: RSS after the free phase and the re-allocation", "",
                  "Live data is the bytes the program holds at that moment (every byte written).",
                  "", frag_md]
    if micro_results:
        parts += ["", "### Micro (Google Benchmark, ns per iteration, median)", "", micro_md]
    if selected or micro_results or not robust_rows:
        parts += ["", "### Targets (issue 4)", "", target_md]
    robust_sum = {}
    if robust_rows:
        robust_md, robust_sum = robust.tables(robust_rows, allocs, robust_results)
        parts += ["", "### Robustness", "",
                  f"Huge blocks, realloc, memory given back, thread waves and a big heap "
                  f"(`bench/robust/bench_robust.c` describes each row"
                  + (f", run at {scale:g}× the work" if scale != 1.0 else "")
                  + f"). {robust_rounds} round{'s' if robust_rounds != 1 else ''}, alternating "
                  f"as above; a run that failed (timeout: {robust_timeout:g} s) is not repeated. "
                  f"Cells as above: median and ratio to the best on the row; fastpool's cells "
                  f"above the {robust.TARGET:g}× target are **bold** and marked {robust.FLAG}. "
                  "The second table has the figure some rows print (the median of the "
                  "rounds; a worst latency, their least).", "", robust_md]
    text = "\n".join(parts) + failure_section(failures) + "\n"
    print(text)

    os.makedirs(args.out_dir, exist_ok=True)
    stem = os.path.join(args.out_dir, "quick" if args.quick else "latest")
    with open(stem + ".md", "w") as f:
        f.write(text)
    data = {"machine": info, "rounds": rounds, "quick": args.quick,
               "macro": macro_sum, "fragmentation_final_rss_over_live": frag_sum,
               "micro": micro_sum, "targets_passed": passed,
               "robust": dict(robust_sum, rounds=robust_rounds, scale=scale,
                              timeout_s=robust_timeout) if robust_rows else {},
               "failures": [{"workload": n, "allocator": a.name, "failure": r.failure(),
                             "command": c} for n, a, r, c in failures]}
    with open(stem + ".json", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    if not args.quick and not args.only and not args.no_micro and not args.no_robust \
            and rounds >= 3:
        update_readme(readme_blocks(text, data))
    drew = selected and chart.draw(stem + ".png", f"fastpool benchmarks, {info['date']} "
                                   f"({kind})", allocs, macro_sum, [w.name for w in selected])
    progress(f"bench: wrote {stem}.md, {stem}.json" + (
        f", {stem}.png" if drew else " (no chart: no macro workloads)" if not selected
        else " (no matplotlib: no chart)"))
    # A robustness row's timeout is a (very) slow result, listed under Failures; a crash or a
    # failed check there fails the run like anywhere else.
    if any(not (name.endswith(" (robust)") and r.timed_out) for name, _, r, _ in failures):
        return 1
    return 3 if args.check_targets and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
