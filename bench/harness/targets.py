"""The targets of issue 4, checked against one run's numbers: each line says PASS or FAIL
and shows the figures, so the table never has to be read by eye to know where fastpool stands.
"""

OTHERS = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]


def _line(ok, text):
    return f"- {'PASS' if ok else 'FAIL'}: {text}"


def check(macro, frag, micro, subject="fastpool"):
    """Returns (markdown bullet list, all passed). Needs the summaries from report.py."""
    lines = []
    if subject in macro["geomean_time"]:
        lines += _macro_lines(macro, subject)
    if subject in frag:
        lines.append(_line(frag[subject] <= 1.2,
                           f"fragmentation final RSS {frag[subject]:.2f}× live data ≤ 1.2×"))
    slow = []
    for case, d in micro.get("cases", {}).items():
        ns = d["ns"]
        rivals = [ns[n] for n in OTHERS if n in ns]
        if subject in ns and rivals and ns[subject] > min(rivals):
            slow.append(f"{case} {ns[subject] / min(rivals):.2f}×")
    if micro.get("cases"):
        lines.append(_line(not slow, "every micro case no slower than the best of the others"
                           + (": " + ", ".join(slow) if slow else "")))
    if not lines:
        return f"- no results for {subject}: targets not checked", False
    return "\n".join(lines), all(line.startswith("- PASS") for line in lines)


def _macro_lines(macro, subject):
    lines = []
    geo_t, geo_r = macro["geomean_time"], macro["geomean_rss"]
    fp = geo_t[subject]
    if "mimalloc" in geo_t:
        lines.append(_line(fp <= 0.95 * geo_t["mimalloc"],
                           f"time geomean {fp:.3f} ≤ 0.95 × mimalloc's {geo_t['mimalloc']:.3f}"))
    others = {n: geo_t[n] for n in OTHERS if n in geo_t}
    if others:
        best = min(others, key=others.get)
        lines.append(_line(fp <= 0.95 * others[best],
                           f"time geomean {fp:.3f} ≤ 0.95 × best of the others ({best} "
                           f"{others[best]:.3f})"))
    worst = [(w, d["time_ratio"][subject]) for w, d in macro["workloads"].items()
             if subject in d["time_ratio"] and d["time_ratio"][subject] > 1.2]
    lines.append(_line(not worst, "no workload slower than 1.2× the best"
                       + (": " + ", ".join(f"{w} {r:.2f}×" for w, r in worst) if worst else "")))
    if "mimalloc" in geo_r and subject in geo_r:
        lines.append(_line(geo_r[subject] <= 1.0 * geo_r["mimalloc"],
                           f"peak RSS geomean {geo_r[subject]:.3f} ≤ mimalloc's "
                           f"{geo_r['mimalloc']:.3f}"))
    return lines
