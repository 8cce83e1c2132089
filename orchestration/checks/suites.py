"""Running the expectation suites of expectations/ inside the warehouse.

Suites live in the GX file context under expectations/gx/ (reviewed JSON). A suite's
`meta.guards` names the relation it audits, and `meta.parameters` maps each suite
parameter to the SQL that reads it from the governed seeds, so no threshold or stage
list is written in a suite: it is read from the one place that defines it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from orchestration.checks import gx_duckdb


@dataclass
class SuiteOutcome:
    suite: str
    relation: str
    success: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


def _suite_parameters(warehouse_path: Path, queries: dict[str, str]) -> dict[str, Any]:
    """Evaluate each parameter's SQL against the governed seeds (a list of values)."""
    if not queries:
        return {}
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return {name: [row[0] for row in con.sql(sql).fetchall()] for name, sql in queries.items()}


def _describe(result) -> dict[str, Any]:
    config = result.expectation_config
    details = result.result or {}
    return {
        "expectation": config.type,
        "kwargs": {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)},
        "unexpected_count": details.get("unexpected_count"),
        "partial_unexpected_list": details.get("partial_unexpected_list", [])[:10],
        "observed_value": details.get("observed_value"),
        "exception": (result.exception_info or {}).get("exception_message")
        if isinstance(result.exception_info, dict)
        else None,
    }


def _add_unexpected_rows(failed: list[dict[str, Any]], warehouse_path: Path, relation: str) -> None:
    """Name the offending rows of failed row-query expectations (a sample, as SQL).

    GX reports only their count outside its COMPLETE result format, which for column
    expectations would return every unexpected value of a large table.
    """
    queries = [f for f in failed if "unexpected_rows_query" in f["kwargs"]]
    if not queries:
        return
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        for failure in queries:
            sql = failure["kwargs"]["unexpected_rows_query"].replace("{batch}", relation)
            relation_rows = con.sql(f"select * from ({sql}) limit 10")
            columns = relation_rows.columns
            failure["unexpected_rows"] = [dict(zip(columns, row)) for row in relation_rows.fetchall()]


def _close_connections(source) -> None:
    """DuckDB allows one writer: never leave a reader connection open behind a check.

    GX holds two engines per SQL datasource: the datasource's own (pooled, used to test
    the connection and reflect tables) and the execution engine's, which keeps a
    persisted connection for DuckDB (see gx_duckdb) that GX's close() leaves open.
    """
    execution_engine = source.get_execution_engine()
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.engine.dispose()
    source.get_engine().dispose()


def run_suite(suite_name: str, warehouse_path: Path, expectations_dir: Path) -> SuiteOutcome:
    """Validate one suite against its relation, as SQL inside DuckDB."""
    gx_duckdb.install()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    project = gx.get_context(mode="file", project_root_dir=str(expectations_dir))
    suite = project.suites.get(suite_name)
    relation = suite.meta["guards"]
    schema, table = relation.split(".", 1)
    parameters = _suite_parameters(warehouse_path, suite.meta.get("parameters", {}))

    # The warehouse connection is run-time configuration: an ephemeral context holds it,
    # so validating never rewrites the reviewed great_expectations.yml.
    runtime = gx.get_context(mode="ephemeral")
    # results go to Dagster's metadata and log; GX's progress bars only clutter the run log
    runtime.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = runtime.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{warehouse_path}",
        kwargs={"connect_args": {"read_only": True}},
    )
    asset = source.add_table_asset(name=relation, table_name=table, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
    try:
        result = batch.validate(suite, expectation_parameters=parameters)
    finally:
        _close_connections(source)
    failed = [_describe(r) for r in result.results if not r.success]
    _add_unexpected_rows(failed, warehouse_path, relation)
    return SuiteOutcome(
        suite=suite_name,
        relation=relation,
        success=bool(result.success),
        evaluated=len(result.results),
        failed=failed,
        parameters=parameters,
    )
