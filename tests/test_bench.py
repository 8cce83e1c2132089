"""The benchmark's pieces on a tiny company: the DuckDB-only limit builds what dbt built
(and its tests fail on bad rows), and a quick run writes every stage to the JSON and the
kept markdown."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from bench import dbt_limit, ingest, limit, pipeline, report
from bench.measure import run_measured
from tests.conftest import build_company

# a seed with configured column types, a table mart on seeds, views on a raw table
SELECTION = ["+stg_salesforce__accounts", "+dim_phase"]


def test_duckdb_only_run_rebuilds_what_dbt_built_and_its_tests_fail_on_bad_rows(tmp_path):
    settings = build_company(tmp_path / "company", scale=0.05, seed=5, select=SELECTION)
    target = tmp_path / "company" / "dbt_target"
    manifest = dbt_limit.load(target)
    ran = manifest["ran"]
    assert any(uid.startswith("seed.") for uid in ran) and any(uid.startswith("test.") for uid in ran)

    # the compiled SQL of every node dbt ran, on a copy of its warehouse: the same rows
    copy = tmp_path / "limit" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(settings.warehouse_path, copy)
    result = dbt_limit.main(["--warehouse", str(copy), "--target", str(target)])
    assert sum(result["statements"].values()) == len(ran)
    assert result["failing_tests"] == {}
    built = dbt_limit.row_counts(settings.warehouse_path, manifest)
    assert built and dbt_limit.row_counts(copy, manifest) == built

    # the DuckDB-only run from the landing files: its raw layer holds what the ingestion
    # loaded, so the same SQL gives the same rows, and the copy for analysts has them
    whole = tmp_path / "whole" / "warehouse.duckdb"
    whole.parent.mkdir()
    with duckdb.connect(str(whole)) as con:
        con.execute("set TimeZone = 'UTC'")
        limit.load_raw(con, settings.landing_dir)
        assert dbt_limit.run_statements(con, manifest, dbt_limit.statements(manifest, target, settings.dbt_project_dir))[
            "failing_tests"] == {}
        published = limit.copy_published(con, tmp_path / "whole" / "published.duckdb")
    assert dbt_limit.row_counts(whole, manifest) == built
    assert published == sum(n for uid, n in built.items() if uid.startswith("seed.") or "dim_phase" in uid)

    # a live account without a name in the raw layer: the limit's not_null test reports it
    with duckdb.connect(str(copy)) as con:
        con.execute("update raw_salesforce.account set name = null where id = (select min(id) from raw_salesforce.account "
                    "where not coalesce(is_deleted, false) and coalesce(master_record_id, '') = '')")
    result = dbt_limit.main(["--warehouse", str(copy), "--target", str(target)])
    assert [uid for uid in result["failing_tests"] if "not_null_stg_salesforce__accounts_account_name" in uid]


def test_a_quick_run_writes_every_stage_it_ran_and_names_the_others(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Latest figures\n\nolder notes stay\n")
    results = pipeline.main(["--scales", "0.02", "--runs", "1", "--stages", "generation,definitions",
                             "--root", str(tmp_path / "bench"), "--readme", str(readme), "--skip-prepare"])
    saved = json.loads((tmp_path / "bench" / "latest.json").read_text())
    assert saved["scales"] == results["scales"]
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["memory_gib"] > 0
    (scale,) = saved["scales"]
    assert scale["touch_events"] > 0 and scale["landing_rows"] > 0
    assert set(scale["stages"]) == {"generation", "definitions"}
    for figures in scale["stages"].values():
        assert 0 < figures["seconds"] < 120 and figures["peak_rss_mb"] > 10 and figures["cpu_seconds"] > 0
    generation = scale["stages"]["generation"]
    assert abs(generation["rows_per_second"] * generation["seconds"] / scale["landing_rows"] - 1) < 0.01
    # the definitions target is judged on this run, the others are not measured
    judged = {(t["stage"], t["figure"]): t for t in saved["targets"]}
    assert judged[("definitions", "seconds")]["measured"] == scale["stages"]["definitions"]["seconds"]
    assert judged[("whole", "ratio")]["met"] is None

    text = readme.read_text()
    assert "older notes stay" in text and text.count(report.BEGIN) == 1
    for label in report.LABELS.values():
        assert label in text
    assert text.count("| not run |") == len(pipeline.STAGES) - 2
    rows = [line for line in text.splitlines() if any(line.startswith(f"| {label} |") for label in report.LABELS.values())]
    assert len(rows) == len(pipeline.STAGES) and all(row.count("|") == 13 for row in rows)
    # a second run replaces the figures instead of adding them
    report.keep_in_readme(readme, report.markdown(saved))
    assert readme.read_text().count(report.BEGIN) == 1


# What `orchestration.demo` leaves for the targets' benchmark to read, in a second: a DuckDB
# warehouse with a mart and a governance table, memory held for a moment, an exit status.
FAKE_DEMO = """
import os, pathlib, sys, time, duckdb
folder = pathlib.Path(os.environ["WAREHOUSE_DIR"])
folder.mkdir(parents=True, exist_ok=True)
with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
    con.execute("create schema marts; create schema governance")
    con.execute("create table marts.fct_a as select range as id, range / 3 as share, "
                "timestamptz '2026-01-01 00:00:00+02' as at from range(1000)")
    con.execute("create table governance.phases as select 'lead' as phase")
held = b"x" * (300 * 2**20)
time.sleep(0.5)
print("the run's last line")
sys.exit(int(os.environ.get("FAKE_DEMO_EXIT", "0")))
"""


def test_the_targets_benchmark_measures_each_run_reads_its_marts_and_says_where_they_differ(tmp_path, monkeypatch):
    from bench import targets
    from tests.conftest import copy_fixture_landing

    monkeypatch.setattr(targets, "DEMO", [sys.executable, "-c", FAKE_DEMO])
    landing = copy_fixture_landing(tmp_path / "company" / "landing")
    readme = tmp_path / "README.md"
    readme.write_text("# Latest figures\n\nolder notes stay\n")
    args = ["--scale", "0.01", "--targets", "duckdb", "--landing", str(landing), "--root", str(tmp_path / "bench"),
            "--readme", str(readme)]
    results = targets.main(args)
    (duckdb_run,) = results["targets"]
    assert duckdb_run["success"] and duckdb_run["seconds"] > 0.5 and duckdb_run["cpu_seconds"] > 0
    assert duckdb_run["peak_rss_mb"] > 300
    assert set(duckdb_run["load_average"]) == {"start", "mean", "max", "end"}
    assert duckdb_run["checksums"]["marts"]["fct_a"][0] == 1000
    assert [row["table"] for row in results["comparison"]] == ["governance.phases", "marts.fct_a"]
    assert all(row["agree"] for row in results["comparison"])
    assert results["landing_rows"] == ingest.rows_in(landing) > 0
    assert json.loads((tmp_path / "bench" / "targets.json").read_text())["comparison"] == results["comparison"]

    # a failed run is reported as failed, with its output; another target's different mart
    # (kept from the last run by --add) is named as differing
    monkeypatch.setenv("FAKE_DEMO_EXIT", "3")
    saved = json.loads((tmp_path / "bench" / "targets.json").read_text())
    other = {**saved["targets"][0], "target": "postgres"}
    other["checksums"] = {"marts": {"fct_a": [1000, "0" * 16]}, "governance": saved["targets"][0]["checksums"]["governance"]}
    saved["targets"] = [other]
    (tmp_path / "bench" / "targets.json").write_text(json.dumps(saved))
    results = targets.main([*args, "--add"])
    assert [r["target"] for r in results["targets"]] == ["postgres", "duckdb"]
    assert not results["targets"][1]["success"] and results["targets"][1]["tail"][-1] == "the run's last line"
    assert {row["table"]: row["agree"] for row in results["comparison"]} == {"governance.phases": True, "marts.fct_a": False}
    text = readme.read_text()
    assert "older notes stay" in text and text.count(targets.MARKERS[0]) == 1
    assert "| marts.fct_a | 1,000 |" in text and "| **no** |" in text and "**failed**" in text


def test_a_server_started_for_a_run_is_counted_in_its_cpu_time_and_memory(tmp_path):
    # a companion that spends 1.5 CPU-seconds (however loaded the machine) while the command
    # waits for it without working itself
    done = tmp_path / "done"
    busy = subprocess.Popen([sys.executable, "-c", "import sys, time\nheld = b'x' * (200 * 2**20)\n"
                             "start = time.process_time()\nwhile time.process_time() - start < 1.5: pass\n"
                             "open(sys.argv[1], 'w').close()\ntime.sleep(0.5)", str(done)])
    waiting = f"import os, time\nwhile not os.path.exists({str(done)!r}): time.sleep(0.05)"
    try:
        time.sleep(0.3)
        with_server = run_measured([sys.executable, "-c", waiting], companions=(busy.pid,))
    finally:
        busy.wait()
    alone = run_measured([sys.executable, "-c", "import time; time.sleep(0.3)"])
    assert with_server.cpu_seconds > alone.cpu_seconds + 1.0
    assert with_server.peak_rss_bytes > alone.peak_rss_bytes + 150 * 2**20


def test_checksums_ignore_row_order_count_duplicates_and_read_spark_text_back():
    import datetime as dt

    from orchestration.warehouse_compare import checksums, relation_checksum

    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("create table marts.a as select * from (values (1, 0.1), (2, 0.2)) as t(id, x)")
        con.execute("create table marts.b as select * from (values (2, 0.2), (1, 0.1)) as t(id, x)")
        con.execute("create table marts.c as select * from (values (2, 0.2), (1, 0.1), (1, 0.1)) as t(id, x)")
        con.execute("create table marts.d as select * from (values (1, 0.1), (1, 0.1), (2, 0.2), (2, 0.2)) as t(id, x)")
        sums = checksums(con, "marts")
    assert sums["a"] == sums["b"] and sums["c"][0] == 3 and len({sums["a"], sums["c"], sums["d"]}) == 3

    class Cursor:  # what PyHive gives for Spark's Thrift server: some types as text
        def __init__(self, rows, description):
            self.rows, self.description = rows, description

        def fetchmany(self, size):
            batch, self.rows = self.rows[:size], self.rows[size:]
            return batch

    class Connection:
        def __init__(self, *cursor):
            self.cursor = Cursor(*cursor)

        def execute(self, sql):
            return self.cursor

    description = [("at", "TIMESTAMP_TYPE"), ("on", "DATE_TYPE"), ("amount", "DECIMAL_TYPE")]
    as_text = relation_checksum(Connection([("2026-01-01 10:00:00", "2026-01-02", "1.50")], description), "t")
    as_values = relation_checksum(Connection([(dt.datetime(2026, 1, 1, 10), dt.date(2026, 1, 2), 1.5)], description), "t")
    assert as_text == as_values
    assert relation_checksum(Connection([("2026-01-01 10:00:01", "2026-01-02", "1.50")], description), "t") != as_values


def test_the_gx_side_of_the_checks_benchmark_imports_gx_under_python_c_and_a_silent_exit_is_an_error():
    """`bench.checks` times GX in a `python -c` process, where a plain GX import exits with
    code 0 (pyspark's doctest exit): the script's imports must get through and write figures,
    and a script that writes none must be an error naming it, not a missing-file traceback."""
    from bench import checks

    write = 'Path(sys.argv[3]).write_text(json.dumps({"gx": "great_expectations" in sys.modules}))'
    _, figures = checks._run(checks._GX_IMPORTS + write, ["unused", "unused"])
    assert figures == {"gx": True}
    with pytest.raises(RuntimeError, match="exited with code 0 without writing its figures"):
        checks._run("import sys; sys.exit(0)", ["unused", "unused"])


def test_the_event_log_benchmark_stores_every_event_through_both_classes(capsys):
    from bench import event_log

    figures = event_log.main(["--events", "20", "--runs", "1"])
    assert figures["dagster"]["class"] == "SqliteEventLogStorage"
    assert figures["project"]["class"] == "ReusedConnectionSqliteEventLogStorage"
    assert all(f["median_ms_per_event"] > 0 for f in figures.values())
    assert "ms per event" in capsys.readouterr().out
