"""The same warehouse on PostgreSQL: the company of `materialized_company` (built on DuckDB)
materialized again through the same Dagster definitions into a throwaway Postgres server
(ingestion with dlt's Postgres destination, dbt-postgres, GX's Postgres datasource, the
publish as a schema swap), and compared: every mart, the analysts' copy, the ledger and the
quarantine must be identical on both engines (a checksum per mart, printed)."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.checks.suites import run_suite
from orchestration.definitions import build_definitions
from orchestration.materialize import materialize_all
from orchestration.publish import schema_swap
from orchestration.warehouse import postgres_connection
from orchestration.warehouse_compare import checksums, relation_rows
from tests.conftest import BAD_LEAD_INSERT, assert_suite_names_the_bad_lead, dbt_command, restored_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def both(materialized_company, postgres_company):
    duckdb_settings, _, _ = materialized_company
    settings, result, summary = postgres_company
    yield duckdb_settings, settings, result, summary


@contextmanager
def database_copy(settings, name: str):
    """A copy of the Postgres warehouse to break (CREATE DATABASE ... TEMPLATE), dropped after."""
    admin = dataclasses.replace(settings, postgres_database="postgres")
    with postgres_connection(admin, read_only=False, autocommit=True) as con:
        con.execute(f'create database "{name}" template "{settings.postgres_database}"')
    try:
        yield dataclasses.replace(settings, postgres_database=name)
    finally:
        with postgres_connection(admin, read_only=False, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}"')


def test_the_postgres_run_passes_every_check_and_publishes(both):
    _, settings, _, summary = both
    assert summary.success, summary.failed_steps
    assert summary.checks_failed == []
    assert "marts/fct_leads:gx_fct_leads" in summary.checks_passed
    assert "raw/salesforce/lead:row_accounting" in summary.checks_passed
    publication = schema_swap.read_publication(settings)
    assert publication is not None and publication["run_id"] == summary.run_id
    with postgres_connection(settings) as con:
        # the throwaway server listens on the loopback only
        assert con.execute("show listen_addresses").fetchall() == [("127.0.0.1",)]


def test_every_mart_is_identical_on_duckdb_and_postgres(both):
    duckdb_settings, settings, _, _ = both
    with duckdb.connect(str(duckdb_settings.warehouse_path), read_only=True) as con:
        on_duckdb = checksums(con, "marts")
    with postgres_connection(settings) as con:
        on_postgres = checksums(con, "marts")
    print(f"\n{'mart':<28} {'rows':>6}  {'duckdb':<16}  {'postgres':<16}")
    for mart in sorted(set(on_duckdb) | set(on_postgres)):
        rows, left = on_duckdb.get(mart, (None, "missing"))
        _, right = on_postgres.get(mart, (None, "missing"))
        print(f"{mart:<28} {rows!s:>6}  {left:<16}  {right:<16}{'' if left == right else '  DIFFERS'}")
    assert len(on_duckdb) >= 19 and all(rows for rows, _ in on_duckdb.values())
    assert on_postgres == on_duckdb


def test_the_analysts_copies_are_identical(both):
    duckdb_settings, settings, _, _ = both
    with duckdb.connect(str(duckdb_settings.published_path), read_only=True) as con:
        published_duckdb = {s: checksums(con, s) for s in ("marts", "governance")}
    with postgres_connection(settings) as con:
        published_postgres = {s: checksums(con, schema_swap.published_schema(s)) for s in ("marts", "governance")}
    published_postgres["governance"].pop("publication")  # main.publication in the DuckDB copy
    assert published_postgres == published_duckdb


def test_ledger_quarantine_and_raw_rows_are_the_same_as_on_duckdb(both):
    duckdb_settings, settings, _, _ = both
    ledger = "relative_path, source_table, size_bytes, sha256, status, rows_read, rows_loaded, rows_quarantined, error"
    quarantine = "relative_path, source_table, line_number, raw_content, reason"
    with duckdb.connect(str(duckdb_settings.warehouse_path), read_only=True) as con:
        schemas = [s for (s,) in con.execute(
            "select distinct table_schema from information_schema.tables where table_schema like 'raw_%' order by 1").fetchall()]
        on_duckdb = {s: (relation_rows(con, f"{s}._ingest_ledger", ledger), relation_rows(con, f"{s}._quarantine", quarantine))
                     for s in schemas}
        raw_tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and not starts_with(table_name, '_')").fetchall()
        raw_counts = {(s, t): con.execute(f'select count(*) from {s}."{t}"').fetchall()[0][0] for s, t in raw_tables}
    with postgres_connection(settings) as con:
        on_postgres = {s: (relation_rows(con, f"{s}._ingest_ledger", ledger), relation_rows(con, f"{s}._quarantine", quarantine))
                       for s in schemas}
        postgres_counts = {(s, t): con.execute(f'select count(*) from {s}."{t}"').fetchall()[0][0] for s, t in raw_counts}
        unbalanced = con.execute(
            " union all ".join(f"select relative_path from {s}._ingest_ledger where status = 'loaded' "
                               f"and rows_read <> rows_loaded + rows_quarantined" for s in schemas)).fetchall()
    assert len(schemas) == 7
    assert sum(len(rows) for (_, rows), _ in on_duckdb.values()) > 50
    assert sum(len(rows) for _, (_, rows) in on_duckdb.values()) > 0, "the company carries rows to quarantine"
    assert on_postgres == on_duckdb
    assert postgres_counts == raw_counts
    assert unbalanced == []


def test_a_suite_fails_on_a_bad_row_inside_postgres(both):
    _, settings, _, _ = both
    with database_copy(settings, "bad_row") as bad:
        with postgres_connection(bad, read_only=False) as con:
            con.execute(BAD_LEAD_INSERT)
            con.commit()
        outcome = run_suite("fct_leads", bad, settings.expectations_dir, settings.dbt_project_dir)
    assert_suite_names_the_bad_lead(outcome)


def test_the_schema_swap_is_all_or_nothing(both, monkeypatch):
    _, settings, _, summary = both
    with database_copy(settings, "swap") as copy:
        with postgres_connection(copy) as con:
            before = checksums(con, "published_marts")
        # a publish that dies after it swapped the marts, while swapping the governance
        # schema, leaves the previous copy whole and nothing behind
        real = schema_swap._quote

        def failing_quote(identifier: str) -> str:
            if identifier.endswith("__old") and identifier.startswith("published_governance"):
                raise RuntimeError("killed during the swap")
            return real(identifier)

        monkeypatch.setattr(schema_swap, "_quote", failing_quote)
        with pytest.raises(RuntimeError, match="killed during the swap"):
            schema_swap.publish(copy, "interrupted")
        monkeypatch.setattr(schema_swap, "_quote", real)
        with postgres_connection(copy) as con:
            assert checksums(con, "published_marts") == before
            leftovers = con.execute(
                "select schema_name from information_schema.schemata where schema_name like 'published%' order by 1"
            ).fetchall()
        assert leftovers == [("published_governance",), ("published_marts",)]
        assert schema_swap.read_publication(copy)["run_id"] == summary.run_id
        # and one that completes replaces the whole copy at once
        publication = schema_swap.publish(copy, "next")
        assert schema_swap.read_publication(copy)["run_id"] == "next"
        assert publication.tables["marts.fct_leads"] == before["fct_leads"][0]


def test_the_definitions_are_the_same_on_both_targets(both):
    duckdb_settings, settings, _, _ = both
    with restored_environment():
        on_duckdb, on_postgres = build_definitions(duckdb_settings), build_definitions(settings)
    graph = lambda defs: (  # noqa: E731
        sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()),
        sorted(k.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys),
    )
    assert graph(on_postgres) == graph(on_duckdb)
    assert on_postgres.resources.keys() == on_duckdb.resources.keys()


def test_int_touchpoints_sets_stale_resolutions_anew_incrementally_on_postgres(both, postgres_server, tmp_path):
    """int_touchpoints' incremental run on Postgres: its pre-hooks (an update from the
    resolutions, deletes; macros/touch_resolution.sql) in Postgres's dialect. Stale
    resolutions planted in a copy of the warehouse (a wrong person on every touch of one
    identity, a wrong channel on every touch of one attribute tuple) are set anew by one
    incremental run, which leaves the table as it was: nothing lost, nothing duplicated."""
    import os
    import subprocess

    _, settings, _, _ = both
    table = "intermediate.int_touchpoints"
    fingerprint = (
        f"select count(*), md5(string_agg(md5(t::text), '' order by t.touchpoint_id)) from {table} as t"
    )
    most_touched = (
        f"select {{key}} from {table} where person_id is not null and {{key}} is not null "
        "group by {key} order by count(*) desc, {key} limit 1"
    )
    with database_copy(settings, "stale_touchpoints") as copy:
        with postgres_connection(copy, read_only=False) as con:
            before = con.execute(fingerprint).fetchall()[0]
            identity_key = con.execute(most_touched.format(key="identity_key")).fetchall()[0][0]
            attribute_key = con.execute(most_touched.format(key="attribute_key")).fetchall()[0][0]
            con.execute(f"update {table} set person_id = 'stale' where identity_key = %s", (identity_key,))
            con.execute(f"update {table} set channel = 'stale' where attribute_key = %s", (attribute_key,))
            staled = con.execute(f"select count(*) from {table} where 'stale' in (person_id, channel)").fetchall()[0][0]
            con.commit()
        assert staled > 2

        env = {**os.environ, **postgres_server, "PGDATABASE": copy.postgres_database, "WAREHOUSE_TARGET": "postgres"}
        run = subprocess.run(
            dbt_command(settings, tmp_path, "run", "--select", "int_touchpoints"), env=env, capture_output=True, text=True,
        )
        assert run.returncode == 0, run.stdout[-4000:]
        assert "incremental model intermediate.int_touchpoints" in run.stdout
        with postgres_connection(copy) as con:
            stale_left = con.execute(f"select count(*) from {table} where 'stale' in (person_id, channel)").fetchall()[0][0]
            after = con.execute(fingerprint).fetchall()[0]
    assert (stale_left, after) == (0, before)
    print(f"\n{staled} touches with a stale person or channel set anew on Postgres; {before[0]} touches as before")
