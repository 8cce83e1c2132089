"""The raw layer on Spark: parquet files that the loader writes and Spark reads as tables.

Spark's own tables cannot take the raw layer's load: a raw table is a merge on the primary
key (a newer version of a record replaces the older one), and Spark's default parquet
tables have no merge (Delta and Iceberg, which do, fetch their jars from Maven at run time,
which this project cannot rely on). So the loader stays the one DuckDB path, with its
ledger, quarantine and row accounting unchanged, and every raw table it changed is written
as one parquet folder per table under `<spark dir>/raw/<schema>/<table>/`. dbt registers the
folders as Spark tables at the start of each run (macro `register_raw_tables`).

A folder is replaced whole: written beside the old one, then renamed over it, so a reader
sees the old table or the new one, never half of one, and a re-run writes the same files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from orchestration.settings import Settings

PARQUET_FILE = "part-00000.parquet"


def raw_folder(settings: Settings) -> Path:
    return settings.spark_dir / "raw"


def table_folder(settings: Settings, schema: str, table: str) -> Path:
    return raw_folder(settings) / schema / table


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def export_tables(con, settings: Settings, schema: str, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Write `tables` of `schema` (every table of it when None, and any table never written
    yet) from the DuckDB connection `con` as parquet folders; returns rows written per table."""
    present = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()
    ]
    wanted = set(present if tables is None else tables)
    wanted |= {t for t in present if not table_folder(settings, schema, t).exists()}
    written: dict[str, int] = {}
    for table in present:
        if table not in wanted:
            continue
        final = table_folder(settings, schema, table)
        staged = final.with_name(final.name + ".next")
        retired = final.with_name(final.name + ".old")
        for leftover in (staged, retired):  # from an interrupted earlier export
            shutil.rmtree(leftover, ignore_errors=True)
        staged.mkdir(parents=True)
        # one file per table: small tables stay one file, and Spark splits a big parquet
        # file by row group on read
        con.execute(
            f"copy (select * from {_quote(schema)}.{_quote(table)}) to '{staged / PARQUET_FILE}' "
            "(format parquet, compression zstd, row_group_size 122880)"
        ).fetchall()
        written[table] = con.execute(f"select count(*) from {_quote(schema)}.{_quote(table)}").fetchall()[0][0]
        if final.exists():
            final.rename(retired)
        staged.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
    return written
