"""Run a command in its own process and measure wall time, the peak memory of its whole
process tree (RSS summed over the process and all its descendants, sampled) and its CPU
time (user + system of the process and every descendant it waited for)."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    seconds: float
    peak_rss_bytes: int
    # steadier than wall time on a shared machine: other processes' load barely moves it
    cpu_seconds: float = 0.0
    # 0 unless the command was allowed to fail (check=False)
    returncode: int = 0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _tree_rss(pid: int) -> int:
    total, stack, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (FileNotFoundError, ProcessLookupError):
            continue
        stack.extend(_children(current))
    return total


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a running process tree so far: every live process's own time and the
    time of the children it has waited for (/proc/PID/stat fields utime, stime, cutime, cstime)."""
    total, stack, tick = 0, [pid], os.sysconf("SC_CLK_TCK")
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/stat") as handle:
                # the command name (field 2) may hold spaces: count from the closing parenthesis
                fields = handle.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(int(f) for f in fields[11:15])
        stack.extend(_children(current))
    return total / tick


def run_measured(command: list[str], env: dict | None = None, cwd: Path | None = None,
                 interval: float = 0.05, check: bool = True, companions: tuple[int, ...] = (),
                 log: Path | None = None) -> Measurement:
    """`log`: where the command's output goes as well (kept for a run allowed to fail).
    `companions`: pids of servers started before the command that work for it (a database
    server): their trees' memory joins every sample and their CPU time during the run is added."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    companions_before = sum(_tree_cpu(pid) for pid in companions)
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()
    output: list[str] = []

    def drain():
        with open(log or os.devnull, "w") as kept:
            for line in process.stdout:  # type: ignore[union-attr]
                output.append(line)
                kept.write(line)
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid) + sum(_tree_rss(pid) for pid in companions))
        time.sleep(interval)
    done.wait(5)
    seconds = time.perf_counter() - started
    if process.returncode != 0 and check:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{''.join(output[-40:])}")
    companions_cpu = sum(_tree_cpu(pid) for pid in companions) - companions_before
    _reap_exited()
    return Measurement(seconds, peak, _children_cpu() - cpu_before + companions_cpu, process.returncode)


def _reap_exited() -> None:
    """Collect descendants of the command that outlived their parent and ended since: under a
    subreaper (bench/targets.py) they become this process's children (a JVM that dbt's Spark
    session did not wait for), and their CPU time counts once they are waited for."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _children_cpu() -> float:
    # this process's waited-for children so far; one measured command runs at a time
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_of(runs: list[Measurement]) -> Measurement:
    return Measurement(
        statistics.median(r.seconds for r in runs), int(statistics.median(r.peak_rss_bytes for r in runs)),
        statistics.median(r.cpu_seconds for r in runs),
    )
