"""The compatibility layer that lets Great Expectations 1.x validate inside DuckDB.

GX 1.24 has no DuckDB dialect; through SQLAlchemy + duckdb_engine it breaks in three known
ways (shared/DESIGN.md section 5). This module is the only place that works around them:

1. Every metric fails with "list index out of range": GX closes its connection before it
   fetches the rows, and a closed DuckDB connection drops its pending result (GX issues
   10738, 11579). Fix: treat "duckdb" like sqlite, one of the dialects whose connection GX
   keeps open (`_PERSISTED_CONNECTION_DIALECTS`).
2. With SQLAlchemy >= 2.0.45 column reflection fails on pg_catalog.pg_collation
   (duckdb_engine 1379) and GX then looks for tables without their schema. Fix: the lock
   pins SQLAlchemy 2.0.44; `install()` refuses to run with a newer one.
3. Regex expectations are refused for the duckdb dialect. Fix: `regex_rows_expectation`
   builds an UnexpectedRowsExpectation with DuckDB's regexp_matches, which runs as SQL.

And one cost, not a bug: an UnexpectedRowsExpectation resolves two metrics, the count of
its rows and a sample of them, and GX runs the whole row query once for each. On the
10M-touch-event company that made the suites 3.8x the same checks hand-written. Fix: on
DuckDB both metrics are computed together, once per expectation: the count, and only when
it is not zero the sample (`_single_pass_unexpected_rows`); a clean check costs one query.
Likewise GX reflects a table's columns and primary key (two catalog queries through
SQLAlchemy's Postgres reflection, ~80 ms per table on DuckDB's pg_catalog) for every suite
that guards it; on DuckDB the layer reflects each schema once, every table of it in the same
two queries, and keeps the result per connection (`_reflect_each_schema_once`).

Everything still executes as SQL in the warehouse; nothing is loaded into pandas.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import weakref
from importlib.metadata import version

log = logging.getLogger(__name__)

_installed = False
# install() from the GX step and from install_in_background()'s thread: the workarounds once
_install_lock = threading.Lock()


class _DialectName(str):
    """A dialect name GX can compare like its own GXSqlDialect members."""

    @property
    def value(self) -> str:
        return str(self)


def _sqlalchemy_is_supported(installed: str) -> bool:
    major, minor, patch = (int(part) for part in installed.split(".")[:3])
    return (major, minor) < (2, 0) or (major, minor, patch) <= (2, 0, 44)


def import_great_expectations() -> None:
    """Import GX in this process. With pyspark installed, GX imports pyspark's Spark Connect
    module, which takes a process whose __main__ has neither a spec nor a file (`python -c`,
    a pytest-xdist worker) for pyspark's doctest runner and calls sys.exit(0) there when
    Spark Connect's own dependencies (grpcio, ...) are missing, as they are here: such a
    process is marked interactive (sys.ps1, the condition pyspark also checks) for the
    time of the import only."""
    if "great_expectations" in sys.modules:
        return
    main = sys.modules.get("__main__")
    bare_main = (main is not None and getattr(main, "__spec__", None) is None
                 and not hasattr(main, "__file__") and not hasattr(sys, "ps1"))
    if bare_main:
        sys.ps1 = ""
    try:
        import great_expectations  # noqa: F401
    finally:
        if bare_main:
            del sys.ps1


def install() -> None:
    """Apply the workarounds once per process (idempotent, thread-safe)."""
    with _install_lock:
        _install()


def install_in_background() -> threading.Thread:
    """install() on a daemon thread: importing GX costs 2.5-6 s of one core, which a run
    pays before its suites unless it was paid while the process had nothing else to do
    (the dbt step waits minutes on dbt's subprocess). An error is only logged here: the
    suites' own install() raises it."""

    def run() -> None:
        try:
            install()
        except BaseException as error:  # noqa: BLE001 - including an import's SystemExit
            log.info("Great Expectations not imported in the background: %r", error)

    thread = threading.Thread(target=run, name="gx-import", daemon=True)
    thread.start()
    return thread


def _install() -> None:
    global _installed
    if _installed:
        return
    import_great_expectations()
    sqlalchemy_version = version("sqlalchemy")
    if not _sqlalchemy_is_supported(sqlalchemy_version):
        raise RuntimeError(
            f"SQLAlchemy {sqlalchemy_version} breaks DuckDB column reflection "
            "(duckdb_engine issue 1379); install the locked 2.0.44."
        )
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    dialects = engine._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in [str(getattr(d, "value", d)) for d in dialects]:
        engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DialectName("duckdb"))
    _single_pass_unexpected_rows()
    _reflect_each_schema_once()
    _installed = True


# per execution engine: schema -> {table: column metadata}; an engine lives for one run of suites
_columns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _schema_column_metadata(execution_engine, schema_name: str) -> dict[str, list]:
    """Every table and view of a schema, reflected in one columns query and one primary-key
    query, in the form GX builds for one table (its own `_build_column_metadata_result`)."""
    from great_expectations.expectations.metrics import util
    from sqlalchemy.engine.reflection import ObjectKind

    inspector = execution_engine.get_inspector()
    columns = inspector.get_multi_columns(schema=schema_name, kind=ObjectKind.ANY)
    keys = inspector.get_multi_pk_constraint(schema=schema_name, kind=ObjectKind.ANY)
    return {
        table: util._build_column_metadata_result(
            table_columns,
            set((keys.get((schema, table)) or {}).get("constrained_columns", [])),
            execution_engine,
        )
        for (schema, table), table_columns in columns.items()
    }


def _reflect_each_schema_once() -> None:
    from great_expectations.expectations.metrics.table_metrics import table_column_types

    original = table_column_types.get_sqlalchemy_column_metadata

    @functools.wraps(original)
    def cached(execution_engine, table_selectable, schema_name=None):
        if execution_engine.dialect_name != "duckdb" or schema_name is None or not isinstance(table_selectable, str):
            return original(execution_engine, table_selectable, schema_name)
        known = _columns.setdefault(execution_engine, {})
        if schema_name not in known:
            known[schema_name] = _schema_column_metadata(execution_engine, schema_name)
        table = known[schema_name].get(str(table_selectable))
        # a table created after the schema was reflected, or one the catalog spells differently
        return table if table is not None else original(execution_engine, table_selectable, schema_name)

    table_column_types.get_sqlalchemy_column_metadata = cached


# per execution engine: row query -> (count, sample rows), kept until the other metric reads it
_pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unexpected_rows_once(metric_class, execution_engine, metric_domain_kwargs, metric_value_kwargs):
    """The count and the first rows of a row query, from one query; each metric reads it once."""
    import sqlalchemy as sa
    from great_expectations.constants import MAX_RESULT_RECORDS
    from great_expectations.core.metric_domain_types import MetricDomainTypes

    selectable, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
    query = metric_class._get_substituted_batch_subquery_from_query_and_batch_selectable(
        query=metric_class._get_query_from_metric_value_kwargs(metric_value_kwargs),
        batch_selectable=selectable,
        execution_engine=execution_engine,
    )
    pending = _pending.setdefault(execution_engine, {})
    if query in pending:
        return pending.pop(query)
    count = int(
        execution_engine.execute_query(sa.text(f"select count(*) from ({query}) as unexpected_rows")).fetchall()[0][0]
    )
    # a clean check (the usual case) needs no second pass: there are no rows to show
    sample = []
    if count:
        result = execution_engine.execute_query(sa.text(f"select * from ({query}) as unexpected_rows limit {MAX_RESULT_RECORDS}"))
        sample = [row._asdict() for row in result.fetchall()]
    pending[query] = (count, sample)
    return count, sample


def _single_pass_unexpected_rows() -> None:
    from great_expectations.expectations.registry import _registered_metrics

    for metric_name, pick in (
        ("unexpected_rows_query.row_count", lambda count, sample: count),
        ("unexpected_rows_query.table", lambda count, sample: sample),
    ):
        providers = _registered_metrics[metric_name]["providers"]
        metric_class, original = providers["SqlAlchemyExecutionEngine"]

        @functools.wraps(original)
        def provider(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics,
                     runtime_configuration, _original=original, _pick=pick):
            if execution_engine.dialect_name != "duckdb" or metric_value_kwargs.get("fetch_all"):
                return _original(cls=cls, execution_engine=execution_engine,
                                 metric_domain_kwargs=metric_domain_kwargs,
                                 metric_value_kwargs=metric_value_kwargs, metrics=metrics,
                                 runtime_configuration=runtime_configuration)
            return _pick(*_unexpected_rows_once(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs))

        providers["SqlAlchemyExecutionEngine"] = (metric_class, provider)


def regex_rows_expectation(column: str, pattern: str, description: str):
    """A regex expectation that DuckDB accepts: the rows of the batch that do not match."""
    import great_expectations as gx

    escaped = pattern.replace("'", "''")
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select * from {batch} "
            f"where {column} is not null and not regexp_matches({column}, '{escaped}')"
        ),
        description=description,
    )
