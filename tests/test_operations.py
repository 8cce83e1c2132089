"""Operations: the schedules, the landing sensor, freshness policies, retries, the daily run
(new files only), the cleanup of dbt's run folders.

The daily job runs once for real on a small generated company (`daily_run_demo()`, shared
with tests/test_ui_browser.py, which shows that warehouse in the Dagster UI).
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetKey,
    Backoff,
    DagsterInstance,
    ExecuteInProcessResult,
    build_sensor_context,
    validate_run_config,
)
from dagster._core.definitions.dependency import NodeHandle

from orchestration.settings import REPO_ROOT, Settings
from tests.conftest import dbt_command, make_settings

DEMO_SCALE = 0.05
DEMO_SEED = 42
FCT_LEADS = AssetKey(["marts", "fct_leads"])
RAW_LEAD = AssetKey(["raw", "salesforce", "lead"])


# --------------------------------------------------------------------------- shared demo


@dataclasses.dataclass
class DemoWarehouse:
    root: Path
    settings: Settings
    dagster_home: Path
    result: ExecuteInProcessResult
    seconds: float

    def env(self) -> dict[str, str]:
        """The environment a process needs to see this warehouse (e.g. dagster-webserver)."""
        return {
            **os.environ,
            "WAREHOUSE_DIR": str(self.settings.warehouse_dir),
            "WAREHOUSE_PATH": str(self.settings.warehouse_path),
            "LANDING_DIR": str(self.settings.landing_dir),
            "TRUTH_DIR": str(self.settings.truth_dir),
            "DAGSTER_HOME": str(self.dagster_home),
            "DBT_PROFILES_DIR": str(self.settings.dbt_profiles_dir),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }


def persistent_instance(dagster_home: Path) -> DagsterInstance:
    """A DagsterInstance on disk with the project's instance settings (pool, telemetry)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    return DagsterInstance.from_config(str(dagster_home))


def retried_steps(result) -> list[str]:
    """The steps of a run that failed and were retried, each with the error that failed it
    (the cause under Dagster's RetryRequestedFromPolicy)."""
    retried = []
    for event in result.all_events:
        if event.event_type_value == "STEP_UP_FOR_RETRY":
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            retried.append(f"{event.step_key}: {error.message.strip()}")
    return retried


@functools.lru_cache(maxsize=1)
def daily_run_demo() -> DemoWarehouse:
    """A small company, generated into its own folders and run through the `daily_refresh`
    job once, with run history in its own DAGSTER_HOME (kept for the webserver)."""
    from orchestration.definitions import build_definitions
    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    # A run records ~1,100 events (a planned and a done event per asset and check) in
    # SQLite, which syncs each write to disk: in memory (tmpfs) the run takes a minute less.
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        root = Path(tempfile.mkdtemp(prefix="revenue-cycle-ops-demo-", dir=shm))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    else:  # under the session's temporary root (tests/conftest.py removes it at the end)
        root = Path(tempfile.mkdtemp(prefix="ops-demo-", dir=Path(os.environ["DAGSTER_HOME"]).parent))
    settings = make_settings(root)
    # every kind of mess except stage values the mapping lacks, which stop the build by design
    mess = dataclasses.replace(MessConfig(), unknown_stage=0.0)
    generate_company(settings.landing_dir, settings.truth_dir, scale=DEMO_SCALE, seed=DEMO_SEED, mess=mess)
    started = time.perf_counter()
    with persistent_instance(root / "dagster_home") as instance:
        job = build_definitions(settings).resolve_job_def("daily_refresh")
        result = job.execute_in_process(
            instance=instance,
            tags={"revenue_cycle/trigger": "daily"},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    seconds = time.perf_counter() - started
    print(f"daily_refresh on the demo company took {seconds:.1f} s")
    return DemoWarehouse(root, settings, root / "dagster_home", result, seconds)


# --------------------------------------------------------------------------- definitions


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_schedules_run_every_asset_daily_and_a_full_refresh_weekly(defs):
    from orchestration.schedules import DAILY_CRON, WEEKLY_CRON

    schedules = {s.name: s for s in defs.schedules}
    assert set(schedules) == {"daily_refresh_schedule", "weekly_full_refresh_schedule"}
    daily, weekly = schedules["daily_refresh_schedule"], schedules["weekly_full_refresh_schedule"]
    assert (daily.cron_schedule, daily.job_name, daily.tags) == (
        DAILY_CRON, "daily_refresh", {"revenue_cycle/trigger": "daily"}
    )
    assert (weekly.cron_schedule, weekly.job_name) == (WEEKLY_CRON, "weekly_full_refresh")
    assert weekly.tags == {"revenue_cycle/trigger": "weekly_full_refresh"}
    assert daily.execution_timezone == weekly.execution_timezone == "UTC"

    every_asset = defs.resolve_asset_graph().materializable_asset_keys
    every_check = defs.resolve_asset_graph().asset_check_keys
    for name in ("daily_refresh", "weekly_full_refresh"):
        job = defs.resolve_job_def(name)
        assert job.asset_layer.selected_asset_keys == every_asset, name
        assert {AssetKey(["published", "fct_leads"]), RAW_LEAD, FCT_LEADS} <= job.asset_layer.selected_asset_keys
        assert job.asset_layer.asset_graph.asset_check_keys == every_check, name
        assert job.tags["revenue_cycle/job"] == name


def test_weekly_job_passes_full_refresh_to_dbt(defs):
    from orchestration.dbt.assets import DbtBuildConfig, dbt_build_args

    assert defs.resolve_job_def("weekly_full_refresh").run_config == {
        "ops": {"dbt_revenue_cycle": {"config": {"full_refresh": True}}}
    }
    assert not defs.resolve_job_def("daily_refresh").run_config
    # the config is what the dbt op accepts (a typo would only fail on Sunday morning)
    weekly = defs.resolve_job_def("weekly_full_refresh")
    assert validate_run_config(weekly, weekly.run_config)["ops"]["dbt_revenue_cycle"]["config"] == {"full_refresh": True}
    assert dbt_build_args(DbtBuildConfig(full_refresh=True)) == ["build", "--exclude-resource-type", "unit_test", "--full-refresh"]
    assert dbt_build_args(DbtBuildConfig()) == ["build", "--exclude-resource-type", "unit_test"]


def test_freshness_policies_on_raw_tables_and_marts(defs):
    from orchestration.schedules import MART_FRESHNESS, RAW_FRESHNESS

    graph = defs.resolve_asset_graph()
    by_layer: dict[str, set] = {}
    for key in graph.materializable_asset_keys:
        by_layer.setdefault(key.path[0], set()).add(graph.get(key).freshness_policy)
    assert by_layer["raw"] == {RAW_FRESHNESS}
    assert by_layer["marts"] == {MART_FRESHNESS}
    for layer in ("staging", "revenue_cycle", "governance", "published"):
        assert by_layer[layer] == {None}, layer
    from orchestration.ingestion.tables import tables_by_system

    raw_tables = sum(len(tables) for tables in tables_by_system().values())
    assert len([k for k in graph.materializable_asset_keys if k.path[0] == "raw"]) == raw_tables


def test_retries_with_exponential_backoff(defs):
    from orchestration.dbt.assets import _TRANSIENT
    from orchestration.schedules import RETRY_POLICY

    assert RETRY_POLICY.backoff == Backoff.EXPONENTIAL and RETRY_POLICY.max_retries >= 1
    job = defs.resolve_job_def("daily_refresh")
    assert job.op_retry_policy == RETRY_POLICY
    for op in ("dbt_revenue_cycle", "ingest_salesforce", "ingest_hubspot"):
        assert job.get_retry_policy_for_handle(NodeHandle(op, None)) == RETRY_POLICY, op
    # only what can clear by itself is retried
    assert _TRANSIENT.search('IO Error: Could not set lock on file "/w/warehouse.duckdb"')
    assert not _TRANSIENT.search("Failure in test unique_fct_leads_person_id (models/marts/fct_leads.yml)")


def test_sensor_requests_only_the_assets_new_files_affect(tmp_path, dbt_manifest):
    from orchestration.definitions import build_definitions

    settings = make_settings(tmp_path)
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("landing_zone_sensor")

    def tick(cursor):
        return sensor.evaluate_tick(build_sensor_context(cursor=cursor, definitions=defs))

    first = tick(None)
    assert not first.run_requests and first.skip_message
    new = settings.landing_dir / "salesforce" / "lead" / "2026-07-01.csv"
    new.parent.mkdir(parents=True)
    new.write_text("id\n1\n")
    request = tick(first.cursor).run_requests[0]
    selected = set(request.asset_selection)
    assert {RAW_LEAD, AssetKey(["staging", "stg_salesforce__leads"]), FCT_LEADS} <= selected
    # the publish writes every mart in one file: it runs whole, or not at all
    published = {k for k in defs.resolve_asset_graph().materializable_asset_keys if k.path[0] == "published"}
    assert published <= selected
    # nothing that the new file does not feed
    assert not {k for k in selected if k.path[0] == "raw"} - {RAW_LEAD}
    assert AssetKey(["staging", "stg_hubspot__contacts"]) not in selected
    assert not {k for k in selected if k.path[0] == "governance"}
    assert request.tags["revenue_cycle/trigger"] == "landing_zone_sensor"
    # a subset of the daily job, so its runs carry the job's retry policy and tags
    assert sensor.job_name == "daily_refresh"
    subset = defs.resolve_job_def("daily_refresh").get_subset(asset_selection=selected)
    assert subset.asset_layer.selected_asset_keys == selected
    # with the checks on what it rebuilds: the audit runs before the publish
    assert {"ingest_salesforce", "dbt_revenue_cycle", "great_expectations_suites", "publish_marts"} == {
        node.name for node in subset.graph.nodes
    }


# --------------------------------------------------------------------------- real runs


def test_daily_run_builds_audits_and_publishes_with_governance_metadata(dbt_manifest):
    demo = daily_run_demo()
    result = demo.result
    failed_checks = [e.asset_check_key.to_user_string() for e in result.get_asset_check_evaluations() if not e.passed]
    assert result.success and not failed_checks, failed_checks
    # a step that failed and succeeded on its retry is a success too: each ran once
    assert retried_steps(result) == []
    assert result.dagster_run.tags["revenue_cycle/trigger"] == "daily"
    assert result.dagster_run.tags["revenue_cycle/job"] == "daily_refresh"

    materializations = {
        m.asset_key: m for m in (e.event_specific_data.materialization for e in result.get_asset_materialization_events())
    }
    assert {RAW_LEAD, FCT_LEADS, AssetKey(["published", "fct_leads"])} <= set(materializations)
    mart = materializations[FCT_LEADS].metadata
    with duckdb.connect(str(demo.settings.warehouse_path), read_only=True) as con:
        rows = con.execute("select count(*) from marts.fct_leads").fetchall()[0][0]
        columns = [r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_leads' order by ordinal_position"
        ).fetchall()]
    assert mart["dagster/row_count"].value == rows
    assert [c.name for c in mart["dagster/column_schema"].schema.columns] == columns
    # a view's schema is reported, its row count is not: counting would run the view's query
    view = materializations[AssetKey(["staging", "stg_salesforce__leads"])].metadata
    assert "dagster/column_schema" in view and "dagster/row_count" not in view
    # column-level lineage: each column of the mart traced to columns of its parents
    lineage = mart["dagster/column_lineage"].column_lineage
    parents = {d.asset_key for deps in lineage.deps_by_column.values() for d in deps}
    assert set(lineage.deps_by_column) <= set(columns) and parents and FCT_LEADS not in parents
    # the run left no DuckDB handle open in this process: a read-write connection opens
    duckdb.connect(str(demo.settings.warehouse_path)).close()


def test_pii_columns_are_tagged_in_the_column_schema(defs):
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey(["staging", "stg_salesforce__leads"]))
    schema = node.metadata["dagster/column_schema"]
    tagged = {c.name for c in schema.columns if "pii" in (c.tags or {})}
    assert "lead_email" in tagged and "lead_id" not in tagged
    assert "pii" in node.tags
    assert node.metadata["pii_columns"].value == sorted(tagged, key=[c.name for c in schema.columns].index)
    assert node.owners == ["team:sales", "team:data_platform"]


def _ledger(settings: Settings) -> list[tuple[str, str, int]]:
    """(file, load id, rows loaded) of every landing file every system's ledger records."""
    from orchestration.ingestion.tables import tables_by_system

    union = " union all ".join(
        f"select relative_path, load_id, rows_loaded from raw_{system}._ingest_ledger" for system in tables_by_system()
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(f"{union} order by 1").fetchall()


@dataclasses.dataclass
class NewDay:
    new_files: list[str]
    ledger_before: list
    ledger_after: list
    second: dict  # asset key -> materialization metadata of the daily run after the new day
    third: dict  # the same for the ingestion of a run with nothing new


@functools.lru_cache(maxsize=1)
def after_one_new_day() -> NewDay:
    """Run 1 (the demo) loaded the initial export; a day of exports arrives; the whole
    daily job runs (run 2); then its ingestion runs again with nothing new (run 3)."""
    from orchestration.definitions import build_definitions
    from orchestration.sources.generate import append_days

    demo = daily_run_demo()
    settings = demo.settings
    before = _ledger(settings)
    existing = {p.relative_to(settings.landing_dir) for p in settings.landing_dir.rglob("*.*")}
    append_days(settings.landing_dir, settings.truth_dir, days=1)
    new_files = sorted(
        p.relative_to(settings.landing_dir).as_posix()
        for p in settings.landing_dir.rglob("*.*")
        if p.relative_to(settings.landing_dir) not in existing
    )
    job = build_definitions(settings).resolve_job_def("daily_refresh")

    def run(selection, label):
        started = time.perf_counter()
        with DagsterInstance.from_config(str(demo.dagster_home)) as instance:
            result = job.execute_in_process(
                instance=instance, asset_selection=selection, tags={"revenue_cycle/trigger": "daily"},
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
        failed = [e.asset_check_key.to_user_string() for e in result.get_asset_check_evaluations() if not e.passed]
        assert result.success and not failed, failed
        assert retried_steps(result) == []
        print(f"daily_refresh, {label}: {time.perf_counter() - started:.1f} s")
        return {
            m.asset_key: m.metadata
            for m in (e.event_specific_data.materialization for e in result.get_asset_materialization_events())
        }

    second = run(None, "the whole job after a new day")
    after = _ledger(settings)
    raw = [k for k in job.asset_layer.selected_asset_keys if k.path[0] == "raw"]
    third = run(raw, "ingestion with nothing new")
    return NewDay(new_files, before, after, second, third)


def test_daily_run_after_new_files_loads_only_them(dbt_manifest):
    """The daily job's ingestion (run 2) loads exactly the new files' rows; run 3 with
    nothing new loads nothing."""
    day = after_one_new_day()
    assert day.new_files
    added = sorted(set(day.ledger_after) - set(day.ledger_before))
    assert set(day.ledger_before) <= set(day.ledger_after)
    assert sorted(path for path, _, _ in added) == day.new_files
    raw = {key: metadata for key, metadata in day.second.items() if key.path[0] == "raw"}
    assert raw
    # per raw table: the files and rows this run loaded are exactly the new files'
    for key, metadata in raw.items():
        system, table = key.path[1:]
        expected = [f for f in day.new_files if f.startswith(f"{system}/{table}/")]
        assert metadata["files_loaded"].value == expected, key
        assert metadata["files_skipped_unchanged"].value > 0, key
    # the rows this run loaded are the new files' rows, as the ledger records them per file
    new_rows = sum(rows for _, _, rows in added)
    assert new_rows > 0
    assert sum(metadata["rows_loaded"].value for metadata in raw.values()) == new_rows
    print(f"run 2 loaded {len(added)} new files, {new_rows} rows; "
          f"{sum(m['files_skipped_unchanged'].value for m in raw.values())} known files skipped")

    assert all(m["files_loaded"].value == [] and m["rows_loaded"].value == 0 for m in day.third.values())
    assert _ledger(daily_run_demo().settings) == day.ledger_after


def _incremental_models(manifest_path: Path) -> dict[str, tuple[str, str]]:
    import json

    from orchestration.dbt.metadata import incremental_models

    return incremental_models(json.loads(manifest_path.read_text()))


def test_daily_run_processes_only_the_new_files_in_the_incremental_models(dbt_manifest):
    """Each incremental model (page views, email events, contact property history, touch
    events) processed exactly the rows of the new day's landing files, and reports it."""
    day = after_one_new_day()
    settings = daily_run_demo().settings
    models = _incremental_models(dbt_manifest)
    assert {"stg_segment__pages", "stg_hubspot__email_events", "stg_hubspot__contact_property_history",
            "int_touch_events"} <= {unique_id.split(".")[-1] for unique_id in models}
    by_name = {key.path[-1]: metadata for key, metadata in day.second.items() if key.path[0] != "raw"}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for unique_id, (schema, name) in models.items():
            metadata = by_name[name]
            files = con.execute(f'select distinct landing_file from "{schema}"."{name}"').fetchall()
            new = sorted(f for (f,) in files if f in day.new_files)
            rows_new, rows_all = con.execute(
                f'select count(*) filter (where landing_file in (select unnest(?))), count(*) from "{schema}"."{name}"',
                [new],
            ).fetchall()[0]
            assert metadata["incremental_mode"].value == "incremental", name
            assert metadata["landing_files_new"].value == new, name
            assert metadata["rows_processed"].value == rows_new < rows_all, name
            # a small company's day can bring no contact property change; the streams always do
            if name in ("stg_segment__pages", "stg_hubspot__email_events", "int_touch_events"):
                assert rows_new > 0, name
            print(f"{name}: {rows_new} of {rows_all} rows processed, from {len(new)} new landing files")


def test_incremental_models_equal_a_full_rebuild(tmp_path, dbt_manifest):
    """After the incremental daily run, every model equals what `dbt run --full-refresh`
    builds from the same raw layer (a copy of the warehouse): count and content hash."""
    import subprocess

    after_one_new_day()
    settings = daily_run_demo().settings
    copy = tmp_path / "full_refresh.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    env = {**daily_run_demo().env(), "WAREHOUSE_PATH": str(copy)}
    subprocess.run(
        dbt_command(settings, tmp_path, "run", "--full-refresh", "--quiet"), env=env, check=True,
    )

    def content(path):
        with duckdb.connect(str(path), read_only=True) as con:
            relations = con.execute(
                "select schema_name, table_name from duckdb_tables() where schema_name in ('staging', 'intermediate', 'marts') "
                "union all select schema_name, view_name from duckdb_views() where schema_name in ('staging', 'intermediate', 'marts')"
            ).fetchall()
            return {
                f"{schema}.{name}": con.execute(f'select count(*), sum(hash(r)) from "{schema}"."{name}" as r').fetchall()[0]
                for schema, name in relations
            }

    incremental, rebuilt = content(settings.warehouse_path), content(copy)
    assert len(incremental) > 50 and set(incremental) == set(rebuilt)
    assert {k: (v, rebuilt[k]) for k, v in incremental.items() if v != rebuilt[k]} == {}
    print(f"{len(incremental)} relations identical after the incremental run and a full refresh")


def test_an_incremental_run_resolves_again_the_touches_whose_keys_resolve_differently(tmp_path, dbt_manifest):
    """int_touchpoints keeps with each page view and email event the keys of its identity and
    attributes and what they resolved to; an incremental run replaces the touches whose keys
    resolve differently now (macros/touch_resolution.sql). Stale resolutions planted in a copy
    of the daily run's warehouse (a wrong person on every touch of one identity, a wrong
    channel on every touch of one attribute tuple) are repaired by one incremental run, which
    leaves the table exactly as it was: nothing lost, nothing duplicated."""
    import subprocess

    after_one_new_day()
    settings = daily_run_demo().settings
    copy = tmp_path / "stale.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    table = "intermediate.int_touchpoints"
    fingerprint = f"select count(*), sum(hash(t)) from {table} as t"
    with duckdb.connect(str(copy)) as con:
        before = con.execute(fingerprint).fetchall()[0]
        identity_key, attribute_key = con.execute(
            f"select arg_max(identity_key, n), arg_max(attribute_key, n) from ("
            f"  select identity_key, attribute_key, count(*) over (partition by identity_key) as n"
            f"  from {table} where person_id is not null and identity_key is not null)"
        ).fetchall()[0]
        staled = con.execute(f"update {table} set person_id = 'stale' where identity_key = ?", [identity_key]).fetchall()[0][0]
        staled += con.execute(f"update {table} set channel = 'stale' where attribute_key = ?", [attribute_key]).fetchall()[0][0]
        assert staled > 2 and con.execute(fingerprint).fetchall()[0] != before

    env = {**daily_run_demo().env(), "WAREHOUSE_PATH": str(copy)}
    subprocess.run(
        dbt_command(settings, tmp_path, "run", "--select", "int_touchpoints", "--quiet"), env=env, check=True,
    )
    with duckdb.connect(str(copy), read_only=True) as con:
        stale_left = con.execute(f"select count(*) from {table} where 'stale' in (person_id, channel)").fetchall()[0][0]
        assert (stale_left, con.execute(fingerprint).fetchall()[0]) == (0, before)
    print(f"{staled} touches with a stale person or channel resolved again; {before[0]} touches as before")


# --------------------------------------------------------------------------- target cleanup


def test_old_dbt_run_folders_are_removed_keeping_the_newest(tmp_path):
    from orchestration.dbt.target_cleanup import clean_dbt_run_folders

    now = time.time()
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    (target / "other_op-abc").mkdir()
    folders = []
    for age_days in range(15, 0, -1):  # oldest first
        folder = target / f"dbt_revenue_cycle-{age_days:07d}-x"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        stamp = now - age_days * 86400
        os.utime(folder / "run_results.json", (stamp, stamp))
        os.utime(folder, (stamp, stamp))
        folders.append(folder)
    # a folder written to a moment ago (a dbt process still running) ranks newest
    busy = folders[0]
    os.utime(busy / "run_results.json", (now, now))

    deleted = clean_dbt_run_folders(target, prefix="dbt_revenue_cycle", keep=10, now=now)
    assert deleted == folders[1:6]
    assert {p.name for p in target.iterdir()} == {f.name for f in [*folders[6:], busy]} | {
        "manifest.json", "other_op-abc"
    }
    assert clean_dbt_run_folders(target, prefix="dbt_revenue_cycle", keep=10, now=now) == []
    # keep nothing: still no folder younger than the minimum age is touched
    assert clean_dbt_run_folders(target, prefix="dbt_revenue_cycle", keep=0, now=now) == folders[6:]
    assert {p.name for p in target.iterdir()} == {busy.name, "manifest.json", "other_op-abc"}
    assert clean_dbt_run_folders(tmp_path / "missing", prefix="dbt_revenue_cycle") == []
