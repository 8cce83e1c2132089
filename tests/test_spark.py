"""The same warehouse on Apache Spark, and on all three engines at once.

The company of `materialized_company` (built on DuckDB through Dagster) is materialized
again through the same Dagster definitions on the `spark` target: the DuckDB loader writes
the raw layer as parquet that Spark reads, dbt builds every model in a local Spark session,
the GX suites run as Spark SQL through a local Thrift server, and the publish switches the
analysts' views to the new publication. Every mart and governance table must be identical
to DuckDB's and PostgreSQL's (a checksum per mart, printed for the three engines).

Without Java the Spark tests skip, unless REQUIRE_SPARK=1 (CI): then they fail."""

from __future__ import annotations

import dataclasses
import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.checks.suites import run_suite
from orchestration.definitions import build_definitions
from orchestration.materialize import materialize_all
from orchestration.publish import spark_swap
from orchestration.spark.raw_export import table_folder
from orchestration.spark.thrift_server import thrift_server
from orchestration.warehouse import postgres_connection, spark_connection
from orchestration.warehouse_compare import checksums, relation_rows
from tests.conftest import BAD_LEAD_INSERT, assert_suite_names_the_bad_lead, make_settings, restored_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def on_spark(materialized_company, spark_java, tmp_path_factory):
    """(DuckDB settings, Spark settings, Dagster run summary, checksums read from Spark)."""
    duckdb_settings, _, _ = materialized_company
    with restored_environment():
        settings = dataclasses.replace(
            make_settings(tmp_path_factory.mktemp("spark"), landing=duckdb_settings.landing_dir),
            dbt_target="spark",
        )
        settings.export_to_environment()
        with DagsterInstance.ephemeral() as instance:
            _, summary = materialize_all(build_definitions(settings), instance, log_level="WARNING")
        # one local Thrift server for every read and publish of this module's tests (each
        # use outside it would start and stop one of its own: 10-30 s each)
        with thrift_server(settings):
            with spark_connection(settings) as con:
                read = {
                    "marts": checksums(con, "marts"),
                    "governance": checksums(con, "governance"),
                    "published_marts": checksums(con, "published_marts"),
                    "published_governance": checksums(con, "published_governance"),
                }
            yield duckdb_settings, settings, summary, read


def test_the_spark_run_passes_every_check_and_publishes(on_spark):
    _, settings, summary, _ = on_spark
    assert summary.success, summary.failed_steps
    assert summary.checks_failed == []
    assert "marts/fct_leads:gx_fct_leads" in summary.checks_passed
    assert "raw/salesforce/lead:row_accounting" in summary.checks_passed
    assert spark_swap.read_publication(settings)["run_id"] == summary.run_id


def test_every_mart_is_identical_on_duckdb_postgres_and_spark(on_spark, postgres_company):
    duckdb_settings, _, _, read = on_spark
    postgres_settings, _, _ = postgres_company
    with duckdb.connect(str(duckdb_settings.warehouse_path), read_only=True) as con:
        on_duckdb = {schema: checksums(con, schema) for schema in ("marts", "governance")}
    with postgres_connection(postgres_settings) as con:
        on_postgres = {schema: checksums(con, schema) for schema in ("marts", "governance")}
    print(f"\n{'table':<38} {'rows':>6}  {'duckdb':<16}  {'postgres':<16}  {'spark':<16}")
    for schema in ("marts", "governance"):
        for table in sorted(set(on_duckdb[schema]) | set(read[schema])):
            rows, on_d = on_duckdb[schema].get(table, (None, "missing"))
            on_p = on_postgres[schema].get(table, (None, "missing"))[1]
            on_s = read[schema].get(table, (None, "missing"))[1]
            mark = "" if on_d == on_p == on_s else "  DIFFERS"
            print(f"{schema + '.' + table:<38} {rows!s:>6}  {on_d:<16}  {on_p:<16}  {on_s:<16}{mark}")
    assert len(on_duckdb["marts"]) >= 19 and all(rows for rows, _ in on_duckdb["marts"].values())
    assert read["marts"] == on_duckdb["marts"] == on_postgres["marts"]
    assert read["governance"] == on_duckdb["governance"] == on_postgres["governance"]


def test_the_analysts_copy_on_spark_is_the_marts(on_spark):
    duckdb_settings, _, _, read = on_spark
    with duckdb.connect(str(duckdb_settings.published_path), read_only=True) as con:
        published_duckdb = {s: checksums(con, s) for s in ("marts", "governance")}
    published = {"marts": read["published_marts"], "governance": dict(read["published_governance"])}
    published["governance"].pop("publication")  # main.publication in the DuckDB copy
    assert published == published_duckdb


def test_the_raw_layer_spark_reads_is_the_loaders(on_spark):
    """The parquet Spark reads holds what the loader's tables hold, ledger and quarantine too."""
    duckdb_settings, settings, _, _ = on_spark
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as loader:
        tables = loader.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' order by 1, 2").fetchall()
        in_loader = {(s, t): relation_rows(loader, f'{s}."{t}"') for s, t in tables}
        unbalanced = loader.execute(
            " union all ".join(f"select relative_path from {s}._ingest_ledger where status = 'loaded' "
                               f"and rows_read <> rows_loaded + rows_quarantined" for s in {s for s, _ in tables})
        ).fetchall()
    with duckdb.connect() as con:
        in_parquet = {(s, t): relation_rows(con, f"read_parquet('{table_folder(settings, s, t)}/*.parquet')")
                      for s, t in tables}
    assert any(t == "_quarantine" and rows for (s, t), (_, rows) in in_loader.items()), "rows to quarantine"
    assert in_parquet == in_loader
    assert unbalanced == []
    # and what the DuckDB target's run loaded from the same files: the same raw rows, and the
    # same ledger and quarantine but for when each load ran
    ledger = "relative_path, source_table, size_bytes, sha256, status, rows_read, rows_loaded, rows_quarantined, error"
    quarantine = "relative_path, source_table, line_number, raw_content, reason"
    columns = {"_ingest_ledger": ledger, "_quarantine": quarantine}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as loader, \
            duckdb.connect(str(duckdb_settings.warehouse_path), read_only=True) as con:
        for s, t in tables:
            assert relation_rows(con, f'{s}."{t}"', columns.get(t, "*")) == \
                relation_rows(loader, f'{s}."{t}"', columns.get(t, "*")), f"{s}.{t}"


def test_a_suite_fails_on_a_bad_row_inside_spark(on_spark):
    _, settings, _, read = on_spark
    with spark_connection(settings) as con:
        con.execute(BAD_LEAD_INSERT)
        try:
            outcome = run_suite("fct_leads", settings, settings.expectations_dir, settings.dbt_project_dir)
        finally:
            # Spark's parquet tables have no DELETE: keep the other rows, and put them back
            con.execute("drop table if exists marts.fct_leads__kept")
            con.execute("create table marts.fct_leads__kept using parquet as "
                        "select * from marts.fct_leads where person_id <> 'pBAD'")
            con.execute("drop table marts.fct_leads")
            con.execute("alter table marts.fct_leads__kept rename to marts.fct_leads")
        assert checksums(con, "marts")["fct_leads"] == read["marts"]["fct_leads"]
    assert_suite_names_the_bad_lead(outcome)


def test_the_publish_switches_all_or_nothing(on_spark, monkeypatch):
    _, settings, summary, read = on_spark
    real = spark_swap._switch

    def killed(con, run_id, *args):
        if run_id == "interrupted":
            raise RuntimeError("killed before the switch")
        return real(con, run_id, *args)

    # a publish that dies after copying the new publication and redefining the analysts'
    # views, before the switch, leaves the analysts on the previous publication
    monkeypatch.setattr(spark_swap, "_switch", killed)
    with pytest.raises(RuntimeError, match="killed before the switch"):
        spark_swap.publish(settings, "interrupted")
    assert spark_swap.read_publication(settings)["run_id"] == summary.run_id
    with spark_connection(settings) as con:
        assert checksums(con, "published_marts") == read["published_marts"]
    # and one that completes switches every view at once
    publication = spark_swap.publish(settings, "next")
    assert spark_swap.read_publication(settings)["run_id"] == "next"
    assert publication.tables["marts.fct_leads"] == read["marts"]["fct_leads"][0]
    with spark_connection(settings) as con:
        assert checksums(con, "published_marts") == read["published_marts"]
