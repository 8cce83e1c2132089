"""For the tests that compare engines: a Spark session reading a warehouse folder directly
(while no dbt session runs on it), and the checksums of orchestration/warehouse_compare.py
side by side.

A connection here is anything with `execute(sql)` returning an object with `fetchall()`,
`fetchmany()` and `description`: a DuckDB or psycopg connection, or `spark_connection()`'s reader.
"""

from __future__ import annotations

from contextlib import contextmanager

from orchestration.warehouse_compare import canonical, checksums, relation_rows, schema_tables  # noqa: F401 (re-exported)


def compare_table(left: dict[str, tuple[int, str]], right: dict[str, tuple[int, str]],
                  names: tuple[str, str]) -> str:
    """The two engines' checksums side by side, one line per table, differences marked."""
    lines = [f"{'table':<32} {'rows':>6}  {names[0]:<16}  {names[1]:<16}"]
    for table in sorted(set(left) | set(right)):
        rows, a = left.get(table, (None, "missing"))
        other_rows, b = right.get(table, (None, "missing"))
        mark = "" if (rows, a) == (other_rows, b) else f"  DIFFERS ({other_rows} rows)"
        lines.append(f"{table:<32} {rows!s:>6}  {a:<16}  {b:<16}{mark}")
    return "\n".join(lines)


class _SparkCursor:
    def __init__(self, frame):
        from pyspark.sql.types import TimestampType

        self.description = [(field.name, field.dataType.simpleString()) for field in frame.schema.fields]
        # pyspark hands a timestamp over as a naive datetime in the Python process's local
        # time zone: made aware here, canonical() turns it back into UTC whatever that zone is
        instants = [isinstance(field.dataType, TimestampType) for field in frame.schema.fields]
        self._rows = [
            tuple(v.astimezone() if is_instant and v is not None else v for v, is_instant in zip(row, instants))
            for row in frame.collect()
        ]

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size: int) -> list[tuple]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows


class SparkReader:
    """A Spark session over a warehouse folder, with a DB-API-like `execute()`."""

    def __init__(self, session):
        self.session = session

    def execute(self, sql: str) -> _SparkCursor:
        return _SparkCursor(self.session.sql(sql))


@contextmanager
def spark_connection(settings):
    """A Spark session built the way dbt's session target builds it (Hive support, the
    project's SPARK_CONF_DIR), for reading the warehouse of `settings`.

    Spark's embedded metastore (Derby) admits one process at a time: use this only while no
    dbt process runs on the same folder. On exit the JVM is shut down, which releases the
    metastore, so that dbt can run again and a later session may read another warehouse
    (a JVM reads its configuration folder once, when it starts)."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from orchestration.spark.conf import export_spark_environment

    export_spark_environment(settings)
    if SparkContext._active_spark_context is not None:
        raise RuntimeError("a Spark session is already running in this process")
    session = SparkSession.builder.enableHiveSupport().getOrCreate()
    try:
        yield SparkReader(session)
    finally:
        session.stop()
        gateway = SparkContext._gateway
        if gateway is not None:
            gateway.shutdown()
            proc = getattr(gateway, "proc", None)
            if proc is not None:
                # the JVM exits when its standard input closes (pyspark's launcher)
                proc.stdin.close()
                proc.wait(timeout=60)
        SparkContext._gateway = None
        SparkContext._jvm = None
        SparkSession._instantiatedSession = None
        SparkSession._activeSession = None
