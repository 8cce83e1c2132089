"""One writer of the warehouse at a time, across processes: a lock file beside the warehouse.

DuckDB lets one process open a database file for writing; a second writer (a second run
started from a terminal, a schedule firing while `make demo` runs, a publish while dbt
builds) does not wait for the first but fails with "Could not set lock on file". The Dagster
pool `duckdb_writers` serializes steps only among runs of one Dagster instance; two
processes with their own (e.g. ephemeral) instances share nothing but the file system.

`warehouse_lock(path)` takes an exclusive `fcntl.flock` on `<warehouse file>.lock` and
waits for it. The kernel drops the lock when its holder dies, even by SIGKILL, so a crashed
run never leaves a stale lock behind (the lock file itself stays; it holds no data). The
lock is re-entrant within a process: `materialize_all` holds it for the whole run and the
publish step inside that run takes it again without waiting for itself.

Called from `orchestration.materialize.materialize_all` (a whole run) and
`orchestration.publish.analyst_copy.publish`. Runs launched by the Dagster daemon or UI do
not go through `materialize_all`: there the writers themselves must take it (the ingestion's
`native.load_system`, the dbt asset around `dbt.cli`, the GX checks' connection).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_SUFFIX = ".lock"

# lock file path -> (open descriptor, depth) for the locks this process holds
_held: dict[str, tuple[int, int]] = {}
_guard = threading.RLock()


class WarehouseLockTimeout(TimeoutError):
    """Another process held the warehouse for longer than the caller would wait."""


def lock_path(warehouse_path: Path) -> Path:
    warehouse_path = Path(warehouse_path)
    return warehouse_path.with_name(warehouse_path.name + LOCK_SUFFIX)


@contextmanager
def warehouse_lock(warehouse_path: Path, timeout: float | None = None) -> Iterator[Path]:
    """Hold the warehouse's writer lock (waiting up to `timeout` seconds; None: forever)."""
    path = lock_path(warehouse_path)
    key = str(path.resolve()) if path.parent.exists() else str(path)
    with _guard:
        if key in _held:  # this process holds it already: re-enter
            descriptor, depth = _held[key]
            _held[key] = (descriptor, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _acquire(descriptor, path, timeout)
        except BaseException:
            os.close(descriptor)
            raise
        with _guard:
            _held[key] = (descriptor, 1)
    try:
        yield path
    finally:
        with _guard:
            descriptor, depth = _held[key]
            if depth > 1:
                _held[key] = (descriptor, depth - 1)
            else:
                del _held[key]
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)


def _acquire(descriptor: int, path: Path, timeout: float | None) -> None:
    if timeout is None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WarehouseLockTimeout(f"{path}: another process has held the warehouse for over {timeout} s")
            time.sleep(0.05)
