"""The PNG chart: time and peak-RSS ratios to the best, one group of bars per workload.

Needs matplotlib (Debian: python3-matplotlib); without it the chart is skipped, not the run.
"""


def draw(path, title, allocators, macro_summary, workload_names):
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display on a build machine
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return False
    names = [a.name for a in allocators if not a.missing]
    per = macro_summary["workloads"]
    fig, axes = plt.subplots(2, 1, figsize=(max(10, 1.1 * len(workload_names)), 8), sharex=True)
    width = 0.8 / max(1, len(names))
    for ax, key, label in ((axes[0], "time_ratio", "wall time / best"),
                           (axes[1], "rss_ratio", "peak RSS / best")):
        for i, name in enumerate(names):
            xs, ys = [], []
            for j, w in enumerate(workload_names):
                r = per.get(w, {}).get(key, {}).get(name)
                if r is not None:
                    xs.append(j + (i - (len(names) - 1) / 2) * width)
                    ys.append(r)
            ax.bar(xs, ys, width, label=name)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")  # ratios: 2x worse and 2x better look the same size
        ax.set_ylim(bottom=0.9)  # so a best-allocator bar (1.00) still shows
        ratio_label = FuncFormatter(lambda y, _: f"{y:g}×")
        ax.yaxis.set_major_formatter(ratio_label)
        ax.yaxis.set_minor_formatter(ratio_label)
        ax.set_ylabel(label + " (log)")
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].set_title(title)
    axes[0].legend(ncol=len(names), fontsize="small")
    axes[1].set_xticks(range(len(workload_names)))
    axes[1].set_xticklabels(workload_names, rotation=35, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
