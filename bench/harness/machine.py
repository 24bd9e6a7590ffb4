"""What a result was measured on: date, machine, kernel, allocator versions."""
import datetime
import os
import platform
import subprocess


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _quiet(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def package_version(pkg):
    return _quiet(["dpkg-query", "-W", "-f=${Version}", pkg]) or "?"


def describe(repo_root):
    commit = _quiet(["git", "-C", repo_root, "rev-parse", "--short", "HEAD"]) or "?"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "arch": platform.machine(),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "fastpool_commit": commit,
        "versions": {
            "glibc": platform.libc_ver()[1] or "?",
            "jemalloc": package_version("libjemalloc2"),
            "mimalloc": package_version("libmimalloc2.0"),
            "tcmalloc": package_version("libgoogle-perftools4"),
        },
    }


def markdown(info):
    v = info["versions"]
    return (f"Measured {info['date']} on {info['cpu']} ({info['arch']}, {info['nproc']} CPUs), "
            f"Linux {info['kernel']}; fastpool {info['fastpool_commit']}, glibc {v['glibc']}, "
            f"jemalloc {v['jemalloc']}, mimalloc {v['mimalloc']}, tcmalloc {v['tcmalloc']}.")
