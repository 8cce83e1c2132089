"""Two runs at once, and readers during a write: writers are serialized, readers see the last
published copy.

DuckDB lets one process write a database file; a second process that opens it fails at once
("Could not set lock on file"). The Dagster pool `duckdb_writers` serializes steps of runs of
one Dagster instance only, so runs from two processes are serialized by the lock file of
orchestration/warehouse_lock.py, which `materialize_all` and `publish` take.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from orchestration.publish.analyst_copy import read_publication
from orchestration.warehouse_lock import WarehouseLockTimeout, lock_path, warehouse_lock
from tests.test_crash_recovery import REPO, Place, checksums, landing_files, ledger_files, reference_build

_HOLD = """
import sys, time
from pathlib import Path
from orchestration.warehouse_lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""

_RUN = """
import sys
from dagster import DagsterInstance, Definitions
from dagster_dlt import DagsterDltResource
from orchestration.ingestion.assets import build_ingestion_assets
from orchestration.materialize import materialize_all
from orchestration.settings import Settings
defs = Definitions(assets=build_ingestion_assets(Settings.from_env()), resources={"dlt_resource": DagsterDltResource()})
with DagsterInstance.ephemeral() as instance:
    _, summary = materialize_all(defs, instance, log_level="WARNING")
print(summary.success, summary.failed_steps, flush=True)
sys.exit(0 if summary.success else 1)
"""


def _holder(warehouse, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", _HOLD, str(warehouse), str(seconds)], cwd=REPO,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_the_lock_makes_a_second_process_wait_and_dies_with_its_holder(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    holder = _holder(warehouse, 2.0)
    try:
        with pytest.raises(WarehouseLockTimeout):
            with warehouse_lock(warehouse, timeout=0.3):
                pass
        started = time.monotonic()
        with warehouse_lock(warehouse):  # waits for the holder to let go
            waited = time.monotonic() - started
        assert waited > 1.0
    finally:
        holder.kill()
        holder.wait()
    # a holder killed with SIGKILL leaves no stale lock
    holder = _holder(warehouse, 60)
    holder.kill()
    holder.wait()
    with warehouse_lock(warehouse, timeout=2):
        # re-entrant within one process (materialize_all holds it, publish takes it again)
        with warehouse_lock(warehouse, timeout=0):
            pass
    assert lock_path(warehouse).exists()


@pytest.fixture(scope="module")
def reference(dbt_manifest) -> Place:
    return reference_build()


SYSTEMS = ("salesforce", "hubspot")  # two systems' files: enough to collide, quick to load


def test_two_runs_at_once_are_serialized_and_readers_see_the_published_copy(reference, tmp_path):
    place = Place(tmp_path, tmp_path / "landing")
    for system in SYSTEMS:
        shutil.copytree(reference.landing / system, place.landing / system)
    # the analysts' copy of an earlier run, read throughout
    place.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference.published, place.published)
    published = checksums(place.published, ("marts", "governance"))
    runs = [subprocess.Popen([sys.executable, "-c", _RUN], env=place.env(), cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    reads = 0
    while any(run.poll() is None for run in runs):
        # a reader during the writes opens the analysts' copy and finds the last publication
        assert read_publication(place.published)["run_id"] == "reference"
        reads += 1
        time.sleep(0.2)
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [o[-3000:] for o in outputs]
    assert reads > 0
    # one load of every file: the second run found them all in the ledger
    assert ledger_files(place.warehouse) == [(f, "loaded") for f in landing_files(place.landing)]
    schemas = tuple(f"raw_{system}" for system in SYSTEMS)
    assert checksums(place.warehouse, schemas) == checksums(reference.warehouse, schemas)
    assert checksums(place.published, ("marts", "governance")) == published


def test_a_reader_during_publish_sees_the_last_published_copy(reference, tmp_path):
    place = Place(tmp_path, reference.landing)
    place.published.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference.warehouse, place.warehouse)
    shutil.copy(reference.published, place.published)
    before = checksums(place.published, ("marts", "governance"))
    # an analyst who opened the copy before the publish
    analyst = duckdb.connect(str(place.published), read_only=True)
    try:
        rows_before = analyst.execute("select count(*) from marts.fct_leads").fetchall()
        publisher = subprocess.Popen(place.publish_command("next"), env=place.env(), cwd=REPO)
        during = 0
        while publisher.poll() is None:
            if any(p.name.endswith(".tmp") for p in place.published.parent.iterdir()):
                # a new reader while the new copy is being written: the last publication
                assert read_publication(place.published)["run_id"] == "reference"
                during += 1
            time.sleep(0.002)
        assert publisher.returncode == 0
        # the open connection keeps reading the copy it opened, whole
        assert analyst.execute("select count(*) from marts.fct_leads").fetchall() == rows_before
        assert analyst.execute("select run_id from main.publication").fetchall() == [("reference",)]
    finally:
        analyst.close()
    assert during > 0, "the publish ended before a reader could look during it"
    assert read_publication(place.published)["run_id"] == "next"
    assert checksums(place.published, ("marts", "governance")) == before  # same marts, new publication
