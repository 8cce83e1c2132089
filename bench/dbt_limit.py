"""The physical limit of `dbt build`: the SQL dbt ran, run directly in one DuckDB process.

    python -m bench.dbt_limit --warehouse <raw-only warehouse.duckdb> --target <dbt target dir>

The target directory is the one a `dbt build` on a fresh copy of the same raw warehouse
wrote (`--target-path`): its run_results.json says which nodes it ran, its manifest.json
gives each node's dependencies, materialization and compiled SELECT, and `run/` the SQL
of each unit test (dbt compile does not render unit tests). On a fresh warehouse an incremental model is its
full SELECT, so every model becomes one `create or replace table` (or view) of its
compiled SQL, whatever the materialization. Seeds are read with DuckDB's CSV reader and
the seed's configured column types; data tests run as dbt's own failure count over their
compiled SQL, unit tests as their rendered query. Everything runs in the manifest's
dependency order, serially, in this process: no Jinja, no adapter, no threads of dbt.
Hooks and persisted docs (column comments) are dbt's own work and are not repeated.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

BUILT = ("seed", "model")


def _nodes(manifest: dict) -> dict[str, dict]:
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in (*BUILT, "test")}
    nodes.update(manifest.get("unit_tests", {}))
    ran = manifest.get("ran")
    return nodes if ran is None else {uid: n for uid, n in nodes.items() if uid in ran}


def load(target_dir: Path) -> dict:
    """The manifest of a dbt build, limited to the nodes that build ran (its run_results)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    # hooks (operation.*) are not nodes: the project's on-run-start registers Spark's raw
    # tables and does nothing on DuckDB
    manifest["ran"] = {r["unique_id"] for r in results
                       if r["status"] != "skipped" and not r["unique_id"].startswith("operation.")}
    return manifest


def build_order(manifest: dict) -> list[dict]:
    """Seeds, models, data tests and unit tests, every node after the nodes it reads."""
    nodes = _nodes(manifest)
    graph = {uid: [d for d in n["depends_on"].get("nodes", []) if d in nodes] for uid, n in nodes.items()}
    return [nodes[uid] for uid in TopologicalSorter(graph).static_order()]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _relation(node: dict) -> str:
    return f"{_quote(node['schema'])}.{_quote(node['alias'] or node['name'])}"


def _unit_test_sql(node: dict, run_dir: Path) -> str:
    # dbt writes a unit test's query under the path of the YAML that declares it
    found = sorted((run_dir / node["package_name"] / node["original_file_path"]).rglob(f"{node['name']}.sql"))
    if not found:
        raise FileNotFoundError(f"no rendered SQL of unit test {node['unique_id']} under {run_dir}")
    return found[0].read_text()


def statements(manifest: dict, target_dir: Path, project_dir: Path) -> list[tuple[str, str, str]]:
    """(unique id, kind, SQL) in dependency order; kind is build, test or unit_test.

    Prepared before the clock starts: reading files is not the database's work."""
    out = []
    for node in build_order(manifest):
        kind = node["resource_type"]
        if kind == "seed":
            types = node["config"].get("column_types") or {}
            path = (project_dir / node["original_file_path"]).resolve()
            spec = f", types = {{{', '.join(f'{_literal(c)}: {_literal(t)}' for c, t in types.items())}}}" if types else ""
            out.append((node["unique_id"], "build", f"create or replace table {_relation(node)} as select * from "
                        f"read_csv({_literal(str(path))}, header = true, delimiter = {_literal(node['config'].get('delimiter') or ',')}{spec})"))
        elif kind == "model":
            materialized = node["config"]["materialized"]
            if materialized == "ephemeral":  # inlined into its readers' compiled SQL
                continue
            ddl = "view" if materialized == "view" else "table"
            out.append((node["unique_id"], "build", f"create or replace {ddl} {_relation(node)} as (\n{node['compiled_code']}\n)"))
        elif kind == "test":
            fail_calc = node["config"].get("fail_calc") or "count(*)"
            out.append((node["unique_id"], "test",
                        f"select {fail_calc} as failures from (\n{node['compiled_code']}\n) dbt_internal_test"))
        else:
            out.append((node["unique_id"], "unit_test", _unit_test_sql(node, target_dir / "run")))
    return out


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def run_statements(con: duckdb.DuckDBPyConnection, manifest: dict, prepared: list[tuple[str, str, str]]) -> dict:
    """Run every statement; returns the failing data tests (id -> failures) and counts."""
    schemas = {n["schema"] for n in _nodes(manifest).values() if n["resource_type"] in BUILT}
    for schema in sorted(schemas):
        con.execute(f"create schema if not exists {_quote(schema)}")
    failing, counts = {}, {"build": 0, "test": 0, "unit_test": 0}
    for unique_id, kind, sql in prepared:
        rows = con.execute(sql).fetchall()
        counts[kind] += 1
        if kind == "test" and rows and rows[0][0]:
            failing[unique_id] = rows[0][0]
    return {"statements": counts, "failing_tests": failing}


def row_counts(warehouse: Path, manifest: dict) -> dict[str, int]:
    """Rows of every seed and model relation of the manifest in a built warehouse."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            uid: con.execute(f"select count(*) from {_relation(n)}").fetchall()[0][0]
            for uid, n in _nodes(manifest).items()
            if n["resource_type"] in BUILT and n["config"].get("materialized") != "ephemeral"
        }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True, help="a raw-only warehouse, built in place")
    parser.add_argument("--target", type=Path, required=True, help="target dir of a dbt build on the same raw data")
    parser.add_argument("--project-dir", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    manifest = load(args.target)
    prepared = statements(manifest, args.target, args.project_dir)
    started = time.perf_counter()
    with duckdb.connect(str(args.warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")  # the profile's setting (profiles.yml)
        result = run_statements(con, manifest, prepared)
    result["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(result), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
