"""Write, audit, publish on Spark: the analysts' copy switches to a new publication in one step.

Spark has no transactions and no schema rename, but one change of the metastore is atomic.
So every publication is kept as a partition of a store table per published table
(`published_store.<schema>__<table>`, partition column `publication_run_id`), and one view,
`published_governance.publication`, names the current publication. The analysts' views,
`published_marts.<table>` and `published_governance.<table>`, read the store's partition
that this view names. A publish:

1. copies every table of `marts` and `governance` into a new partition, which nobody reads;
2. (re)creates the analysts' views over the store (same definition, unless columns changed);
3. replaces the `publication` view: one metastore change, after which every analysts' view
   reads the new publication; before it, every view still reads the previous one;
4. drops the partitions of publications older than the previous one (a query that started
   on the previous copy keeps its files).

A publish that fails or is killed before step 3 leaves the analysts on the previous
publication; re-running publishes again under the same run id, overwriting its partition.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from orchestration.publish.analyst_copy import PUBLISHED_SCHEMAS, Publication, PublishRefused
from orchestration.settings import Settings
from orchestration.warehouse_lock import warehouse_lock

PREFIX = "published_"
STORE_SCHEMA = "published_store"
# not starting with "_": the Hive metastore's partition filter parser refuses such a name
PUBLICATION_COLUMN = "publication_run_id"
PUBLICATION_VIEW = f"{PREFIX}governance.publication"


def published_schema(schema: str) -> str:
    return PREFIX + schema


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _store_table(schema: str, table: str) -> str:
    return f"{STORE_SCHEMA}.{_quote(f'{schema}__{table}')}"


def _tables(con, schema: str) -> list[str]:
    """The tables (not views) of `schema`, or none when it does not exist."""
    if schema not in {row[0] for row in con.execute("show schemas").fetchall()}:
        return []
    views = {row[1] for row in con.execute(f"show views in {_quote(schema)}").fetchall()}
    return sorted(row[1] for row in con.execute(f"show tables in {_quote(schema)}").fetchall()
                  if row[1] not in views and not row[2])


def _columns(con, relation: str) -> list[tuple[str, str]]:
    rows = con.execute(f"describe {relation}").fetchall()
    columns = []
    for name, data_type, *_ in rows:
        if not name or name.startswith("#"):  # the partition section of DESCRIBE follows
            break
        columns.append((name, data_type))
    return columns


def _current_publication(con) -> str | None:
    try:
        return con.execute(f"select run_id from {PUBLICATION_VIEW}").fetchall()[0][0]
    except Exception as error:  # no publication yet: the view does not exist
        if re.search(r"TABLE_OR_VIEW_NOT_FOUND|SCHEMA_NOT_FOUND|not found", str(error), re.IGNORECASE):
            return None
        raise


def publish(settings: Settings, run_id: str) -> Publication:
    """Copy the published schemas into a new publication and switch the analysts to it."""
    from orchestration.warehouse import spark_connection

    published_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    publication = Publication(
        path=f"spark: views {', '.join(published_schema(s) for s in PUBLISHED_SCHEMAS)} over {STORE_SCHEMA}",
        run_id=run_id,
        published_at=published_at,
    )
    with warehouse_lock(settings.warehouse_path), spark_connection(settings) as con:
        tables = {schema: _tables(con, schema) for schema in PUBLISHED_SCHEMAS}
        if not tables["marts"]:
            raise PublishRefused("the Spark warehouse holds no marts to publish")
        previous = _current_publication(con)
        for schema in (STORE_SCHEMA, *(published_schema(s) for s in PUBLISHED_SCHEMAS)):
            con.execute(f"create schema if not exists {_quote(schema)}")
        # 1. the new publication's rows, in partitions nobody reads yet
        for schema, names in tables.items():
            for table in names:
                source = f"{_quote(schema)}.{_quote(table)}"
                store = _store_table(schema, table)
                columns = _columns(con, source)
                stored = [c for c in _columns(con, store) if c[0] != PUBLICATION_COLUMN] if _exists(con, store) else None
                if stored != columns:
                    # a new table, or its columns changed: the store starts again for it
                    con.execute(f"drop table if exists {store}")
                    definition = ", ".join(f"{_quote(n)} {t}" for n, t in columns)
                    con.execute(
                        f"create table {store} ({definition}, {PUBLICATION_COLUMN} string) "
                        f"using parquet partitioned by ({PUBLICATION_COLUMN})"
                    )
                names_sql = ", ".join(_quote(n) for n, _ in columns)
                con.execute(
                    f"insert overwrite table {store} partition ({PUBLICATION_COLUMN} = {_literal(run_id)}) "
                    f"select {names_sql} from {source}"
                )
                publication.tables[f"{schema}.{table}"] = con.execute(
                    f"select count(*) from {store} where {PUBLICATION_COLUMN} = {_literal(run_id)}"
                ).fetchall()[0][0]
        count = sum(len(n) for n in tables.values())
        if previous is None:
            # the first publication: Spark checks a view's query when it is created, so the
            # publication view the analysts' views read must exist first (nothing to switch from)
            _switch(con, run_id, published_at, count)
        # 2. the analysts' views read whichever publication the publication view names
        for schema, names in tables.items():
            for table in names:
                names_sql = ", ".join(_quote(n) for n, _ in _columns(con, f"{_quote(schema)}.{_quote(table)}"))
                con.execute(
                    f"create or replace view {_quote(published_schema(schema))}.{_quote(table)} as "
                    f"select {names_sql} from {_store_table(schema, table)} "
                    f"where {PUBLICATION_COLUMN} = (select run_id from {PUBLICATION_VIEW})"
                )
        # 3. the switch: one change of the metastore
        _switch(con, run_id, published_at, count)
        # 4. keep the previous publication for queries still reading it; older ones go
        keep = {run_id, previous}
        for schema, names in tables.items():
            for table in names:
                store = _store_table(schema, table)
                for (partition,) in con.execute(f"show partitions {store}").fetchall():
                    value = partition.split("=", 1)[1]
                    if value not in keep:
                        con.execute(f"alter table {store} drop if exists partition ({PUBLICATION_COLUMN} = {_literal(value)})")
    return publication


def _switch(con, run_id: str, published_at: str, tables: int) -> None:
    """Point the publication view, and with it every analysts' view, at `run_id`."""
    con.execute(
        f"create or replace view {PUBLICATION_VIEW} as select {_literal(run_id)} as run_id, "
        f"timestamp {_literal(published_at.replace('T', ' ').replace('+00:00', ''))} as published_at, "
        f"{tables} as tables"
    )


def _exists(con, relation: str) -> bool:
    schema, table = relation.split(".", 1)
    return any(row[1] == table.strip("`") for row in con.execute(f"show tables in {schema}").fetchall())


def read_publication(settings: Settings) -> dict | None:
    """Which run the analysts' views read (None before the first publish)."""
    from orchestration.warehouse import read_connection

    with read_connection(settings) as con:
        if published_schema("governance") not in {row[0] for row in con.execute("show schemas").fetchall()}:
            return None
        try:
            rows = con.execute(f"select run_id, published_at, tables from {PUBLICATION_VIEW}").fetchall()
        except Exception:
            return None
    run_id, published_at, tables = rows[0]
    return {"run_id": run_id, "published_at": str(published_at), "tables": tables}
