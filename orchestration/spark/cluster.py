"""A standalone Spark cluster on 127.0.0.1 for the `spark_thrift` target, its tests and the
benchmark: one master, workers of one core each, and a Thrift server whose master is the
cluster's (dbt and the Python side connect to it; its queries run on the workers).

    python -m orchestration.spark.cluster start [--workers 2]   (make spark-cluster-start)
    python -m orchestration.spark.cluster status
    python -m orchestration.spark.cluster stop                  (make spark-cluster-stop)

pyspark ships Spark's launchers (bin/spark-class, bin/spark-submit) but not sbin/start-*.sh,
so the daemons are started here, each in a process group of its own, with the project's
configuration folder (orchestration/spark/conf.py), their pid in `<spark dir>/pids/` and their
log in `<spark dir>/logs/`. The Thrift server opens the folder's metastore, so no local
server or dbt session may use the same Spark folder while the cluster runs. On one machine
the executors see the same warehouse folder as the driver; a cluster of several machines
would need a shared one.

Ports come from the environment (Spark's own variable names where it has them):
SPARK_MASTER_PORT (7077), SPARK_MASTER_WEBUI_PORT (8080), SPARK_WORKER_WEBUI_PORT (8081, the
next worker the next port) and SPARK_THRIFT_PORT (10000, the spark_thrift profile's too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestration.settings import Settings
from orchestration.spark import processes
from orchestration.spark.conf import DAEMON_JAVA_OPTIONS, LOOPBACK, spark_home
from orchestration.spark.processes import is_spark_process, spawn
from orchestration.spark.thrift_server import (
    THRIFT_SERVER_CLASS,
    SparkThriftError,
    log_folder,
    log_tail,
    spark_environment,
    thrift_server_command,
    wait_until_answering,
)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
WORKER_CORES = 1
WORKER_MEMORY = "2g"
DEFAULT_WORKERS = 2
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


class SparkClusterError(RuntimeError):
    """A daemon of the cluster did not start."""


@dataclass(frozen=True)
class ClusterPorts:
    master: int = 7077
    master_webui: int = 8080
    # the first worker's web UI; worker i gets worker_webui + i - 1
    worker_webui: int = 8081
    thrift: int = 10000

    @classmethod
    def from_env(cls, settings: Settings) -> ClusterPorts:
        return cls(
            master=int(os.environ.get("SPARK_MASTER_PORT", cls.master)),
            master_webui=int(os.environ.get("SPARK_MASTER_WEBUI_PORT", cls.master_webui)),
            worker_webui=int(os.environ.get("SPARK_WORKER_WEBUI_PORT", cls.worker_webui)),
            thrift=settings.spark_thrift_port,
        )

    @property
    def master_url(self) -> str:
        return f"spark://{LOOPBACK}:{self.master}"


def pid_folder(settings: Settings) -> Path:
    return settings.spark_dir / "pids"


def _state_file(settings: Settings) -> Path:
    return pid_folder(settings) / "cluster.json"


def _pid_file(settings: Settings, name: str) -> Path:
    return pid_folder(settings) / f"{name}.pid"


def _daemon_names(workers: int) -> list[str]:
    return ["master", *(f"worker-{i}" for i in range(1, workers + 1)), "thrift"]


def _main_class(name: str) -> str:
    return MASTER_CLASS if name == "master" else THRIFT_SERVER_CLASS if name == "thrift" else WORKER_CLASS


# pid -> the daemons this process started (reaped here once stopped)
_children: dict[int, subprocess.Popen] = {}


def _running_pid(settings: Settings, name: str) -> int | None:
    """The pid of daemon `name` if it runs; a pid file of an exited daemon, or of a pid
    reused by another program, does not count."""
    path = _pid_file(settings, name)
    if not path.exists():
        return None
    pid = int(path.read_text().split()[0])
    return pid if is_spark_process(pid, _main_class(name), settings.spark_dir) else None


def spark_processes(settings: Settings) -> list[tuple[int, str]]:
    """(pid, command line) of every live process of this Spark folder (its conf folder is
    on every daemon's, server's and executor's class path)."""
    return processes.spark_processes(settings.spark_dir)


def _read_state(settings: Settings) -> dict:
    path = _state_file(settings)
    return json.loads(path.read_text()) if path.exists() else {}


def master_json(ports: ClusterPorts, timeout: float = 2.0) -> dict:
    """The master's own view of the cluster (workers, applications), from its web UI."""
    url = f"http://{LOOPBACK}:{ports.master_webui}/json/"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def alive_workers(ports: ClusterPorts) -> list[dict]:
    return [w for w in master_json(ports).get("workers", []) if w.get("state") == "ALIVE"]


def _command(name: str, ports: ClusterPorts, settings: Settings) -> list[str]:
    spark_class = str(spark_home() / "bin" / "spark-class")
    if name == "master":
        return [spark_class, MASTER_CLASS, "--host", LOOPBACK, "--port", str(ports.master),
                "--webui-port", str(ports.master_webui)]
    if name == "thrift":
        return thrift_server_command(ports.thrift, master=ports.master_url)
    return [spark_class, WORKER_CLASS, ports.master_url, "--host", LOOPBACK,
            "--cores", str(WORKER_CORES), "--memory", WORKER_MEMORY,
            "--webui-port", str(_worker_webui_port(name, ports)),
            "--work-dir", str(settings.spark_dir / "work")]


def _wait(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with suppress(OSError, ValueError):
            if ready():
                return
        if process.poll() is not None:
            raise SparkClusterError(f"{what} exited with code {process.returncode}; last lines of {log}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise SparkClusterError(f"{what} not ready within {timeout:.0f} s; last lines of {log}:\n{log_tail(log)}")
        time.sleep(0.25)


def _worker_webui_port(name: str, ports: ClusterPorts) -> int:
    return ports.worker_webui + int(name.split("-")[1]) - 1


def _worker_alive(name: str, ports: ClusterPorts) -> bool:
    address = f"http://{LOOPBACK}:{_worker_webui_port(name, ports)}"
    return any(w.get("webuiaddress") == address for w in alive_workers(ports))


def _wait_ready(name: str, ports: ClusterPorts, process: subprocess.Popen, log: Path) -> None:
    if name == "master":
        _wait("the Spark master", lambda: master_json(ports) is not None, process, log)
    elif name == "thrift":
        try:
            wait_until_answering(process, LOOPBACK, ports.thrift, log, "the cluster's Thrift server",
                                 timeout=START_TIMEOUT)
        except SparkThriftError as error:
            raise SparkClusterError(str(error)) from error
    else:
        _wait(f"Spark {name} (registered with the master)", lambda: _worker_alive(name, ports), process, log)


def start(settings: Settings, workers: int = DEFAULT_WORKERS, ports: ClusterPorts | None = None,
          echo=print) -> list[str]:
    """Start whatever of the cluster does not run yet; returns the names of the daemons started.

    A cluster already running on this Spark folder keeps the ports it was started with."""
    state = _read_state(settings)
    if state and _running_pid(settings, "master"):
        ports = ClusterPorts(**state["ports"])
        workers = max(workers, state.get("workers", workers))
    ports = ports or ClusterPorts.from_env(settings)
    pid_folder(settings).mkdir(parents=True, exist_ok=True)
    _state_file(settings).write_text(json.dumps({"ports": asdict(ports), "workers": workers}))
    env = {**spark_environment(settings), "SPARK_DAEMON_JAVA_OPTS": DAEMON_JAVA_OPTIONS}
    started: list[str] = []
    names = _daemon_names(workers)
    try:
        # the master first, which the others register with; then the rest at once, since
        # most of a daemon's start is its JVM's own
        for phase in (names[:1], names[1:]):
            launched = []
            for name in phase:
                pid = _running_pid(settings, name)
                if pid is not None:
                    echo(f"spark {name}: already running (pid {pid})")
                    continue
                log = log_folder(settings) / f"{name}.log"
                process = spawn(_command(name, ports, settings), log, env=env)
                _children[process.pid] = process
                _pid_file(settings, name).write_text(f"{process.pid}\n")
                started.append(name)
                launched.append((name, process, log))
            for name, process, log in launched:
                _wait_ready(name, ports, process, log)
                echo(f"spark {name}: started (pid {process.pid}, log {log})")
    except BaseException:
        stop(settings, only=started, echo=echo)
        raise
    echo(f"spark cluster: master {ports.master_url} (web UI http://{LOOPBACK}:{ports.master_webui}), "
         f"Thrift server {LOOPBACK}:{ports.thrift}")
    return started


def _stop_daemon(pid: int) -> None:
    # a worker's executors are in its group: stopped with it
    processes.stop_pid_group(pid, timeout=STOP_TIMEOUT)
    child = _children.pop(pid, None)
    if child is not None:
        child.wait()


def stop(settings: Settings, only: list[str] | None = None, echo=print) -> list[str]:
    """Stop the daemons of the cluster on this Spark folder (`only`: just those), the Thrift
    server first and the master last; returns the names of those that were running."""
    workers = _read_state(settings).get("workers", DEFAULT_WORKERS)
    names = [n for n in reversed(_daemon_names(workers)) if only is None or n in only]
    # workers beyond the recorded count, from an earlier start with more of them
    if only is None:
        names[1:1] = sorted((p.stem for p in pid_folder(settings).glob("worker-*.pid")
                             if p.stem not in names), reverse=True)
    stopped = []
    for name in names:
        pid = _running_pid(settings, name)
        if pid is not None:
            _stop_daemon(pid)
            stopped.append(name)
            echo(f"spark {name}: stopped (pid {pid})")
        _pid_file(settings, name).unlink(missing_ok=True)
    if only is None:
        _state_file(settings).unlink(missing_ok=True)
        if not stopped:
            echo("spark cluster: nothing was running")
    return stopped


def status(settings: Settings, echo=print) -> bool:
    """Print what runs; True when the whole cluster does."""
    state = _read_state(settings)
    workers = state.get("workers", DEFAULT_WORKERS)
    ports = ClusterPorts(**state["ports"]) if state else ClusterPorts.from_env(settings)
    running = {name: _running_pid(settings, name) for name in _daemon_names(workers)}
    for name, pid in running.items():
        echo(f"spark {name}: " + (f"running (pid {pid})" if pid else "not running"))
    if running["master"]:
        with suppress(OSError, ValueError):
            echo(f"spark master {ports.master_url}: {len(alive_workers(ports))} alive workers "
                 f"(http://{LOOPBACK}:{ports.master_webui})")
    if running["thrift"]:
        echo(f"spark Thrift server: {LOOPBACK}:{ports.thrift}")
    return all(running.values())


@contextmanager
def standalone_cluster(settings: Settings, workers: int = DEFAULT_WORKERS,
                       ports: ClusterPorts | None = None) -> Iterator[tuple[str, int]]:
    """A cluster for the time of the block (tests, the benchmark): yields the Thrift server's
    (host, port); stops what it started, even on error or Ctrl-C."""
    started = start(settings, workers=workers, ports=ports, echo=lambda _: None)
    try:
        yield LOOPBACK, _read_state(settings)["ports"]["thrift"]
    finally:
        if started:
            stop(settings, only=started, echo=lambda _: None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.spark.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "start":
        try:
            start(settings, workers=args.workers)
        except SparkClusterError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    if args.command == "stop":
        stop(settings)
        return 0
    return 0 if status(settings) else 1


if __name__ == "__main__":
    raise SystemExit(main())
