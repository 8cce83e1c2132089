"""SIGKILL during ingestion, during the dbt build and during publish: the next run converges.

A clean run of one small generated company is the reference: the ingestion assets through
Dagster, the dbt project built (seeds and models; its tests are the audit's business and
cost a minute here), and the analysts' copy published. Then each stage runs again in a
subprocess of its own, in a fresh process group, and is killed with SIGKILL in the middle:

- ingestion: once the warehouse's write-ahead log appears (a system's load is under way);
- dbt: once some models have been created (read from dbt's own output as it runs);
- publish: once the temporary file of the new copy appears beside the analysts' copy.

After each kill the test checks that the analysts' copy is the previous complete publication
(or absent), runs the stage again to completion, and requires the checksums of every raw
table (with the ledger and quarantine, minus their load ids and times), every mart and the
published copy to equal the clean run's, every landing file in the ledger exactly once.

The stages are run the way the Dagster assets run them (the ingestion assets themselves;
`dbt build`, which the dbt asset invokes; `publish()`, which the publish asset calls), not
through one whole `materialize_all` per fault, to keep the test within its time budget.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.analyst_copy import publish, read_publication
from orchestration.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SCALE, SEED = 0.05, 11  # the smallest scale the generator supports (0.03 fails in simulate)

# bookkeeping columns that differ between any two runs by design
_RUN_COLUMNS = ("load_id", "loaded_at", "quarantined_at")

_INGEST = """
import sys
from dagster import DagsterInstance, materialize
from dagster_dlt import DagsterDltResource
from orchestration.ingestion.assets import build_ingestion_assets
from orchestration.settings import Settings
result = materialize(build_ingestion_assets(Settings.from_env()), resources={"dlt_resource": DagsterDltResource()},
                     instance=DagsterInstance.ephemeral(), raise_on_error=False,
                     run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
sys.exit(0 if result.success else 1)
"""

_PUBLISH = """
import sys
from pathlib import Path
from orchestration.publish.analyst_copy import publish
publish(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
"""


@dataclasses.dataclass(frozen=True)
class Place:
    """One warehouse with its own landing zone, dbt folders and analysts' copy."""

    root: Path
    landing: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "warehouse" / "published.duckdb"

    def env(self) -> dict:
        (self.root / "warehouse").mkdir(parents=True, exist_ok=True)
        (self.root / "dagster_home").mkdir(exist_ok=True)
        return {
            **os.environ,
            "WAREHOUSE_DIR": str(self.root / "warehouse"), "WAREHOUSE_PATH": str(self.warehouse),
            "PUBLISHED_PATH": str(self.published), "LANDING_DIR": str(self.landing),
            "TRUTH_DIR": str(self.root / "truth"), "DAGSTER_HOME": str(self.root / "dagster_home"),
            "DBT_PROFILES_DIR": str(REPO), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
        }

    # ---------------------------------------------------------------- the three stages

    def ingest_command(self) -> list[str]:
        return [sys.executable, "-c", _INGEST]

    def dbt_command(self) -> list[str]:
        return [
            sys.executable, "-m", "dbt.cli.main", "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO),
            "--target-path", str(self.root / "dbt_target"), "--log-path", str(self.root / "dbt_logs"),
            # seeds and models; the tests are the audit's part (tests/test_audit_publish.py)
            "--exclude", "resource_type:test", "resource_type:unit_test",
        ]

    def publish_command(self, run_id: str) -> list[str]:
        return [sys.executable, "-c", _PUBLISH, str(self.warehouse), str(self.published), run_id]

    def settings(self) -> Settings:
        (self.root / "warehouse").mkdir(parents=True, exist_ok=True)
        base = Settings.from_env()
        return Settings(warehouse_dir=self.root / "warehouse", warehouse_path=self.warehouse,
                        landing_dir=self.landing, truth_dir=self.root / "truth", dbt_target=base.dbt_target,
                        dbt_profiles_dir=base.dbt_profiles_dir)

    def ingest_here(self) -> None:
        """The ingestion assets in this process (what the subprocess runs, without its imports)."""
        from dagster import DagsterInstance, materialize
        from dagster_dlt import DagsterDltResource

        from orchestration.ingestion.assets import build_ingestion_assets

        result = materialize(build_ingestion_assets(self.settings()), resources={"dlt_resource": DagsterDltResource()},
                             instance=DagsterInstance.ephemeral(), raise_on_error=False,
                             run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success, [e.message for e in result.all_events if e.is_failure]

    def run(self, command: list[str]) -> None:
        done = subprocess.run(command, env=self.env(), cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def _lambda_excluding(columns) -> str:
    listed = ", ".join(f"'{c}'" for c in columns)
    return f"columns(lambda c: c not in ({listed}))"


def checksums(path: Path, schemas: tuple[str, ...] = ("raw_%", "marts")) -> dict[str, tuple[int, int]]:
    """Per table: row count and an order-independent hash of its rows (run ids and times out)."""
    sums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        where = " or ".join(f"table_schema like '{s}'" for s in schemas)
        tables = con.execute(
            f"select table_schema, table_name from information_schema.tables where ({where}) "
            "and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, name in tables:
            sums[f"{schema}.{name}"] = tuple(con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) from "
                f'(select {_lambda_excluding(_RUN_COLUMNS)} from "{schema}"."{name}") t'
            ).fetchall()[0])
    return sums


def ledger_files(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        schemas = [r[0] for r in con.execute(
            "select table_schema from information_schema.tables where table_name = '_ingest_ledger'").fetchall()]
        rows = []
        for schema in schemas:
            rows += con.execute(f"select relative_path, status from {schema}._ingest_ledger").fetchall()
    return sorted(rows)


def landing_files(landing: Path) -> list[str]:
    return sorted(p.relative_to(landing).as_posix() for p in landing.glob("*/*/*.*"))


@functools.cache
def reference_build() -> Place:
    """The clean run (cached for the session: tests/test_pii.py and tests/test_concurrency.py
    read the same warehouse). Lives in the test session's temporary root."""
    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    root = Path(os.environ["WAREHOUSE_DIR"]).parent / "reliability_reference"
    shutil.rmtree(root, ignore_errors=True)
    place = Place(root, root / "landing")
    # the demo's mess: everything but stage values the mapping lacks (those stop the build)
    generate_company(place.landing, root / "truth", scale=SCALE, seed=SEED,
                     mess=dataclasses.replace(MessConfig(), unknown_stage=0.0))
    place.ingest_here()
    place.run(place.dbt_command())
    publish(place.warehouse, place.published, "reference")
    return place


def fresh_place(tmp_path: Path, reference: Place) -> Place:
    """A new warehouse over a copy of the reference's landing zone."""
    landing = tmp_path / "landing"
    shutil.copytree(reference.landing, landing)
    return Place(tmp_path, landing)


def kill_when(command: list[str], place: Place, ready, timeout: float = 300, output: Path | None = None) -> float:
    """Start `command` in its own process group; SIGKILL the group as soon as `ready()`.
    Returns how long it ran. Fails if the process ended before it could be killed."""
    started = time.monotonic()
    with open(output or os.devnull, "w") as sink:
        process = subprocess.Popen(command, env=place.env(), cwd=REPO, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            while not ready():
                assert process.poll() is None, f"the process ended (rc {process.returncode}) before the kill point"
                assert time.monotonic() - started < timeout, "kill point never reached"
                time.sleep(0.005)
            assert process.poll() is None, "the process ended before the kill point"
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL
    return time.monotonic() - started


def assert_published_intact(place: Place, expected_run: str | None, expected_sums: dict | None) -> None:
    """The analysts' copy is absent, or opens and holds exactly the previous publication."""
    if expected_run is None:
        assert not place.published.exists()
        return
    assert read_publication(place.published)["run_id"] == expected_run
    assert checksums(place.published, ("marts", "governance")) == expected_sums


@pytest.fixture(scope="module")
def reference(dbt_manifest) -> Place:
    return reference_build()


@pytest.fixture(scope="module")
def clean(reference):
    return {
        "raw_and_marts": checksums(reference.warehouse),
        "published": checksums(reference.published, ("marts", "governance")),
        "files": landing_files(reference.landing),
    }


def test_reference_run_is_complete(reference, clean):
    assert any(name.startswith("marts.") for name in clean["raw_and_marts"])
    assert read_publication(reference.published)["run_id"] == "reference"
    assert ledger_files(reference.warehouse) == [(f, "loaded") for f in clean["files"]]


@pytest.fixture(scope="module")
def recovered(reference, clean, tmp_path_factory):
    """One warehouse taken through all three faults in order (ingest, dbt, publish)."""
    return fresh_place(tmp_path_factory.mktemp("crash"), reference)


def test_sigkill_during_ingestion_then_rerun_converges(recovered, clean):
    wal = recovered.warehouse.with_name(recovered.warehouse.name + ".wal")
    seen = {}

    def ready():
        # a load is under way once DuckDB writes its log; let it run a moment further
        if wal.exists() and "at" not in seen:
            seen["at"] = time.monotonic()
        return "at" in seen and time.monotonic() - seen["at"] > 0.3

    kill_when(recovered.ingest_command(), recovered, ready)
    # the warehouse opens after the kill (no stale lock; the log is replayed) and holds a
    # part of the load: whole tables or nothing of them (one transaction per table)
    partial = ledger_files(recovered.warehouse)
    assert len(partial) < len(clean["files"]), "the kill came after the ingestion had finished"
    assert all(status == "loaded" for _, status in partial)
    assert_published_intact(recovered, None, None)
    recovered.ingest_here()
    # every landing file once in the ledger: none loaded twice, none skipped
    assert ledger_files(recovered.warehouse) == [(f, "loaded") for f in clean["files"]]
    raw = {k: v for k, v in clean["raw_and_marts"].items() if k.startswith("raw_")}
    assert checksums(recovered.warehouse, ("raw_%",)) == raw


def test_sigkill_during_dbt_build_then_rerun_converges(recovered, clean):
    output = recovered.root / "dbt_killed.log"

    def ready():
        return output.exists() and output.read_text(errors="replace").count(" OK created ") >= 12

    kill_when(recovered.dbt_command(), recovered, ready, output=output)
    text = output.read_text(errors="replace")
    assert "Completed successfully" not in text
    assert_published_intact(recovered, None, None)
    recovered.run(recovered.dbt_command())
    assert checksums(recovered.warehouse) == clean["raw_and_marts"]
    assert ledger_files(recovered.warehouse) == [(f, "loaded") for f in clean["files"]]


def test_sigkill_during_publish_keeps_the_previous_copy_then_rerun_converges(recovered, clean):
    publish(recovered.warehouse, recovered.published, "first")
    first = checksums(recovered.published, ("marts", "governance"))
    assert first == clean["published"]
    folder = recovered.published.parent

    def temporary_copies():
        return [p for p in folder.iterdir() if p.name.startswith(f".{recovered.published.name}.")]

    def ready():
        return bool(temporary_copies())

    kill_when(recovered.publish_command("second"), recovered, ready)
    # never half-written: the analysts' copy opens and is still the first publication
    assert_published_intact(recovered, "first", first)
    leftovers = temporary_copies()
    publish(recovered.warehouse, recovered.published, "third")
    assert_published_intact(recovered, "third", clean["published"])
    # the killed publish's temporary file does not survive the next publish
    assert not [p for p in leftovers if p.exists()], leftovers
