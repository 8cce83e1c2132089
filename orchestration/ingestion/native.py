"""The DuckDB fast path of the ingestion: files are read, typed and merged inside the
warehouse connection itself, with DuckDB's own readers.

Measured on the 10M-touch-event company (README, "Ingestion speed"), the dlt path
(Arrow tables, parquet loader format) spent most of its time copying: the typed rows into
Python memory, then into dlt's parquet files, then into a staging table and the merge.
Here each file is read once into a temporary table of the warehouse connection and
merged from there, one transaction per source table: the raw rows, the ledger entries
and the quarantine rows of a table commit together or not at all.

The same ledger, quarantine, contract typing and accounting as the dlt path (which
serves the Postgres target) apply; only the copy between them is gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from orchestration.ingestion.assets import TableLoad, bookkeeping_rows
from orchestration.ingestion.ledger import (
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    ChecksumCache,
    FilePlan,
    LedgerEntry,
    describe,
    plan_files,
)
from orchestration.ingestion.parse import DUCKDB_TYPES, FileRejected, drop_accepted, parse_file
from orchestration.settings import Settings
from orchestration.sources.schemas import SourceTable
from orchestration.warehouse_lock import warehouse_lock

_LEDGER_DDL = (
    "relative_path varchar, source_table varchar, size_bytes bigint, sha256 varchar, status varchar, "
    "rows_read bigint, rows_loaded bigint, rows_quarantined bigint, new_columns varchar, error varchar, "
    "load_id varchar, loaded_at timestamptz"
)
_QUARANTINE_DDL = (
    "relative_path varchar, source_table varchar, line_number bigint, raw_content varchar, reason varchar, "
    "load_id varchar, quarantined_at timestamptz"
)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def read_ledger(con, schema: str) -> dict[str, LedgerEntry]:
    if not _exists(con, schema, LEDGER_TABLE):
        return {}
    rows = con.execute(
        f"select relative_path, sha256, status from {schema}.{LEDGER_TABLE} order by loaded_at"
    ).fetchall()
    return {path: LedgerEntry(sha256=sha, status=status) for path, sha, status in rows}


def _contract_ddl(table: SourceTable) -> str:
    columns = [f"{_q(c)} {DUCKDB_TYPES[table.types[c]]}" for c in table.columns]
    return ", ".join(columns + ['"_landing_file" varchar', '"_landing_line" bigint'])


def _empty_select(table: SourceTable) -> str:
    columns = [f"cast(null as {DUCKDB_TYPES[table.types[c]]}) as {_q(c)}" for c in table.columns]
    columns += ["cast(null as varchar) as _landing_file", "cast(null as bigint) as _landing_line"]
    return f"select {', '.join(columns)} limit 0"


def _newest_per_key_sql(table: SourceTable, relation: str) -> str:
    keys = ", ".join(_q(k) for k in table.primary_key)
    return (
        f"select * exclude (_version) from (select *, row_number() over (partition by {keys} "
        f"order by {_q(table.updated_at)} desc nulls last, _landing_file desc, _landing_line desc) as _version "
        f"from {relation}) where _version = 1"
    )


def _merge(con, schema: str, load) -> None:
    """Merge the incoming rows of one table into the raw table (newest version wins)."""
    table = load.table
    target = f"{schema}.{_q(table.table)}"
    keys = [_q(k) for k in table.primary_key]
    if not _exists(con, schema, table.table):
        load.first_load = True
        con.execute(f"create table {target} ({_contract_ddl(table)})").fetchall()
    existing_columns = {row[0] for row in con.execute(f"select column_name from (describe {target})").fetchall()}
    if not con.execute("select count(*) from _incoming").fetchall()[0][0]:
        return
    for column in load.new_columns:
        if column not in existing_columns:
            con.execute(f"alter table {target} add column {_q(column)} varchar").fetchall()
    incoming = "_incoming"
    if table.event_time is None and not load.first_load:
        join = " and ".join(f"i.{k} = r.{k}" for k in keys)
        updated = _q(table.updated_at)
        con.execute(
            f"create or replace temp table _fresh as select i.* from _incoming i "
            f"where not exists (select 1 from {target} r where {join} and i.{updated} < r.{updated})"
        ).fetchall()
        incoming = "_fresh"
        load.stale_rows = load.rows_loaded - con.execute("select count(*) from _fresh").fetchall()[0][0]
    key_list = ", ".join(keys)
    duplicates = con.execute(
        f"select count(*) - count(distinct ({key_list})) from {incoming}"
    ).fetchall()[0][0]
    newest = f"({_newest_per_key_sql(table, incoming)})" if duplicates else incoming
    if not load.first_load:
        con.execute(
            f"delete from {target} where ({key_list}) in (select ({key_list}) from {newest})"
            if len(keys) > 1
            else f"delete from {target} where {keys[0]} in (select {keys[0]} from {newest})"
        ).fetchall()
    con.execute(f"insert into {target} by name select * from {newest}").fetchall()


def _create_bookkeeping(con, schema: str) -> None:
    con.execute(f"create table if not exists {schema}.{LEDGER_TABLE} ({_LEDGER_DDL})").fetchall()
    con.execute(f"create table if not exists {schema}.{QUARANTINE_TABLE} ({_QUARANTINE_DDL})").fetchall()


def _write_bookkeeping(con, schema: str, ledger: list[dict], quarantine: list[dict]) -> None:
    for name, rows in ((LEDGER_TABLE, ledger), (QUARANTINE_TABLE, quarantine)):
        if rows:
            con.register("_bookkeeping", pa.Table.from_pylist(rows))
            con.execute(f"insert into {schema}.{name} by name select * from _bookkeeping").fetchall()
            con.unregister("_bookkeeping")


# Tables of a system load side by side, each on its own cursor (a connection of its own
# to the same database, with its own temporary tables and transaction): a big file keeps
# DuckDB's threads busy, but the small files' many short statements leave a core idle,
# which the next table uses. Two, as the machines this runs on have few cores and DuckDB
# already spreads one big statement over all of them.
TABLES_AT_ONCE = 2


def load_system(
    settings: Settings,
    system: str,
    tables: Sequence[SourceTable],
    log: Callable[[str], None] = print,
    tables_at_once: int = TABLES_AT_ONCE,
) -> list[TableLoad]:
    """Load the new landing files of `tables` into raw_<system>; returns one TableLoad each.

    `log` is called from this thread only (Dagster's logger writes to the event log), in
    the order of `tables`."""
    schema = f"raw_{system}"
    load_id = f"{time.time():.6f}"
    loads = []
    folders = {t.table: settings.landing_dir / t.system / t.table for t in tables}
    paths = {t.table: sorted(folders[t.table].glob(f"*.{t.ext}")) if folders[t.table].is_dir() else [] for t in tables}
    checksums = ChecksumCache.of_system(settings.warehouse_dir, system)
    # Checksums and line counts run in a thread beside DuckDB (hashlib and file reads
    # release the GIL, DuckDB too): a new file is parsed while it is still being hashed.
    # one writer process at a time, whoever started the run (orchestration/warehouse_lock.py)
    with warehouse_lock(settings.warehouse_path), duckdb.connect(str(settings.warehouse_path)) as con, \
            ThreadPoolExecutor(1) as hasher:
        con.execute(f"create schema if not exists {schema}").fetchall()
        # before the tables load side by side: two transactions creating them would conflict
        _create_bookkeeping(con, schema)
        ledger = read_ledger(con, schema)
        described = {
            path: hasher.submit(describe, path, settings.landing_dir, checksums) for t in tables for path in paths[t.table]
        }
        # the biggest table first, so that the small ones fill the other cursor meanwhile
        by_size = sorted(tables, key=lambda t: -sum(p.stat().st_size for p in paths[t.table]))
        with ThreadPoolExecutor(max(1, tables_at_once)) as loaders:
            futures = {
                t.table: loaders.submit(_load_table, con, schema, t, paths[t.table], described, ledger, load_id, settings)
                for t in by_size
            }
            try:
                for table in tables:
                    load = futures[table.table].result()
                    log(
                        f"{system}.{table.table}: {len(load.plan.to_load)} new file(s), {load.rows_read} rows read, "
                        f"{load.rows_loaded} loaded, {load.rows_quarantined} quarantined, {load.stale_rows} stale"
                    )
                    loads.append(load)
            except BaseException:
                # tables already committed stay (the ledger knows them); the rest do not start
                loaders.shutdown(wait=True, cancel_futures=True)
                raise
        if settings.is_spark:
            # Spark reads the raw layer as parquet (orchestration/spark/raw_export.py): the
            # tables that took new files, and the ledger and quarantine when any file came
            from orchestration.spark.raw_export import export_tables

            changed = [l.table.table for l in loads if l.plan.to_load]
            if changed:
                changed += [LEDGER_TABLE, QUARANTINE_TABLE]
            exported = export_tables(con, settings, schema, changed)
            if exported:
                log(f"{schema}: wrote {len(exported)} table(s) as parquet for Spark: "
                    + ", ".join(f"{t} ({n} rows)" for t, n in sorted(exported.items())))
    checksums.save()
    log(f"{schema}: {checksums.summary()}")
    return loads


def _load_table(con, schema: str, table: SourceTable, paths, described, ledger, load_id: str, settings) -> TableLoad:
    """Parse the new files of one table and merge them in one transaction, on a cursor of
    its own (its temporary tables and transaction are its own)."""
    with con.cursor() as cursor:
        relative = {path: path.relative_to(settings.landing_dir).as_posix() for path in paths}
        # a file under a new name loads whatever its checksum; a known name needs it
        known = plan_files([described[p].result() for p in paths if relative[p] in ledger], ledger)
        retried = {f.path for f in known.to_load}
        to_parse = [p for p in paths if relative[p] not in ledger or p in retried]
        # Parse outside the transaction: rows of a table created inside one carry
        # transaction-local row ids, and the parser numbers lines by row id.
        kept, parsed_files, rejected = [], [], []
        for index, path in enumerate(to_parse):
            try:
                parsed = parse_file(
                    path, table, relative[path], con=cursor, keep_as=f"_accepted_{index}",
                    line_count=lambda path=path: described[path].result().line_count,
                )
            except FileRejected as error:
                rejected.append((described[path].result(), str(error)))
                continue
            parsed_files.append((described[path].result(), parsed))
            if parsed.accepted_table is not None:  # empty and header-only files have none
                kept.append(parsed.accepted_table)
        load = TableLoad(
            table,
            FilePlan(to_load=[described[p].result() for p in to_parse], unchanged=known.unchanged, changed=known.changed),
        )
        load.parsed, load.rejected = parsed_files, rejected
        cursor.execute("begin transaction").fetchall()
        try:
            union = " union all by name ".join(f"select * from {name}" for name in kept)
            # a view over the files' accepted rows: no extra copy of the batch
            cursor.execute(f"create or replace temp view _incoming as {union or _empty_select(table)}").fetchall()
            _merge(cursor, schema, load)
            _write_bookkeeping(cursor, schema, *bookkeeping_rows([load], load_id))
            cursor.execute("commit").fetchall()
        except BaseException:
            cursor.execute("rollback").fetchall()
            raise
        finally:
            cursor.execute("drop view if exists _incoming").fetchall()
            for name in kept:
                drop_accepted(cursor, name)
        load.newest = _newest(cursor, schema, table, load)
        return load


def _newest(con, schema: str, table: SourceTable, load) -> str | None:
    if not load.rows_loaded:
        return None
    column = _q(table.event_time or table.updated_at)
    files = [f.relative_path for f, _ in load.parsed]
    value = con.execute(
        f"select max({column}) from {schema}.{_q(table.table)} where _landing_file in (select unnest(?))", [files]
    ).fetchall()[0][0]
    return value.astimezone(timezone.utc).isoformat() if isinstance(value, datetime) else (str(value) if value else None)
