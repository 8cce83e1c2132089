"""The instance's event log (orchestration/event_log_storage.py): Dagster's SQLite files,
written through connections kept open, read back the same by Dagster's own storage."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    asset,
    asset_check,
    materialize,
)
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

import orchestration.event_log_storage as event_log_storage
from orchestration.event_log_storage import OPEN_RUN_DATABASES, ReusedConnectionSqliteEventLogStorage
from orchestration.settings import REPO_ROOT


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def created_engines(monkeypatch) -> list[str]:
    """The database of every engine the storage creates."""
    created = []
    original = event_log_storage.create_engine

    def counting(url, **kwargs):
        created.append(Path(str(url).removeprefix("sqlite:///")).stem)
        return original(url, **kwargs)

    monkeypatch.setattr(event_log_storage, "create_engine", counting)
    return created


def _storage(home: Path) -> ReusedConnectionSqliteEventLogStorage:
    """The event log in the folder Dagster's default storage uses for `home`."""
    return ReusedConnectionSqliteEventLogStorage(str(home / "history" / "runs"))


def _materialization(run_id: str, name: str) -> EventLogEntry:
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name="job",
        event_specific_data=StepMaterializationData(AssetMaterialization(asset_key=AssetKey(name), metadata={"n": 1})),
        step_key="step",
    )
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                         step_key="step", job_name="job", dagster_event=event)


@asset
def _counted():
    return 1


@asset_check(asset=_counted)
def _counted_is_one():
    return AssetCheckResult(passed=True)


def test_the_project_instance_stores_a_run_that_dagsters_own_storage_reads_back(home):
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, ReusedConnectionSqliteEventLogStorage)
        result = materialize([_counted, _counted_is_one], instance=instance)
        assert result.success
        ours = [record.event_log_entry for record in instance.get_records_for_run(result.run_id, limit=10_000).records]

    # Dagster's default storage, opened on the same folder in a fresh object, sees every
    # event, the materialization mirrored in the cross-run index and the check's result
    theirs = SqliteEventLogStorage(str(home / "history" / "runs"))
    try:
        read = [record.event_log_entry for record in theirs.get_records_for_run(result.run_id, limit=10_000).records]
        assert [(e.dagster_event_type, e.timestamp) for e in read] == [(e.dagster_event_type, e.timestamp) for e in ours]
        assert DagsterEventType.ASSET_CHECK_EVALUATION in {e.dagster_event_type for e in read}
        latest = theirs.get_latest_materialization_events([AssetKey("_counted")])[AssetKey("_counted")]
        assert latest is not None and latest.run_id == result.run_id
    finally:
        theirs.dispose()


def test_one_engine_per_database_however_many_events(home, created_engines):
    storage = _storage(home)
    try:
        run_id = str(uuid.uuid4())
        for i in range(50):
            storage.store_event(_materialization(run_id, f"asset_{i % 7}"))
        assert len(storage.get_records_for_run(run_id, limit=100).records) == 50
        # an asset event is written to the run's database and mirrored in the index: one
        # engine each, not one per write (Dagster's own storage creates ~6 per event)
        assert sorted(created_engines) == sorted([run_id, "index"])
    finally:
        storage.dispose()


def test_a_long_lived_process_keeps_few_run_databases_open(home, created_engines):
    storage = _storage(home)
    try:
        runs = [str(uuid.uuid4()) for _ in range(OPEN_RUN_DATABASES + 3)]
        for run_id in runs:
            storage.store_event(_materialization(run_id, "a"))
        assert set(storage._engines) == {"index", *runs[-OPEN_RUN_DATABASES:]}
        # a closed run's database opens again when it is written to: nothing is lost
        storage.store_event(_materialization(runs[0], "a"))
        assert len(storage.get_records_for_run(runs[0], limit=10).records) == 2
        assert created_engines.count(runs[0]) == 2
    finally:
        storage.dispose()


def test_after_a_wipe_events_go_to_new_files_not_to_the_deleted_ones(home):
    storage = _storage(home)
    try:
        run_id = str(uuid.uuid4())
        storage.store_event(_materialization(run_id, "a"))
        storage.wipe()
        assert not (home / "history" / "runs" / f"{run_id}.db").exists()
        storage.store_event(_materialization(run_id, "b"))
    finally:
        storage.dispose()
    theirs = SqliteEventLogStorage(str(home / "history" / "runs"))
    try:
        records = theirs.get_records_for_run(run_id, limit=10).records
        assert [r.event_log_entry.dagster_event.asset_key for r in records] == [AssetKey("b")]
    finally:
        theirs.dispose()


def _store_in_child(storage: ReusedConnectionSqliteEventLogStorage, run_id: str) -> None:
    storage.store_event(_materialization(run_id, "from_child"))
    os._exit(0 if os.getpid() == storage._engines_pid else 3)


def test_a_forked_child_opens_its_own_connections(home):
    storage = _storage(home)
    try:
        run_id = str(uuid.uuid4())
        storage.store_event(_materialization(run_id, "from_parent"))
        parent_engine = storage._engines[run_id]
        child = multiprocessing.get_context("fork").Process(target=_store_in_child, args=(storage, run_id))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        assert storage._engines[run_id] is parent_engine
        storage.store_event(_materialization(run_id, "from_parent_again"))
        keys = [r.event_log_entry.dagster_event.asset_key for r in storage.get_records_for_run(run_id, limit=10).records]
        assert keys == [AssetKey("from_parent"), AssetKey("from_child"), AssetKey("from_parent_again")]
    finally:
        storage.dispose()


def test_an_instance_loaded_from_another_folder_keeps_its_events_there(home, tmp_path):
    """The storage's folder is the instance's own, not $DAGSTER_HOME's: an instance loaded
    from a folder (as the webserver's -d, or DagsterInstance.from_config) writes and reads
    there."""
    other = tmp_path / "other_home"
    other.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", other / "dagster.yaml")
    with DagsterInstance.from_config(str(other)) as instance:
        assert isinstance(instance.event_log_storage, ReusedConnectionSqliteEventLogStorage)
        result = materialize([_counted, _counted_is_one], instance=instance)
    assert result.success
    assert (other / "history" / "runs" / f"{result.run_id}.db").exists()
    assert not (home / "history").exists()
    theirs = SqliteEventLogStorage(str(other / "history" / "runs"))
    try:
        latest = theirs.get_latest_materialization_events([AssetKey("_counted")])[AssetKey("_counted")]
        assert latest is not None and latest.run_id == result.run_id
    finally:
        theirs.dispose()


def test_a_watched_run_sees_each_event_as_it_is_stored(home):
    """The webserver follows a running run by watching its database file (watchdog): every
    write must reach the file itself, not only SQLite's write-ahead log."""
    import threading

    storage = _storage(home)
    watcher = SqliteEventLogStorage(str(home / "history" / "runs"))  # the webserver's side
    try:
        run_id = str(uuid.uuid4())
        storage.store_event(_materialization(run_id, "first"))
        seen, arrived = [], threading.Event()

        def callback(entry, cursor):
            seen.append(entry.dagster_event.asset_key)
            arrived.set()

        watcher.watch(run_id, None, callback)
        time.sleep(0.5)  # the observer thread is watching
        for name in ("second", "third"):
            arrived.clear()
            storage.store_event(_materialization(run_id, name))
            assert arrived.wait(10), f"the watcher did not see {name!r}: {seen}"
        assert seen[-1] == AssetKey("third")
    finally:
        watcher.dispose()
        storage.dispose()


def test_a_burst_of_events_is_checkpointed_a_few_times_and_its_last_event_reaches_the_file(home):
    """A checkpoint after every write was half the cost of storing an event: while events
    arrive the run's file is checkpointed at most every CHECKPOINT_INTERVAL, and the last
    event of a burst still reaches the file (the watcher sees it) without another write."""
    import threading

    from sqlalchemy import event

    storage = _storage(home)
    watcher = SqliteEventLogStorage(str(home / "history" / "runs"))
    try:
        run_id = str(uuid.uuid4())
        storage.store_event(_materialization(run_id, "first"))
        checkpoints = []
        event.listen(storage._engine(run_id), "before_cursor_execute",
                     lambda conn, cursor, statement, *args: checkpoints.append(statement)
                     if "wal_checkpoint" in statement else None)
        seen, last = [], threading.Event()

        def callback(entry, cursor):
            seen.append(entry.dagster_event.asset_key)
            if entry.dagster_event.asset_key == AssetKey("burst_59"):
                last.set()

        watcher.watch(run_id, None, callback)
        time.sleep(0.5)  # the observer thread is watching
        started = time.monotonic()
        for i in range(60):
            storage.store_event(_materialization(run_id, f"burst_{i}"))
        stored = time.monotonic() - started
        assert last.wait(10), f"the watcher did not see the burst's last event: {seen[-3:]}"
        # one checkpoint per interval while the burst lasted, and the scheduled last one
        assert 1 <= len(checkpoints) <= stored / event_log_storage.CHECKPOINT_INTERVAL + 2 < 60, (len(checkpoints), stored)
        assert [r.event_log_entry.dagster_event.asset_key for r in storage.get_records_for_run(run_id, limit=100).records][-1] \
            == AssetKey("burst_59")
    finally:
        watcher.dispose()
        storage.dispose()


def _store_and_die(base_dir: str, run_id: str, events: int) -> None:
    storage = ReusedConnectionSqliteEventLogStorage(base_dir)
    for i in range(events):
        storage.store_event(_materialization(run_id, f"asset_{i}"))
    os._exit(0)  # killed: no dispose, no close, no checkpoint of the index


def test_commits_without_waiting_for_the_disk_and_a_killed_writer_loses_nothing(home):
    """synchronous=NORMAL in WAL mode: a commit does not wait for fsync (only a power loss
    could drop the last commits), and every committed event survives the writer's process
    dying without closing anything."""
    storage = _storage(home)
    try:
        run_id = str(uuid.uuid4())
        storage.store_event(_materialization(run_id, "a"))
        for shard in (run_id, "index"):
            with storage._engine(shard).connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        storage.dispose()

    run_id = str(uuid.uuid4())
    child = multiprocessing.get_context("spawn").Process(
        target=_store_and_die, args=(str(home / "history" / "runs"), run_id, 25)
    )
    child.start()
    child.join(120)
    assert child.exitcode == 0
    theirs = SqliteEventLogStorage(str(home / "history" / "runs"))
    try:
        assert len(theirs.get_records_for_run(run_id, limit=100).records) == 25
        # and mirrored in the cross-run index
        latest = theirs.get_latest_materialization_events([AssetKey(f"asset_{i}") for i in range(25)])
        assert all(event is not None and event.run_id == run_id for event in latest.values())
    finally:
        theirs.dispose()
