"""The Spark processes this project starts, found and stopped through /proc.

Every daemon and server is started in a process group of its own (`spawn`), so that it is
stopped with everything it started (a worker's executors, the launcher's shell) and so that
a Ctrl-C in the terminal reaches the Python side, which stops it, rather than the JVM. A
process is recognised by its command line: its main class and the project's Spark folder,
whose conf folder is on the class path of every Spark JVM started here; a pid file alone
could name a pid the system has since given to another program.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path

STOP_TIMEOUT = 30.0


def spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a Spark launcher in a process group of its own, its output into `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as output:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True, env=env,
        )


def proc_state(pid: int) -> str | None:
    """The kernel's state letter of `pid` (Z: exited, not yet reaped), None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return proc_state(pid) not in (None, "Z")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_spark_process(pid: int, main_class: str, spark_dir: Path) -> bool:
    """Does `pid` run `main_class` with the configuration of `spark_dir`?"""
    command = command_line(pid)
    return alive(pid) and main_class in command and str(spark_dir) in command


def group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def spark_processes(spark_dir: Path) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose command line names `spark_dir`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        pid = int(cmdline.parent.name)
        command = command_line(pid)
        if str(spark_dir) in command and pid != os.getpid() and alive(pid):
            found.append((pid, command))
    return found


def _exited(process: subprocess.Popen) -> bool:
    """Has the group's leader exited? It stays unreaped (a zombie), so its pid, the group's
    id, cannot be given to an unrelated process while the group is still signalled."""
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """Stop a process started by `spawn` in this process, with its group: SIGTERM (Spark's
    shutdown hooks close the metastore), SIGKILL after `timeout` s or when interrupted while
    waiting; returns once the leader has exited (its file locks, Derby's too, released)."""
    if process.returncode is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        deadline = time.monotonic() + timeout
        while not _exited(process) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        # what is left: a JVM too slow to stop, the launcher's shell, or all of it on Ctrl-C
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop_pid_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Stop the group led by `pid`, a daemon started by another (possibly exited) process of
    this project: SIGTERM, then SIGKILL to what is left of the group after `timeout` s."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    for member in group_members(pid):
        with suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.05)
