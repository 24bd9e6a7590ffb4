"""The macro workloads: whole programs, each timed and RSS-measured as one process.

Threaded workloads run with 2 threads (this machine's cores) and oversubscribed with 8.
--quick runs the workloads marked quick, at QUICK_SCALE of their work.
"""
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List

QUICK_SCALE = 0.3


@dataclass
class Workload:
    name: str
    argv: List[str]
    env: Dict[str, str] = field(default_factory=dict)
    quick: bool = False
    in_geomean: bool = True  # False: shown, but not part of the allocator comparison
    note: str = ""


def _scaled(argv, scale, style):
    if scale == 1.0:
        return argv
    return argv + ([f"--scale={scale}"] if style == "flag" else [str(scale)])


def program(build_dir, name):
    """bench_<name> in a full build (build/bench/) or a standalone one (cmake -S bench)."""
    for d in (os.path.join(build_dir, "bench"), build_dir):
        path = os.path.join(d, f"bench_{name}")
        if os.path.exists(path):
            return path
    return os.path.join(build_dir, "bench", f"bench_{name}")


def macro_workloads(build_dir, bench_dir, scale=1.0):
    """All workloads whose program exists in build_dir, in table order."""
    def prog(name):
        return program(build_dir, name)

    def native(label, name, threads=None, quick=False, **kw):
        argv = [prog(name)] + ([f"--threads={threads}"] if threads else [])
        return Workload(label, _scaled(argv, scale, "flag"), quick=quick, **kw)

    python = shutil.which("python3", path="/usr/bin") or shutil.which("python3")
    gxx = shutil.which("g++")
    found = [
        native("larson-2t", "server_larson", 2, quick=True),
        native("larson-8t", "server_larson", 8),
        native("xmalloc-2t", "producer_consumer", 2, quick=True),
        native("xmalloc-8t", "producer_consumer", 8),
        native("pipeline-4t", "pipeline"),
        native("cache-scratch-2t", "cache_scratch", 2, quick=True),
        native("cache-scratch-8t", "cache_scratch", 8),
        native("stl-churn", "stl_churn", quick=True),
        native("fragmentation", "fragmentation", quick=True),
        native("game-frame-new", "game_frame_new", quick=True),
        native("game-frame-pool", "game_frame_pool", quick=True, in_geomean=False,
               note="fastpool::FixedPool for the objects under every allocator; compare with "
                    "game-frame-new, not across columns"),
        Workload("thread-waves", _scaled([prog("robust"), "thread-waves"], scale, "flag")),
    ]
    found = [w for w in found if os.path.exists(w.argv[0])]
    if python:
        # PYTHONMALLOC=malloc: objects go to the preloaded malloc, not CPython's pymalloc arenas.
        found.append(Workload("python-objects",
                              _scaled([python, os.path.join(bench_dir, "real", "objects.py")],
                                      scale, "positional"),
                              env={"PYTHONMALLOC": "malloc"}, quick=True))
    if gxx:
        found.append(Workload("g++-stl-heavy",
                              [gxx, "-std=c++20", "-O1", "-c", "-o", os.devnull,
                               os.path.join(bench_dir, "real", "stl_heavy.cpp")]))
    found += real_programs(build_dir, bench_dir, scale)
    return found


def real_programs(build_dir, bench_dir, scale):
    """Debian's programs on inputs from bench/real/, those that are installed."""
    real = os.path.join(bench_dir, "real")
    found = []
    if shutil.which("sqlite3"):
        found.append(Workload("sqlite3-speed", ["sqlite3", ":memory:",
                                                f'.read "{os.path.join(real, "speed.sql")}"']))
    if shutil.which("lua5.4"):
        found.append(Workload("lua-objects", _scaled(
            ["lua5.4", os.path.join(real, "objects.lua")], scale, "positional"), quick=True))
    if shutil.which("redis-server") and shutil.which("redis-benchmark"):
        found.append(Workload("redis-server", _scaled(
            [os.path.join(real, "redis_load.sh")], scale, "positional"),
            note="redis-server links jemalloc: its glibc column runs on jemalloc"))
    if shutil.which("z3"):
        smt = os.path.join(build_dir, "jobshop.smt2")
        with open(smt, "w") as out:
            made = subprocess.run([sys.executable, os.path.join(real, "jobshop_smt.py"), "14", "9",
                                   "80"], stdout=out).returncode == 0
        if made:
            found.append(Workload("z3-jobshop", ["z3", smt]))
    return found


def parse_fragmentation(stdout):
    """The fragmentation workload's line of key=value byte counts, as a dict of ints."""
    return {k: int(v) for k, v in (part.split("=", 1) for part in stdout.split() if "=" in part)}
