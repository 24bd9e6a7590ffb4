"""The micro benchmarks: the Google Benchmark binary, run once under each allocator."""
import json
import re

from . import measure


def run(launcher, binary, allocator, env, min_time_s, repetitions, timeout_s):
    """Returns ({case: ns per iteration}, measure.Run); the median over repetitions."""
    env = dict(env, FASTPOOL_BENCH_MIN_TIME=str(min_time_s))
    argv = [binary, "--benchmark_format=json", f"--benchmark_repetitions={repetitions}"]
    if repetitions > 1:
        argv.append("--benchmark_report_aggregates_only=true")
    result = measure.run(launcher, argv, env, allocator.preload, timeout_s)
    if not result.ok:
        return {}, result
    cases = {}
    for b in json.loads(result.stdout)["benchmarks"]:
        if repetitions > 1 and b.get("aggregate_name") != "median":
            continue
        name = re.sub(r"/min_time:[0-9.]+", "", b.get("run_name", b["name"]))
        cases[name] = b["real_time"] * _TO_NS[b.get("time_unit", "ns")]
    return cases, result


_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
