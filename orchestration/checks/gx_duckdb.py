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

Everything still executes as SQL in the warehouse; nothing is loaded into pandas.
"""

from __future__ import annotations

from importlib.metadata import version

_installed = False


class _DialectName(str):
    """A dialect name GX can compare like its own GXSqlDialect members."""

    @property
    def value(self) -> str:
        return str(self)


def _sqlalchemy_is_supported(installed: str) -> bool:
    major, minor, patch = (int(part) for part in installed.split(".")[:3])
    return (major, minor) < (2, 0) or (major, minor, patch) <= (2, 0, 44)


def install() -> None:
    """Apply the workarounds once per process (idempotent)."""
    global _installed
    if _installed:
        return
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
    _installed = True


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
