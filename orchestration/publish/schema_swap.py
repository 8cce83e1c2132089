"""Write, audit, publish on Postgres: the analysts' copy is a set of schemas, swapped atomically.

The analysts read `published_marts` and `published_governance` (and
`published_governance.publication`: which run they come from). A publish copies the working
schemas `marts` and `governance` into new schemas, then renames the old ones away, the new
ones into place and drops the old, all in one transaction: Postgres's DDL is transactional,
so an analyst's query sees the whole previous copy or the whole new one, and a publish that
fails or is killed at any point leaves the previous copy as it was, with nothing behind.
The copy runs before the swap inside the same transaction, under new names nobody reads,
so analysts are not locked out while it runs; only the final renames and the drop wait
for queries still reading the old copy.
"""

from __future__ import annotations

from datetime import datetime, timezone

from orchestration.publish.analyst_copy import PUBLISHED_SCHEMAS, Publication, PublishRefused
from orchestration.settings import Settings
from orchestration.warehouse import postgres_connection
from orchestration.warehouse_lock import warehouse_lock

PREFIX = "published_"
PUBLICATION_TABLE = f"{PREFIX}governance.publication"


def published_schema(schema: str) -> str:
    return PREFIX + schema


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish(settings: Settings, run_id: str) -> Publication:
    """Copy the published schemas of the working warehouse into the analysts' schemas, atomically."""
    published_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    publication = Publication(path=f"postgres: schemas {', '.join(published_schema(s) for s in PUBLISHED_SCHEMAS)}",
                              run_id=run_id, published_at=published_at)
    # one publish at a time from this machine (concurrent ones would both rename)
    with warehouse_lock(settings.warehouse_path), postgres_connection(settings, read_only=False) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema = any(%s) order by 1, 2",
            (list(PUBLISHED_SCHEMAS),),
        ).fetchall()
        if not any(schema == "marts" for schema, _ in tables):
            raise PublishRefused(f"database {settings.postgres_database} holds no marts to publish")
        # psycopg2 opened a transaction with the first statement: everything below is one
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"drop schema if exists {_quote(published_schema(schema) + '__next')} cascade")
            con.execute(f"create schema {_quote(published_schema(schema) + '__next')}")
        for schema, table in tables:
            target = f"{_quote(published_schema(schema) + '__next')}.{_quote(table)}"
            con.execute(f"create table {target} as select * from {_quote(schema)}.{_quote(table)}")
            publication.tables[f"{schema}.{table}"] = con.execute(f"select count(*) from {target}").fetchall()[0][0]
        con.execute(
            f"create table {_quote(published_schema('governance') + '__next')}.publication "
            "(run_id varchar, published_at timestamptz, tables integer)"
        )
        con.execute(
            f"insert into {_quote(published_schema('governance') + '__next')}.publication values (%s, %s, %s)",
            (run_id, published_at, len(publication.tables)),
        )
        for schema in PUBLISHED_SCHEMAS:
            live, new, old = (_quote(published_schema(schema) + suffix) for suffix in ("", "__next", "__old"))
            con.execute(f"drop schema if exists {old} cascade")
            con.execute(f"alter schema {live} rename to {old}" if _exists(con, published_schema(schema)) else "select 1")
            con.execute(f"alter schema {new} rename to {live}")
            con.execute(f"drop schema if exists {old} cascade")
        con.commit()
    return publication


def _exists(con, schema: str) -> bool:
    return bool(
        con.execute("select count(*) from information_schema.schemata where schema_name = %s", (schema,)).fetchall()[0][0]
    )


def read_publication(settings: Settings) -> dict | None:
    """Which run the analysts' schemas come from (None before the first publish)."""
    with postgres_connection(settings) as con:
        if not _exists(con, published_schema("governance")):
            return None
        rows = con.execute(f"select run_id, published_at, tables from {PUBLICATION_TABLE}").fetchall()
    run_id, published_at, tables = rows[0]
    return {"run_id": run_id, "published_at": str(published_at), "tables": tables}
