"""Runs one process and measures it: wall time, and peak RSS from wait4()'s rusage.

Every process goes through bench_launch (launcher/bench_launch.c), which forks it from a small
process, so its peak RSS is its own and not the harness's, and which alone sets LD_PRELOAD.
wait4() reports the peak RSS of the child or of any descendant it waited for (the kernel
fills it with RUSAGE_BOTH), so g++ is measured together with the cc1plus it starts.
"""
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass


@dataclass
class Run:
    wall_s: float
    peak_rss_bytes: int
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self):
        return self.returncode == 0 and not self.timed_out

    def failure(self):
        if self.timed_out:
            return "timeout"
        if self.returncode < 0:
            try:
                return f"killed by {signal.Signals(-self.returncode).name}"
            except ValueError:
                return f"killed by signal {-self.returncode}"
        return f"exit {self.returncode}"


def run(launcher, argv, env, preload, timeout_s):
    """argv under env (which must not hold LD_PRELOAD), with preload set for it alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r", suffix=".run") as result:
        cmd = [launcher, result.name, str(int(timeout_s))]
        cmd += [f"--preload={preload}"] if preload else []
        proc = subprocess.run(cmd + ["--"] + argv, env=env, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        fields = dict(p.split("=", 1) for p in result.read().split())
        if proc.returncode != 0 or not fields:
            return Run(0.0, 0, 127, stdout, stderr + "\nbench_launch failed")
        status = int(fields["status"])
        return Run(int(fields["wall_ns"]) / 1e9, int(fields["maxrss_kb"]) * 1024,
                   os.waitstatus_to_exitcode(status), stdout, stderr,
                   fields["timed_out"] == "1")
