"""Incremental models on Apache Spark (the `spark` target, a local session): Spark's parquet
tables have no merge, so the incremental models overwrite partitions (by landing file,
macros/incremental.sql). A small company is ingested into a Spark warehouse and the
incremental models are built with what they read; then a day more arrives, with files that
re-send newer versions of records already loaded (every record of one earlier file, so that
its partition empties, and half of another's): the models, run incrementally, equal their
full rebuild row for row, rows per landing file included.

The whole project on Spark (every model, data test, suite and the publish, compared with
DuckDB and Postgres) is tests/test_spark.py. Spark needs Java: without it the module skips,
unless REQUIRE_SPARK=1 (then it fails).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ingest, make_settings
from tests.warehouse_compare import relation_rows, spark_connection

pytestmark = pytest.mark.slow


def spark_settings(root: Path, landing: Path):
    """Settings of a Spark warehouse under `root` over the landing folder `landing`."""
    settings = dataclasses.replace(make_settings(root, landing=landing), dbt_target="spark")
    settings.export_to_environment()
    return settings


def dbt(settings, name: str, *args: str) -> dict:
    """Run dbt on the warehouse of `settings`; returns its run results (asserting success)."""
    settings.export_to_environment()
    root = settings.warehouse_dir
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    run = subprocess.run(
        [
            sys.executable, "-m", "dbt.cli.main", *args,
            "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_profiles_dir),
            "--target", settings.dbt_target,
            "--target-path", str(root / f"dbt_target_{name}"),
            "--log-path", str(root / f"dbt_logs_{name}"),
        ],
        env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return json.loads((root / f"dbt_target_{name}" / "run_results.json").read_text())


def incremental_models(settings) -> list[str]:
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    return sorted(
        f"{node['schema']}.{node['alias']}" for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    )


def records(path: Path) -> list[dict]:
    found = []
    for line in path.read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:  # a malformed row of the generator's mess: quarantined, not re-sent
            continue
    return found


def delta_files(folder: Path) -> dict[str, int]:
    """The daily files after the initial export that hold at least two records: their records."""
    files = sorted(p.name for p in folder.iterdir())[1:]
    counts = {name: len(records(folder / name)) for name in files}
    return {name: count for name, count in counts.items() if count >= 2}


def resend(landing: Path, table: str, source_file: str, share: float, new_file: str) -> int:
    """Write `new_file` of `table` with a newer version (later received/synced time, another
    title or type) of the first `share` of the records of its earlier `source_file`."""
    records_of_file = records(landing / table / source_file)
    resent = []
    for record in records_of_file[: max(1, round(len(records_of_file) * share))]:
        for field in ("received_at", "_fivetran_synced"):
            if record.get(field):
                record[field] = (dt.datetime.fromisoformat(record[field].replace("Z", "+00:00"))
                                 + dt.timedelta(days=7)).isoformat()
        if "title" in record:
            record["title"] = f"{record['title']} (revised)"
        if "type" in record:
            record["type"] = "CLICK"
        resent.append(json.dumps(record))
    (landing / table / new_file).write_text("\n".join(resent) + "\n")
    return len(resent)


def next_file(folder: Path) -> str:
    latest = max(dt.date.fromisoformat(p.name.split(".")[0]) for p in folder.iterdir())
    return f"{latest + dt.timedelta(days=1)}.jsonl"


@pytest.fixture(scope="module")
def on_spark(spark_java, tmp_path_factory):
    """A small company ingested into Spark, the incremental models and what they read built:
    (spark settings, truth folder)."""
    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    saved = dict(os.environ)
    root = tmp_path_factory.mktemp("spark_dbt")
    landing, truth = root / "landing", root / "truth"
    generate_company(landing, truth, scale=0.1, seed=11, mess=dataclasses.replace(MessConfig(), unknown_stage=0.0))
    try:
        settings = spark_settings(root / "spark", landing)
        ingest(settings)
        selection = [f"+{m.split('.')[1]}" for m in incremental_models(settings)]
        dbt(settings, "build", "build", "--select", *selection, "--exclude-resource-type", "test", "unit_test")
        yield settings, truth
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_incremental_models_on_spark_equal_their_full_rebuild(on_spark):
    from orchestration.sources.generate import append_days

    on_spark, truth = on_spark
    landing = on_spark.landing_dir
    # newer versions of records already loaded, in a file of their own beside a day more:
    # every record of the smallest daily page-view file (its partition empties) and half
    # of the biggest daily email-event file
    pages, events = landing / "segment" / "pages", landing / "hubspot" / "email_event"
    page_counts, event_counts = delta_files(pages), delta_files(events)
    append_days(landing, truth, 1)
    emptied = min(page_counts, key=page_counts.get)
    halved = max(event_counts, key=event_counts.get)
    page_resend, event_resend = next_file(pages), next_file(events)
    assert resend(landing, "segment/pages", emptied, 1.0, page_resend) == page_counts[emptied]
    assert 0 < resend(landing, "hubspot/email_event", halved, 0.5, event_resend) < event_counts[halved]
    ingest(on_spark)
    models = incremental_models(on_spark)
    assert len(models) >= 4
    selection = [m.split(".")[1] for m in models]

    def rows_of_models():
        with spark_connection(on_spark) as con:
            return {m: relation_rows(con, m) for m in models}, {
                m: dict(con.execute(f"select landing_file, count(*) from {m} group by landing_file").fetchall())
                for m in models
            }

    dbt(on_spark, "incremental", "run", "--select", *selection)
    incremental, files = rows_of_models()
    dbt(on_spark, "full_refresh", "run", "--full-refresh", "--select", *selection)
    rebuilt, rebuilt_files = rows_of_models()
    for model in models:
        print(f"\n{model}: {len(incremental[model][1])} rows incremental, {len(rebuilt[model][1])} rebuilt, "
              f"rows per landing file {files[model]}")
    # the re-sent versions replaced the older ones: the page-view file re-sent whole has no
    # row left (its partition was dropped), the email-event file re-sent in half has fewer
    pages_model, events_model = "staging.stg_segment__pages", "staging.stg_hubspot__email_events"
    assert f"segment/pages/{emptied}" not in files[pages_model]
    assert files[events_model][f"hubspot/email_event/{halved}"] > 0
    assert files[pages_model][f"segment/pages/{page_resend}"] > 0
    assert files[events_model][f"hubspot/email_event/{event_resend}"] > 0
    assert files == rebuilt_files
    assert incremental == rebuilt
