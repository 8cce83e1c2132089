"""The same warehouse on two engines, compared: every table of a schema as its row count and
a checksum of its column names and rows, each value spelled one way on every engine.

Used by the tests that build one company on two targets and by the benchmark of the targets
(bench/targets.py). A connection here is any of orchestration.warehouse's: `execute(sql)`
returning a cursor with `fetchall()`, `fetchmany()` and `description`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json

# rows are hashed as they arrive: a 4M-row mart is never held in memory at once
_BATCH = 50_000
_MODULUS = 1 << 128


# Spark's Thrift server sends some of these types as text (PyHive names the type in the
# cursor's description): read back into the values the other engines' drivers return
_FROM_TEXT = {
    "TIMESTAMP_TYPE": dt.datetime.fromisoformat,
    "DATE_TYPE": dt.date.fromisoformat,
    "DECIMAL_TYPE": decimal.Decimal,
}


def canonical(value):
    """One spelling per value on both engines: numbers to 9 decimals (a numeric on Postgres
    is a float on DuckDB where both compute a double), instants as naive UTC."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        return format(round(float(value), 9), ".9f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def relation_rows(con, relation: str, columns: str = "*") -> tuple[list[str], list[str]]:
    """Column names and the sorted canonical rows of a relation (small relations: all in memory)."""
    cursor = con.execute(f"select {columns} from {relation}")
    names = [c[0] for c in cursor.description]
    return names, sorted(json.dumps([canonical(v) for v in row]) for row in cursor.fetchall())


def schema_tables(con, schema: str) -> list[str]:
    """The tables and views of `schema`, sorted; Spark has no information_schema to ask."""
    try:
        rows = con.execute(
            f"select table_name from information_schema.tables where table_schema = '{schema}'").fetchall()
    except Exception:  # noqa: BLE001 - Spark SQL: the catalog's own listing
        rows = [(row[1],) for row in con.execute(f"show tables in {schema}").fetchall() if not row[2]]
    return sorted(name for (name,) in rows)


def relation_checksum(con, relation: str) -> tuple[int, str]:
    """Rows and a checksum of a relation's column names and rows, independent of row order.

    Each canonical row is hashed and the hashes are summed (a multiset hash: duplicate rows
    count, order does not), so rows stream through in batches instead of being sorted."""
    cursor = con.execute(f"select * from {relation}")
    names = [c[0] for c in cursor.description]
    typed = [_FROM_TEXT.get(c[1]) if isinstance(c[1], str) else None for c in cursor.description]
    rows, total = 0, 0
    while batch := cursor.fetchmany(_BATCH):
        rows += len(batch)
        for row in batch:
            values = [t(v) if t is not None and isinstance(v, str) else v for t, v in zip(typed, row)]
            digest = hashlib.sha256(json.dumps([canonical(v) for v in values]).encode()).digest()
            total = (total + int.from_bytes(digest[:16], "big")) % _MODULUS
    return rows, hashlib.sha256(json.dumps([names, rows, total]).encode()).hexdigest()[:16]


def checksums(con, schema: str) -> dict[str, tuple[int, str]]:
    """Per table of `schema`: rows and a checksum of its column names and rows."""
    # dbt's relation names are plain lowercase identifiers: unquoted, they read the same on
    # every engine (Spark quotes with backticks, the others with double quotes)
    return {table: relation_checksum(con, f"{schema}.{table}") for table in schema_tables(con, schema)}
