"""Turns measured runs into the markdown tables: medians, ratios to the best, geometric means.

A ratio is a value divided by the best (lowest) value among the allocators that ran the
workload successfully, so the best allocator shows 1.00x. The geometric-mean row averages
those ratios over the workloads an allocator completed.
"""
import math
import statistics


def fmt_time(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_bytes(n):
    mib = n / (1024 * 1024)
    return f"{mib:.0f} MiB" if mib >= 100 else f"{mib:.1f} MiB"


def fmt_ratio(r):
    return f"{r:.2f}×"


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def medians(runs_by_alloc, metric):
    """{allocator: median of metric} over allocators whose every run succeeded."""
    out = {}
    for name, runs in runs_by_alloc.items():
        if runs and all(r.ok for r in runs):
            out[name] = statistics.median(metric(r) for r in runs)
    return out


def ratios(values):
    best = min(values.values()) if values else None
    return {k: v / best for k, v in values.items()} if best else {}


def failure_text(runs):
    bad = next((r for r in runs if not r.ok), None)
    return f"FAIL ({bad.failure()})" if bad else "—"


def _cell(value, ratio, fmt):
    return f"{fmt(value)} ({fmt_ratio(ratio)})"


def note_mark(w):
    """† for a workload left out of the geometric mean, * for one with a note only."""
    return "†" if not w.in_geomean else ("*" if w.note else "")


def macro_table(workloads, allocators, results):
    """results[workload][allocator] = [Run, ...]. Returns (markdown, summary dict)."""
    names = [a.name for a in allocators]
    head = ("| workload | " + " | ".join(f"time {n}" for n in names) + " | "
            + " | ".join(f"peak RSS {n}" for n in names) + " |")
    lines = [head, "|---" * (1 + 2 * len(names)) + "|"]
    time_ratios = {n: [] for n in names}
    rss_ratios = {n: [] for n in names}
    per_workload = {}
    for w in workloads:
        runs = results.get(w.name, {})
        times = medians(runs, lambda r: r.wall_s)
        rss = medians(runs, lambda r: r.peak_rss_bytes)
        tr, rr = ratios(times), ratios(rss)
        per_workload[w.name] = {"time": times, "rss": rss, "time_ratio": tr, "rss_ratio": rr}
        cells_t, cells_r = [], []
        for a in allocators:
            if a.missing:
                cells_t.append("missing"), cells_r.append("missing")
            elif a.name in times:
                cells_t.append(_cell(times[a.name], tr[a.name], fmt_time))
                cells_r.append(_cell(rss[a.name], rr[a.name], fmt_bytes))
                if w.in_geomean:
                    time_ratios[a.name].append(tr[a.name])
                    rss_ratios[a.name].append(rr[a.name])
            else:
                text = failure_text(runs.get(a.name, []))
                cells_t.append(text), cells_r.append(text)
        label = f"{w.name} {note_mark(w)}".rstrip()
        lines.append(f"| {label} | " + " | ".join(cells_t + cells_r) + " |")

    counted = sum(1 for w in workloads if w.in_geomean)
    geo_t, geo_r = {}, {}

    def geo_cell(a, per_alloc, store):
        if a.missing or not per_alloc[a.name]:
            return "—"
        store[a.name] = geomean(per_alloc[a.name])
        n = len(per_alloc[a.name])
        return fmt_ratio(store[a.name]) + ("" if n == counted else f" ({n}/{counted})")

    cells = ([geo_cell(a, time_ratios, geo_t) for a in allocators]
             + [geo_cell(a, rss_ratios, geo_r) for a in allocators])
    lines.append("| **geometric mean** | " + " | ".join(f"**{c}**" for c in cells) + " |")
    return "\n".join(lines), {"workloads": per_workload, "geomean_time": geo_t,
                              "geomean_rss": geo_r}


def fragmentation_table(allocators, frag):
    """frag[allocator] = [sample, ...]: the fragmentation workload's byte counts per run."""
    lines = ["| allocator | peak RSS | RSS after free / live | final RSS | live data "
             "| final RSS / live |", "|---|---|---|---|---|---|"]
    summary = {}
    for a in allocators:
        samples = frag.get(a.name)
        if not samples:
            continue
        m = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        summary[a.name] = m["final_rss_bytes"] / m["live_bytes"]
        lines.append(f"| {a.name} | {fmt_bytes(m['peak_rss_bytes'])} | "
                     f"{fmt_bytes(m['freed_rss_bytes'])} / {fmt_bytes(m['freed_live_bytes'])} | "
                     f"{fmt_bytes(m['final_rss_bytes'])} | {fmt_bytes(m['live_bytes'])} | "
                     f"{fmt_ratio(summary[a.name])} |")
    return "\n".join(lines), summary


def micro_table(allocators, micro):
    """micro[allocator] = {case: ns}. Cells: ns per iteration (ratio to the best)."""
    present = [a for a in allocators if micro.get(a.name)]
    cases = []
    for a in present:
        cases += [c for c in micro[a.name] if c not in cases]
    lines = ["| case | " + " | ".join(a.name for a in allocators) + " |",
             "|---" * (1 + len(allocators)) + "|"]
    per_alloc = {a.name: [] for a in allocators}
    case_ratios = {}
    for case in cases:
        values = {a.name: micro[a.name][case] for a in present if case in micro[a.name]}
        r = ratios(values)
        case_ratios[case] = {"ns": values, "ratio": r}
        cells = []
        for a in allocators:
            if a.name in values:
                cells.append(f"{values[a.name]:.1f} ns ({fmt_ratio(r[a.name])})")
                per_alloc[a.name].append(r[a.name])
            else:
                cells.append("missing" if a.missing else "FAIL")
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    geo = {n: geomean(v) for n, v in per_alloc.items() if v}
    lines.append("| **geometric mean** | "
                 + " | ".join(f"**{fmt_ratio(geo[a.name])}**" if a.name in geo else "—"
                              for a in allocators) + " |")
    return "\n".join(lines), {"cases": case_ratios, "geomean": geo}


def summary_table(data):
    """The README's first-screen table from a full run's JSON: per allocator, the geometric
    means of the macro time and peak-RSS ratios and of the micro time ratios, best first."""
    macro = data.get("macro", {})
    micro = data.get("micro", {}).get("geomean", {})
    times, rss = macro.get("geomean_time", {}), macro.get("geomean_rss", {})
    m = data.get("machine", {})
    lines = [f"{m.get('date', '?')}, {m.get('cpu', '?')} ({m.get('nproc', '?')} cores), "
             f"fastpool {m.get('fastpool_commit', '?')}, {data.get('rounds', '?')} rounds. "
             "Geometric means of each allocator's ratio to the best on every workload "
             "(1.00× = best everywhere); the full tables are under "
             "[Latest results](#latest-results).", "",
             "| allocator | whole programs: time | whole programs: peak RSS | micro: time |",
             "|---|---:|---:|---:|"]
    for name in sorted(times, key=times.get):
        cell = (lambda v: fmt_ratio(v) if v is not None else "–")
        bold = "**" if name == "fastpool" else ""
        lines.append(f"| {bold}{name}{bold} | {cell(times.get(name))} | {cell(rss.get(name))} | "
                     f"{cell(micro.get(name))} |")
    return "\n".join(lines)
