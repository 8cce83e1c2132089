"""The GX-on-DuckDB compatibility layer: each workaround is needed, and works."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from orchestration.checks import gx_duckdb

_VALIDATE = textwrap.dedent(
    """
    import sys, duckdb, great_expectations as gx
    path = sys.argv[1]
    if sys.argv[2] == "patched":
        from orchestration.checks import gx_duckdb
        gx_duckdb.install()
    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_sql(name="w", connection_string=f"duckdb:///{path}")
    batch = ds.add_table_asset(name="t", table_name="t", schema_name="marts") \\
        .add_batch_definition_whole_table("all").get_batch()
    result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="v"))
    print("RESULT", result.success, result.result.get("unexpected_count"), result.exception_info)
    """
)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        # a schema other than main: the second known break hides such tables
        con.execute("create schema marts")
        con.execute("create table marts.t as select range as id, "
                    "case when range = 3 then null else 'x' end as v from range(10)")
    return path


def _validate(path, mode: str) -> str:
    # a script file, not `python -c`: pyspark (which GX imports when it is installed) takes
    # a main module without a file for its own doctest runner and exits the process
    script = path.with_name(f"validate_{mode}.py")
    script.write_text(_VALIDATE)
    out = subprocess.run(
        [sys.executable, str(script), str(path), mode], capture_output=True, text=True, check=True
    ).stdout
    return next(line for line in out.splitlines() if line.startswith("RESULT"))


def test_without_the_layer_every_metric_fails(warehouse):
    line = _validate(warehouse, "plain")
    assert "list index out of range" in line


def test_with_the_layer_the_expectation_runs_as_sql_and_finds_the_null(warehouse):
    line = _validate(warehouse, "patched")
    assert line.startswith("RESULT False 1 ")
    assert "list index out of range" not in line


def test_install_is_idempotent():
    gx_duckdb.install()
    gx_duckdb.install()
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    names = [str(getattr(d, "value", d)) for d in engine._PERSISTED_CONNECTION_DIALECTS]
    assert names.count("duckdb") == 1


@pytest.mark.parametrize(
    ("installed", "supported"),
    [("2.0.44", True), ("2.0.43", True), ("2.0.45", False), ("2.1.0", False), ("1.4.54", True)],
)
def test_sqlalchemy_versions_that_break_reflection_are_refused(installed, supported):
    assert gx_duckdb._sqlalchemy_is_supported(installed) is supported


def test_regex_expectation_runs_in_duckdb_and_fails_on_a_bad_row(warehouse):
    gx_duckdb.install()
    import great_expectations as gx

    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table marts.emails as select * from (values ('a@b.com'), ('not-an-email')) e(email)")
    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_sql(name="w", connection_string=f"duckdb:///{warehouse}")
    batch = ds.add_table_asset(name="e", table_name="emails", schema_name="marts") \
        .add_batch_definition_whole_table("all").get_batch()
    expectation = gx_duckdb.regex_rows_expectation("email", r"^[^@\s]+@[^@\s]+\.[a-z]+$", "emails look like emails")
    result = batch.validate(expectation)
    assert not result.success
    assert result.result["observed_value"] == 1
    ds.get_engine().dispose()


def _row_query_runs(warehouse, query: str) -> tuple[object, list[str]]:
    """Validate one row query; return the result and every SQL statement GX sent with it."""
    gx_duckdb.install()
    import great_expectations as gx
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    sent: list[str] = []
    original = SqlAlchemyExecutionEngine.execute_query

    def spy(self, query_, *args, **kwargs):
        sent.append(str(query_))
        return original(self, query_, *args, **kwargs)

    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_sql(name="w", connection_string=f"duckdb:///{warehouse}")
    batch = ds.add_table_asset(name="t", table_name="t", schema_name="marts") \
        .add_batch_definition_whole_table("all").get_batch()
    SqlAlchemyExecutionEngine.execute_query = spy
    try:
        result = batch.validate(gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query=query))
    finally:
        SqlAlchemyExecutionEngine.execute_query = original
        ds.get_engine().dispose()
    return result, [s for s in sent if "marker_column" in s]


def test_a_clean_row_query_runs_once(warehouse):
    """GX alone runs a row query twice (its count, then its rows); the layer runs it once."""
    result, sent = _row_query_runs(warehouse, "select id as marker_column from {batch} where v = 'never'")
    assert result.success and result.result["observed_value"] == 0
    assert len(sent) == 1, sent


def test_a_failing_row_query_reports_its_count_and_rows(warehouse):
    result, sent = _row_query_runs(warehouse, "select id as marker_column from {batch} where v is null or id > 7")
    assert not result.success
    assert result.result["observed_value"] == 3
    assert len(sent) == 2, sent  # the count, then the sample of offending rows


def test_each_schema_is_reflected_once_with_the_metadata_gx_reflects_per_table(warehouse):
    """GX reflects a table's columns and primary key with two catalog queries per table; the
    layer reflects a whole schema with two, and gives every table the same metadata."""
    gx_duckdb.install()
    import great_expectations as gx
    import sqlalchemy as sa
    from great_expectations.expectations.metrics.table_metrics import table_column_types

    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table marts.keyed (id integer primary key, amount decimal(12, 2) not null, note varchar)")
        con.execute("create view marts.v as select id, v from marts.t")
    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_sql(name="w", connection_string=f"duckdb:///{warehouse}")
    engine = ds.get_execution_engine()
    layer = table_column_types.get_sqlalchemy_column_metadata
    gx_own = layer.__wrapped__

    def described(metadata):
        return [{**column, "type": repr(column["type"])} for column in metadata]

    sent: list[str] = []

    def record(conn, cursor, statement, *rest):
        sent.append(statement)

    sa.event.listen(engine.engine, "before_cursor_execute", record)
    try:
        reflected = {t: described(layer(engine, sa.quoted_name(t, None), "marts")) for t in ("t", "keyed", "v")}
    finally:
        sa.event.remove(engine.engine, "before_cursor_execute", record)
    catalog_queries = [s for s in sent if "pg_catalog" in s]
    expected = {t: described(gx_own(engine, sa.quoted_name(t, None), "marts")) for t in ("t", "keyed", "v")}
    assert reflected == expected
    assert [c["name"] for c in reflected["keyed"]] == ["id", "amount", "note"]
    assert [c["nullable"] for c in reflected["keyed"]] == [False, False, True]
    assert reflected["keyed"][1]["type"] == "NUMERIC(precision=12, scale=2)"
    assert len(catalog_queries) <= 4, catalog_queries  # one schema: not two per table (six)
    ds.get_engine().dispose()


_INSTALL_FROM_TWO_THREADS = """
from orchestration.checks import gx_duckdb
thread = gx_duckdb.install_in_background()
gx_duckdb.install()  # the GX step, while the background import may still run
thread.join(300)
from great_expectations.execution_engine import sqlalchemy_execution_engine as engine
names = [str(getattr(d, "value", d)) for d in engine._PERSISTED_CONNECTION_DIALECTS]
print("RESULT", thread.name, thread.is_alive(), gx_duckdb._installed, names.count("duckdb"))
"""


def test_the_background_import_and_the_steps_own_install_apply_the_layer_once(tmp_path):
    # a fresh process (a script file, as above), where GX is not imported yet
    script = tmp_path / "install_twice.py"
    script.write_text(_INSTALL_FROM_TWO_THREADS)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert [line for line in out.stdout.splitlines() if line.startswith("RESULT")] == ["RESULT gx-import False True 1"]
