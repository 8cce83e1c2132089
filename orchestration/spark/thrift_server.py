"""The Thrift server through which the Python side (GX, publish, metadata reads, the demo's
summary) talks SQL to Spark with PyHive.

On the `spark_thrift` target that is the cluster's server (orchestration/spark/cluster.py),
which runs on its own and is only checked here. On the `spark` target dbt runs Spark inside
its own process, and Spark's embedded metastore (Derby, `<spark dir>/metastore_db`) admits one
process at a time: so the Python side starts a local server only for the duration of its
work, with the project's configuration folder, and stops it after, which frees the metastore
for the next dbt session.

Nested use in one process shares one server (a Dagster step that reads twice starts one),
and the process holds the metastore lock file (`metastore_lock`) while its server runs, so
that two processes never start one each on the same folder: the second waits. The server's
pid is in `<spark dir>/pids/thrift-local.pid`: a process killed before it could stop its
server leaves it running, holding the metastore, and the next one to take the lock (which
proves the owner gone) stops it first.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration.settings import Settings
from orchestration.spark.conf import LOOPBACK, spark_home, write_conf_dir
from orchestration.spark.processes import is_spark_process, spawn, stop_group, stop_pid_group
from orchestration.warehouse_lock import warehouse_lock

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
# the command that starts the cluster whose server the spark_thrift target uses
CLUSTER_START_COMMAND = "make spark-cluster-start"
# measured here: ~11 s until the port listens on an idle machine; a loaded one is slower
START_TIMEOUT = 180.0
LOG_TAIL_LINES = 30


class SparkThriftError(RuntimeError):
    """No Thrift server answers, or a local one could not be started."""


def thrift_user() -> str:
    # the user name the server sees; the same variable as the spark_thrift profile's `user`
    return os.environ.get("SPARK_USER", "revenue_cycle")


def log_folder(settings: Settings) -> Path:
    return settings.spark_dir / "logs"


def metastore_lock(settings: Settings, timeout: float | None = None):
    """Hold `<spark dir>/metastore_db.lock`: whoever opens the Derby metastore of this folder
    from Python (a local Thrift server, a dbt session started by Python) holds it first."""
    return warehouse_lock(settings.spark_dir / "metastore_db", timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log, after its first error line if that is earlier (a
    launcher that refuses its arguments prints the reason first, then pages of usage)."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    tail = text[-lines:]
    first_error = next((line for line in text if "error" in line.lower() or "exception" in line.lower()), None)
    if first_error is not None and first_error not in tail:
        tail = [first_error, "...", *tail]
    return "\n".join(tail)


def listening(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def connect(host: str, port: int):
    """A PyHive connection to the server at host:port."""
    from pyhive import hive

    return hive.connect(host, port, username=thrift_user())


def answers(host: str, port: int) -> None:
    """Raise unless the server at host:port runs a query that reads the metastore."""
    connection = connect(host, port)
    try:
        cursor = connection.cursor()
        # `show databases` opens the metastore: a server that cannot (Derby held by another
        # process) fails here, not at the caller's first query
        cursor.execute("show databases")
        cursor.fetchall()
    finally:
        connection.close()


def thrift_server_command(port: int, master: str | None = None, host: str = LOOPBACK) -> list[str]:
    """The launcher of a Thrift server on `master` (None: the conf folder's, dbt's session's)."""
    return [
        str(spark_home() / "bin" / "spark-submit"),
        *(["--master", master] if master else []),
        "--class", THRIFT_SERVER_CLASS,
        "--hiveconf", f"hive.server2.thrift.bind.host={host}",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        "spark-internal",
    ]


def spark_environment(settings: Settings) -> dict[str, str]:
    """The environment of a Spark process started from here: the project's conf folder."""
    return {
        **os.environ,
        "SPARK_CONF_DIR": str(write_conf_dir(settings)),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_HOME": str(spark_home()),
    }


def wait_until_answering(process: subprocess.Popen, host: str, port: int, log: Path,
                         what: str, timeout: float = START_TIMEOUT) -> None:
    """Wait for the server started as `process` to answer; raise quoting its log if it dies,
    times out or cannot open the metastore."""
    deadline = time.monotonic() + timeout
    while not listening(host, port, timeout=0.5):
        if process.poll() is not None:
            raise SparkThriftError(
                f"{what} exited with code {process.returncode} before listening on {host}:{port}; "
                f"last lines of {log}:\n{log_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise SparkThriftError(f"{what} did not listen on {host}:{port} within {timeout:.0f} s; "
                                   f"last lines of {log}:\n{log_tail(log)}")
        time.sleep(0.25)
    try:
        answers(host, port)
    except Exception as error:
        raise SparkThriftError(f"{what} on {host}:{port} does not answer ({error}); "
                               f"last lines of {log}:\n{log_tail(log)}") from error


@dataclass
class _LocalServer:
    host: str
    port: int
    process: subprocess.Popen
    log: Path
    lock: object
    users: int = 0


# spark dir -> the local server this process runs on it
_running: dict[Path, _LocalServer] = {}
_guard = threading.Lock()


def _pid_file(settings: Settings) -> Path:
    return settings.spark_dir / "pids" / "thrift-local.pid"


def _stop_orphan(settings: Settings) -> None:
    """Stop a local server whose owner died without stopping it (called holding the lock)."""
    path = _pid_file(settings)
    if path.exists():
        pid = int(path.read_text().split()[0])
        if is_spark_process(pid, THRIFT_SERVER_CLASS, settings.spark_dir):
            stop_pid_group(pid)
        path.unlink()


def _start_local(settings: Settings) -> _LocalServer:
    lock = metastore_lock(settings)
    lock.__enter__()
    try:
        _stop_orphan(settings)
        port = free_port()
        log = log_folder(settings) / "thrift-local.log"
        process = spawn(thrift_server_command(port), log, env=spark_environment(settings))
        try:
            _pid_file(settings).parent.mkdir(parents=True, exist_ok=True)
            _pid_file(settings).write_text(f"{process.pid}\n")
            wait_until_answering(process, LOOPBACK, port, log, "the local Spark Thrift server")
        except BaseException:
            stop_group(process)
            _pid_file(settings).unlink(missing_ok=True)
            raise
    except BaseException:
        lock.__exit__(None, None, None)
        raise
    return _LocalServer(LOOPBACK, port, process, log, lock)


@contextmanager
def _local_server(settings: Settings) -> Iterator[tuple[str, int]]:
    key = settings.spark_dir.resolve()
    with _guard:
        server = _running.get(key)
        if server is None:
            server = _running[key] = _start_local(settings)
        server.users += 1
    try:
        yield server.host, server.port
    finally:
        # stopped under the guard: a server started by another thread meanwhile would open
        # the metastore before this one has let go of it
        with _guard:
            server.users -= 1
            if server.users == 0:
                del _running[key]
                try:
                    stop_group(server.process)
                    _pid_file(settings).unlink(missing_ok=True)
                finally:
                    server.lock.__exit__(None, None, None)


@contextmanager
def thrift_server(settings: Settings) -> Iterator[tuple[str, int]]:
    """(host, port) of a Spark Thrift server that answers PyHive queries on the warehouse of
    `settings`: the cluster's on `spark_thrift` (left running), a local one on `spark`
    (started now, or shared with an enclosing use, and stopped after the last user)."""
    if settings.dbt_target == "spark_thrift":
        host, port = settings.spark_thrift_host, settings.spark_thrift_port
        if not listening(host, port, timeout=5.0):
            raise SparkThriftError(
                f"no Spark Thrift server answers on {host}:{port} (SPARK_THRIFT_HOST, "
                f"SPARK_THRIFT_PORT); start the cluster with `{CLUSTER_START_COMMAND}`"
            )
        yield host, port
        return
    if not settings.is_spark:
        raise ValueError(f"target {settings.dbt_target!r} does not run on Spark")
    with _local_server(settings) as address:
        yield address
