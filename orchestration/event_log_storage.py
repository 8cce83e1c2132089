"""Dagster's SQLite event log, with its database connections kept open between writes.

Dagster's own `SqliteEventLogStorage` creates a SQLAlchemy engine for every write and
disposes of it afterwards (its `_connect`). Closing the last connection of a SQLite
database in WAL mode checkpoints the log into the file, and a new engine starts with an
empty statement cache, so every stored event paid a checkpoint, a fresh connection and a
fresh compile of its INSERTs: 6-10 ms per event on the benchmark machine, where an
asset event goes to two databases (the run's and the cross-run index). One `dbt build`
of this project reports ~1,750 events (a materialization per model, a check result per
test): 10-20 s of a whole run at 10M touch events spent storing them (`python -m
bench.event_log` measures both classes).

This subclass keeps one engine per database and process (a small LRU of run databases
plus the index), so a write is one transaction on an open connection, followed on a run's
database by a passive checkpoint (the webserver watches that file to show a running run
live): ~2.2 ms per event (300 materializations stored in a row, median of 3 processes:
6.3-6.9 ms with Dagster's class, 2.2 ms with this one).
A run's database is checkpointed at most every CHECKPOINT_INTERVAL seconds while events
arrive, and once more that long after the last of them: a checkpoint syncs the disk twice,
and one after every write was half the time of storing an event (the ~920 events a dbt
step reports at once after `dbt build`: 5.8 ms per event with a checkpoint after each,
2.9 ms without, `python -m bench.event_log --runs 3`). The webserver sees a write at most
that late; every committed event is in the write-ahead log at once, which readers read.
Its connections also commit with `PRAGMA synchronous=NORMAL`: in WAL mode (Dagster's for
these files) a commit then appends to the log without waiting for the disk to confirm,
and the disk is synced at checkpoints. A process or OS crash loses nothing committed; a
power loss can drop the last events, never corrupt the file. On a machine whose disk
syncs slowly that was 6.2-7.6 ms against 4.4-4.8 ms per event (`python -m
bench.event_log --runs 3`, three runs each, alternated).
Everything else, the files, the schema, what is written, the cross-run index, is
Dagster's: a home written by either class is read by the other, and `dagster dev` shows
it the same. `dagster_home/dagster.yaml` selects it through `RevenueCycleInstance`, whose
default storage is Dagster's SQLite storage in the instance's own folder with this event
log in it (an `event_log_storage:` entry could not know that folder: an instance loaded
from another folder than $DAGSTER_HOME would have written its events there). A
deployment that configures `storage:` (Postgres, say) uses what it configures.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import yaml
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

# Run databases kept open besides the index: the running run's, and a few a webserver or
# daemon in the same process may be reading. Older ones are closed, so that a long-lived
# process does not hold a file handle for every run it ever touched.
OPEN_RUN_DATABASES = 4
# Seconds between checkpoints of a run's database while its events arrive (module docstring)
CHECKPOINT_INTERVAL = 0.2


def _no_sync_on_commit(dbapi_connection, _record) -> None:
    # see the module's docstring: WAL keeps a crash harmless, the sync waits for checkpoints
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class ReusedConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses one engine (and its pooled connection) per database."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._engines_lock = threading.Lock()
        # run database -> when it was last checkpointed (time.monotonic()); the run
        # databases with a checkpoint scheduled
        self._checkpointed: dict[str, float] = {}
        self._checkpoint_due: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            if self._engines_pid != os.getpid():
                # a forked child must not share its parent's open SQLite connections (nor
                # its timers, which did not survive the fork)
                self._engines = OrderedDict()
                self._engines_pid = os.getpid()
                self._checkpointed, self._checkpoint_due = {}, set()
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _no_sync_on_commit)
            self._engines[shard] = engine
            runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for name in runs[: max(len(runs) - OPEN_RUN_DATABASES, 0)]:
                self._engines.pop(name).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # as Dagster's own _connect (one lock, the database created on first use, one
        # transaction per call), without disposing of the engine afterwards
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    self._checkpoint_after_write(shard, conn)

    def _checkpoint_after_write(self, shard: str, conn: Connection) -> None:
        # The webserver follows a running run by watching its database file
        # (SqliteEventLogStorageWatchdog); a committed write sits in the write-ahead log
        # until a checkpoint moves it into that file. Dagster's class checkpointed by
        # closing after every write; this one checkpoints at most every CHECKPOINT_INTERVAL
        # and schedules one for the last write of a burst. Called under self._db_lock.
        since = time.monotonic() - self._checkpointed.get(shard, float("-inf"))
        if since >= CHECKPOINT_INTERVAL:
            self._checkpoint(shard, conn)
        elif shard not in self._checkpoint_due:
            self._checkpoint_due.add(shard)
            timer = threading.Timer(CHECKPOINT_INTERVAL - since, self._deferred_checkpoint, args=(shard, os.getpid()))
            timer.daemon = True
            timer.start()

    def _deferred_checkpoint(self, shard: str, pid: int) -> None:
        with self._db_lock:
            if pid != os.getpid() or shard not in self._checkpoint_due:
                return  # checkpointed since by a write, or the storage was closed
            # under the engines' lock: close_connections() does not dispose of it meanwhile
            with self._engines_lock:
                engine = self._engines.get(shard)
                if engine is None:
                    self._checkpoint_due.discard(shard)
                    return  # closed, which checkpointed it
                with engine.connect() as conn:
                    self._checkpoint(shard, conn)

    def _checkpoint(self, shard: str, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self._checkpointed[shard] = time.monotonic()
        self._checkpoint_due.discard(shard)

    def close_connections(self) -> None:
        # closing a database's last connection checkpoints it: no scheduled one is needed
        self._checkpoint_due = set()
        with self._engines_lock:
            engines, self._engines = list(self._engines.values()), OrderedDict()
        for engine in engines:
            engine.dispose()

    def wipe(self) -> None:
        # wipe unlinks the run databases: connections left open would write to deleted files
        self.close_connections()
        super().wipe()

    def upgrade(self) -> None:
        self.close_connections()
        super().upgrade()

    def dispose(self) -> None:
        super().dispose()
        self.close_connections()


class ReusedConnectionSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event logs, schedules under one folder) with the
    event log above."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Dagster's own set-up, then its event log swapped for this one (the replaced object
        # has opened nothing that stays open: it only created the index database if missing)
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = ReusedConnectionSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data, **config_value)


class RevenueCycleInstance(DagsterInstance):
    """The Dagster instance of `dagster_home/dagster.yaml`: Dagster's own, whose default
    storage (no `storage:` in the YAML) is ReusedConnectionSqliteStorage in the instance's
    folder."""

    @classmethod
    def config_schema(cls):
        return {}

    @staticmethod
    def config_defaults(base_dir: str):
        defaults = dict(InstanceRef.config_defaults(base_dir))
        defaults["storage"] = ConfigurableClassData(
            __name__, ReusedConnectionSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}, default_flow_style=False)
        )
        return defaults
