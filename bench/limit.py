"""The DuckDB-only run: the pipeline's work done directly in one DuckDB process.

    python -m bench.limit whole --landing DIR --warehouse W --target DBT_TARGET --published P
    python -m bench.limit publish --warehouse W --published P

`whole` is the physical limit of the whole Dagster materialization, in one process:
1. raw: DuckDB's own readers (read_csv / read_json / read_parquet) over every landing
   file, each column cast to the type of the source contract, and the newest version of
   each primary key kept (what the ingestion's merge keeps); a row with a value that
   does not cast is left out, as the ingestion quarantines it. No ledger, no quarantine
   table, no line numbers. On the generated companies it keeps the same rows.
2. dbt: the SQL dbt ran, in dependency order (bench/dbt_limit.py).
3. checks: every GX expectation as one hand-written query (bench/checks.py).
4. publish: the published schemas copied into a new DuckDB file.
`publish` is step 4 alone, on an already built warehouse.
The warehouse file must be named like the one dbt built (its name is the catalog that
the compiled SQL names).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
PUBLISHED_SCHEMAS = ("marts", "governance")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_raw(con: duckdb.DuckDBPyConnection, landing: Path) -> int:
    """Every landing file into typed raw tables, newest version per key; returns rows kept."""
    from orchestration.ingestion.parse import DUCKDB_TYPES
    from orchestration.sources.schemas import SOURCE_TABLES

    # `filename`: the raw layer's `_landing_file` (the path under the landing zone), which
    # the incremental models read
    readers = {"csv": "read_csv({files}, header = true, union_by_name = true, ignore_errors = true, all_varchar = true, filename = true)",
               "jsonl": "read_json({files}, format = 'newline_delimited', union_by_name = true, ignore_errors = true, filename = true)",
               "parquet": "read_parquet({files}, union_by_name = true, filename = true)"}
    prefix = len(str(landing).rstrip("/")) + 2
    kept = 0
    for t in SOURCE_TABLES:
        files = [str(p) for p in sorted((landing / t.system / t.table).glob(f"*.{t.ext}")) if p.stat().st_size]
        if not files:
            continue
        reader = readers[t.format].format(files="[" + ", ".join(_literal(f) for f in files) + "]")
        present = {row[0] for row in con.execute(f"describe select * from {reader}").fetchall()}
        columns = ", ".join(
            f"try_cast({_quote(c) if c in present else 'null'} as {DUCKDB_TYPES[t.types[c]]}) as {_quote(c)}"
            for c in t.columns
        ) + f", substr(filename, {prefix}) as _landing_file"
        # a value that does not cast keeps its row out, as the quarantine does
        valid = " and ".join(f"({_quote(c)} is null or try_cast({_quote(c)} as {DUCKDB_TYPES[t.types[c]]}) is not null)"
                             for c in t.columns if c in present and t.types[c] != "s") or "true"
        key = ", ".join(_quote(c) for c in t.primary_key)
        schema = f"raw_{t.system}"
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create or replace table {schema}.{_quote(t.table)} as "
            f"with typed as (select {columns} from {reader} where {valid}) "
            f"select * from typed where {' and '.join(f'{_quote(c)} is not null' for c in t.primary_key)} "
            f"qualify row_number() over (partition by {key} order by {_quote(t.updated_at)} desc nulls last) = 1"
        )
        kept += con.execute(f"select count(*) from {schema}.{_quote(t.table)}").fetchall()[0][0]
    return kept


def run_checks(con: duckdb.DuckDBPyConnection, repo: Path = REPO) -> dict:
    from bench.checks import hand_written_checks

    checks = hand_written_checks(con, repo)
    failed = [name for name, sql, passes in checks if not passes(con.execute(sql).fetchall())]
    return {"expectations": len(checks), "failed": failed}


def copy_published(con: duckdb.DuckDBPyConnection, published: Path, source: str | None = None) -> int:
    """The published schemas into a new file (attached as `pub`); returns rows copied."""
    published.unlink(missing_ok=True)
    prefix = f"{source}." if source else ""
    catalog = source or con.execute("select current_database()").fetchall()[0][0]
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? and schema_name in "
        f"({', '.join(_literal(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2", [catalog]
    ).fetchall()
    con.execute(f"attach {_literal(str(published))} as pub")
    rows = 0
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"create schema if not exists pub.{_quote(schema)}")
    for schema, table in tables:
        name = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"create table pub.{name} as select * from {prefix}{name}")
        rows += con.execute(f"select count(*) from pub.{name}").fetchall()[0][0]
    con.execute("checkpoint pub")
    con.execute("detach pub")
    return rows


def whole(landing: Path, warehouse: Path, target: Path, published: Path) -> dict:
    from bench import dbt_limit

    manifest = dbt_limit.load(target)
    prepared = dbt_limit.statements(manifest, target, REPO)
    seconds = {}
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")  # the dbt profile's setting
        raw_rows = load_raw(con, landing)
        seconds["raw"] = time.perf_counter() - started
        dbt = dbt_limit.run_statements(con, manifest, prepared)
        seconds["dbt"] = time.perf_counter() - started - sum(seconds.values())
        checks = run_checks(con)
        seconds["checks"] = time.perf_counter() - started - sum(seconds.values())
        published_rows = copy_published(con, published)
        seconds["publish"] = time.perf_counter() - started - sum(seconds.values())
    return {"raw_rows": raw_rows, "dbt": dbt, "checks": checks, "published_rows": published_rows,
            "seconds": {k: round(v, 3) for k, v in seconds.items()}}


def publish_only(warehouse: Path, published: Path) -> dict:
    with duckdb.connect() as con:
        con.execute(f"attach {_literal(str(warehouse))} as working (read_only)")
        return {"published_rows": copy_published(con, published, source="working")}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    w = sub.add_parser("whole")
    w.add_argument("--landing", type=Path, required=True)
    w.add_argument("--warehouse", type=Path, required=True)
    w.add_argument("--target", type=Path, required=True)
    w.add_argument("--published", type=Path, required=True)
    p = sub.add_parser("publish")
    p.add_argument("--warehouse", type=Path, required=True)
    p.add_argument("--published", type=Path, required=True)
    for s in (w, p):
        s.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.what == "whole":
        result = whole(args.landing, args.warehouse, args.target, args.published)
    else:
        result = publish_only(args.warehouse, args.published)
    print(json.dumps(result), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
