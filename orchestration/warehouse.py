"""A connection to the warehouse of the chosen target, for the few places that query it
themselves (suite parameters and samples, model metadata, the demo's summary).

All give `execute(sql, parameters)` returning a cursor with `fetchall()` and
`description`: DuckDB's connection does natively, psycopg2 and PyHive (Spark's Thrift
server) connections through the small wrapper below. Parameters are passed the DB-API way
(`?` placeholders on DuckDB, `%s` on Postgres and on Spark, where PyHive quotes the values
into the text); the callers here pass none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.settings import Settings


class _CursorConnection:
    """A DB-API connection whose `execute` returns a fresh cursor, as DuckDB's does."""

    def __init__(self, connection):
        self._connection = connection

    def execute(self, sql: str, parameters=None):
        cursor = self._connection.cursor()
        cursor.execute(sql, parameters)
        return cursor

    def commit(self) -> None:
        self._connection.commit()


class SparkSQLError(RuntimeError):
    """A statement Spark refused: its own message and the statement, without the Java stack."""


class _SparkConnection(_CursorConnection):
    def execute(self, sql: str, parameters=None):
        from pyhive.exc import OperationalError

        try:
            return super().execute(sql, parameters)
        except OperationalError as error:
            # PyHive's message is the whole Thrift response, Java stack traces included
            status = getattr(error.args[0], "status", None) if error.args else None
            message = getattr(status, "errorMessage", None) or str(error)[:2000]
            raise SparkSQLError(f"{message.strip()}\n  in: {' '.join(sql.split())[:1000]}") from None


@contextmanager
def postgres_connection(
    settings: Settings, read_only: bool = True, autocommit: bool | None = None
) -> Iterator[_CursorConnection]:
    """A psycopg2 connection to the postgres target (the password, if any, is libpq's PGPASSWORD).

    Read-only connections commit each statement; a writer gets one transaction to commit."""
    import psycopg2

    connection = psycopg2.connect(
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        dbname=settings.postgres_database,
    )
    try:
        connection.set_session(readonly=read_only, autocommit=read_only if autocommit is None else autocommit)
        yield _CursorConnection(connection)
    finally:
        connection.close()


@contextmanager
def spark_connection(settings: Settings) -> Iterator[_CursorConnection]:
    """A PyHive connection to the Thrift server of a spark target (orchestration/spark/
    thrift_server.py: the cluster's, or a local one that lives as long as this connection).

    For readers and writers alike: Spark has no transactions, so every statement takes
    effect, and is visible to other sessions, as soon as it has run; `commit()` does nothing,
    and a failure halfway leaves the statements before it applied. Nothing makes the
    connection read-only either: readers simply do not write."""
    from orchestration.spark.thrift_server import connect, thrift_server

    with thrift_server(settings) as (host, port):
        connection = connect(host, port)
        try:
            yield _SparkConnection(connection)
        finally:
            connection.close()


@contextmanager
def read_connection(settings: Settings, duckdb_path: Path | None = None) -> Iterator[object]:
    """A read-only connection to the warehouse (`duckdb_path` overrides the DuckDB file)."""
    if settings.is_postgres:
        with postgres_connection(settings) as connection:
            yield connection
        return
    if settings.is_spark:
        with spark_connection(settings) as connection:
            yield connection
        return
    import duckdb

    with duckdb.connect(str(duckdb_path or settings.warehouse_path), read_only=True) as connection:
        yield connection
