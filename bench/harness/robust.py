"""The robustness rows: shapes where an allocator tuned for small blocks tends to fall over.

One program, bench/robust/bench_robust.c, with a mode per row (what each does: its header).
The rows run like the macro workloads (a process each through bench_launch, allocators
alternating run by run, wall time and peak RSS), but with their own rounds (default 3) and a
shorter timeout, and a run that failed is not repeated in later rounds: one timeout already
says the row is out of reach. Some rows print one more figure (RSS after malloc_trim, worst
single malloc latency), shown in a second table. Every figure is compared with the best
allocator on its row; fastpool cells above TARGET are flagged.
"""
import os
import statistics
from dataclasses import dataclass
from typing import List, Optional

from . import report, workloads

TARGET = 1.5       # fastpool within 1.5x of the best allocator on every row
DEFAULT_ROUNDS = 3
TIMEOUT_S = 60     # per run; --quick: QUICK_TIMEOUT_S (both capped by --timeout)
QUICK_TIMEOUT_S = 30
FLAG = "⚠"

# (row, extra figure the program prints as key=value, or None)
ROWS = [
    ("realloc-grow", None),
    ("huge-temp", None),
    ("huge-pingpong", None),
    ("large-huge-pingpong", None),
    ("shrink-to-fit", "rss_after_kb"),
    ("calloc-large", None),
    ("exited-leftovers", "rss_after_kb"),
    ("idle-trim", "rss_after_kb"),
    ("thread-waves", None),
    ("many-large-live", "worst_us"),
    ("big-heap-worst-malloc", "worst_us"),
    ("small-heap", None),
    ("idle-threads", "kb_per_thread"),
]

# What the extra figure is, per row (the key alone does not say when the RSS was read).
EXTRA_LABELS = {
    "shrink-to-fit": "RSS with every shrunk block live",
    "exited-leftovers": "RSS after free + malloc_trim(0)",
    "idle-trim": "RSS after malloc_trim(0), worker idle",
    "many-large-live": "worst malloc(1 MiB), least of the rounds",
    "big-heap-worst-malloc": "worst malloc(40000), least of the rounds",
    "idle-threads": "RSS each waiting thread adds",
}

NAMES = [name for name, _ in ROWS]


@dataclass
class Row:
    name: str
    argv: List[str]
    extra: Optional[str] = None  # key of the extra figure on stdout


def rows(build_dir, scale=1.0):
    """Every row, or none when bench_robust is not built."""
    prog = workloads.program(build_dir, "robust")
    if not os.path.exists(prog):
        return []
    scale_arg = [] if scale == 1.0 else [f"--scale={scale}"]
    return [Row(name, [prog, name] + scale_arg, extra) for name, extra in ROWS]


def parse_extra(stdout, key):
    """The value of key=value on the program's stdout, as a float; None when absent."""
    for part in stdout.split():
        k, sep, v = part.partition("=")
        if sep and k == key:
            try:
                return float(v)
            except ValueError:
                return None
    return None


def fmt_extra(key, value):
    if key == "rss_after_kb":
        return report.fmt_bytes(value * 1024)
    if key == "kb_per_thread":
        return f"{value:.1f} KiB"
    if key == "worst_us":
        return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.1f} µs"
    return f"{value:g}"


def _flagged(text, ratio, allocator, subject):
    """fastpool's cell, bold and flagged, when it is above the target (or failed)."""
    if allocator != subject or (ratio is not None and ratio <= TARGET):
        return text
    return f"**{text}** {FLAG}"


# How the rounds' extra figures combine. A worst latency is the least of the rounds: a
# stall of the allocator's own (a walk, a syscall) recurs in every round, while a stall of
# the machine (this shared VM pauses a thread for 50-100 µs in about two runs of three,
# under glibc as under fastpool, with no syscall in the timed loop) does not.
EXTRA_COMBINE = {"worst_us": min}


def _extra_values(runs_by_alloc, key):
    combine = EXTRA_COMBINE.get(key, statistics.median)
    out = {}
    for name, runs in runs_by_alloc.items():
        values = [parse_extra(r.stdout, key) for r in runs if r.ok]
        if runs and len(values) == len(runs) and all(v is not None for v in values):
            out[name] = combine(values)
    return out


def tables(row_list, allocators, results, subject="fastpool"):
    """results[row][allocator] = [Run, ...]. Returns (markdown of both tables, summary)."""
    names = [a.name for a in allocators]
    head = ("| row | " + " | ".join(f"time {n}" for n in names) + " | "
            + " | ".join(f"peak RSS {n}" for n in names) + " |")
    lines = [head, "|---" * (1 + 2 * len(names)) + "|"]
    extra_lines = ["| row | figure | " + " | ".join(names) + " |",
                   "|---" * (2 + len(names)) + "|"]
    # Rows where the allocator is above the target (a failed run counts in both columns).
    over_t, over_r = {n: 0 for n in names}, {n: 0 for n in names}
    per_row, misses, extra_misses = {}, [], []
    for row in row_list:
        runs = results.get(row.name, {})
        times = report.medians(runs, lambda r: r.wall_s)
        rss = report.medians(runs, lambda r: r.peak_rss_bytes)
        tr, rr = report.ratios(times), report.ratios(rss)
        entry = {"time": times, "rss": rss, "time_ratio": tr, "rss_ratio": rr,
                 "failed": {n: report.failure_text(rs) for n, rs in runs.items()
                            if n not in times}}
        cells_t, cells_r = [], []
        for a in allocators:
            if a.missing:
                cells_t.append("missing"), cells_r.append("missing")
            elif a.name in times:
                for cells, value, ratio, fmt, over, what in (
                        (cells_t, times[a.name], tr[a.name], report.fmt_time, over_t, "time"),
                        (cells_r, rss[a.name], rr[a.name], report.fmt_bytes, over_r,
                         "peak RSS")):
                    text = f"{fmt(value)} ({report.fmt_ratio(ratio)})"
                    cells.append(_flagged(text, ratio, a.name, subject))
                    if ratio > TARGET:
                        over[a.name] += 1
                        if a.name == subject:
                            misses.append(f"{row.name} {what} {report.fmt_ratio(ratio)}")
            else:
                text = _flagged(report.failure_text(runs.get(a.name, [])), None, a.name,
                                subject)
                cells_t.append(text), cells_r.append(text)
                over_t[a.name] += 1
                over_r[a.name] += 1
                if a.name == subject:
                    misses.append(f"{row.name} {report.failure_text(runs.get(a.name, []))}")
        lines.append(f"| {row.name} | " + " | ".join(cells_t + cells_r) + " |")

        if row.extra:
            values = _extra_values(runs, row.extra)
            ratio = report.ratios(values)
            entry.update(extra_key=row.extra, extra=values, extra_ratio=ratio)
            cells = []
            for a in allocators:
                if a.missing:
                    cells.append("missing")
                elif a.name in ratio:
                    cells.append(_flagged(f"{fmt_extra(row.extra, values[a.name])} "
                                          f"({report.fmt_ratio(ratio[a.name])})",
                                          ratio[a.name], a.name, subject))
                    if a.name == subject and ratio[a.name] > TARGET:
                        extra_misses.append(f"{row.name} {report.fmt_ratio(ratio[a.name])}")
                elif a.name in values:  # the best is 0: no ratios on this row
                    cells.append(fmt_extra(row.extra, values[a.name]))
                elif any(not r.ok for r in runs.get(a.name, [])):
                    cells.append(_flagged(report.failure_text(runs[a.name]), None, a.name,
                                          subject))
                else:  # ran, but did not print the figure
                    cells.append("—")
            label = EXTRA_LABELS.get(row.name, row.extra)
            extra_lines.append(f"| {row.name} | {label} (`{row.extra}`) | "
                               + " | ".join(cells) + " |")
        per_row[row.name] = entry

    def count(over):
        return ["—" if a.missing else f"**{over[a.name]}**" for a in allocators]

    lines.append(f"| **rows above {TARGET:g}× (of {len(row_list)})** | "
                 + " | ".join(count(over_t) + count(over_r)) + " |")
    md = "\n".join(lines)
    if len(extra_lines) > 2:
        md += "\n\n" + "\n".join(extra_lines)
    ran_subject = any(subject in results.get(r.name, {}) for r in row_list)
    if ran_subject:
        md += "\n\n" + _target_lines(len(row_list), misses, extra_misses, len(extra_lines) > 2)
    summary = {"target": TARGET, "rows": per_row,
               "rows_above_target": {"time": over_t, "rss": over_r},
               "fastpool_above_target": misses, "fastpool_extra_above_target": extra_misses}
    return md, summary


def _target_lines(nrows, misses, extra_misses, have_extra):
    def line(ok, text, found):
        return f"- {'PASS' if ok else 'FAIL'}: {text}" + ("" if ok else ": " + ", ".join(found))

    out = [line(not misses, f"fastpool's time and peak RSS within {TARGET:g}× of the best on "
                            f"all {nrows} rows", misses)]
    if have_extra:
        out.append(line(not extra_misses, f"fastpool's extra figures within {TARGET:g}× of "
                                          "the best", extra_misses))
    return "\n".join(out)
