"""Write, audit, publish: the analysts' copy of the marts, swapped in atomically.

Every run builds in the working warehouse. Only after every blocking check passed does the
publish step copy the marts (and the governed definitions they were built under) into a new
DuckDB file beside the analysts' copy and rename it over the old one. A rename is atomic on
POSIX file systems: an analyst who opens the copy gets either the last good version or the
new one, never half of one, and a reader that already has the old file open keeps reading it.
A failed audit leaves the analysts' copy as it was.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from orchestration.warehouse_lock import warehouse_lock

# what the analysts' copy holds: the marts, and the definitions they were computed under
PUBLISHED_SCHEMAS = ("marts", "governance")


class PublishRefused(RuntimeError):
    """The audit did not pass (or did not run) for what would be published."""


@dataclass
class Publication:
    path: Path | str  # the DuckDB file, or where on the server (orchestration/publish/schema_swap.py)
    run_id: str
    published_at: str
    tables: dict[str, int] = field(default_factory=dict)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish(warehouse_path: Path, published_path: Path, run_id: str) -> Publication:
    """Copy the published schemas of the working warehouse into the analysts' copy, atomically."""
    # one writer at a time: the copy reads the warehouse, which a writer process would
    # hold; under the lock no other publish is under way, so the temporary files of a
    # publish that was killed can go
    with warehouse_lock(warehouse_path):
        _remove_abandoned_copies(published_path)
        return _publish(warehouse_path, published_path, run_id)


def _remove_abandoned_copies(published_path: Path) -> None:
    for leftover in published_path.parent.glob(f".{published_path.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)


def _publish(warehouse_path: Path, published_path: Path, run_id: str) -> Publication:
    published_path.parent.mkdir(parents=True, exist_ok=True)
    staging = published_path.with_name(f".{published_path.name}.{uuid.uuid4().hex}.tmp")
    published_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    publication = Publication(path=published_path, run_id=run_id, published_at=published_at)
    try:
        with duckdb.connect(str(staging)) as con:
            con.execute(f"attach {_literal(str(warehouse_path))} as working (read_only)")
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where database_name = 'working' and schema_name in "
                f"({', '.join(_literal(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2"
            ).fetchall()
            if not any(schema == "marts" for schema, _ in tables):
                raise PublishRefused(f"{warehouse_path} holds no marts to publish")
            for schema in PUBLISHED_SCHEMAS:
                con.execute(f"create schema if not exists {_quote(schema)}")
            for schema, table in tables:
                name = f"{_quote(schema)}.{_quote(table)}"
                con.execute(f"create table {name} as select * from working.{name}")
                publication.tables[f"{schema}.{table}"] = con.execute(f"select count(*) from {name}").fetchall()[0][0]
            con.execute("create table main.publication (run_id varchar, published_at timestamptz, tables integer)")
            con.execute(
                "insert into main.publication values (?, ?, ?)",
                [run_id, published_at, len(publication.tables)],
            )
            con.execute("detach working")
            con.execute("checkpoint")
        os.replace(staging, published_path)
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return publication


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_publication(published_path: Path) -> dict | None:
    """Which run the analysts' copy comes from (None before the first publish)."""
    if not published_path.exists():
        return None
    with duckdb.connect(str(published_path), read_only=True) as con:
        rows = con.execute("select run_id, published_at, tables from main.publication").fetchall()
    run_id, published_at, tables = rows[0]
    return {"run_id": run_id, "published_at": str(published_at), "tables": tables}
