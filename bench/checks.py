"""The audit's cost: every GX suite against the same checks hand-written in DuckDB SQL.

    python -m bench.checks --warehouse <built warehouse.duckdb> [--runs 3] [--json out.json]

Both sides run in their own process on the same warehouse, one after the other, `--runs`
times; the figures are medians. The GX side is `orchestration.checks.suites.run_suites`
over every suite (what the Dagster check step runs, Data Docs excluded and measured apart).
The hand-written side is one DuckDB query per expectation, written here from the suite's
own configuration (its columns, value sets and row queries, with the same parameters), so
both sides check the same things. Wall time is reported for the whole process and for the
validation alone (after imports), with the peak memory of the process tree.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench.measure import run_measured

REPO = Path(__file__).resolve().parent.parent

# GX's import, like duckdb's on the other side, is outside the validation time. Under
# `python -c` GX cannot be imported plainly: pyspark (which GX imports) exits such a process
# with code 0 (orchestration/checks/gx_duckdb.py, import_great_expectations)
_GX_IMPORTS = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from orchestration.checks.gx_duckdb import import_great_expectations
from orchestration.checks.suites import run_suites, suite_files
import_great_expectations()
"""

_GX = _GX_IMPORTS + """
repo = Path(sys.argv[2])
names = [s.name for s in suite_files(repo / "expectations")]
docs = Path(sys.argv[4]) if len(sys.argv) > 4 else None
t1 = time.perf_counter()
outcomes = run_suites(names, Path(sys.argv[1]), repo / "expectations", repo, docs_dir=docs)
t2 = time.perf_counter()
Path(sys.argv[3]).write_text(json.dumps({"import_seconds": t1 - t0, "validate_seconds": t2 - t1,
                  "expectations": sum(o.evaluated for o in outcomes),
                  "failed": sum(len(o.failed) for o in outcomes)}))
"""

_SQL = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import duckdb
from bench.checks import hand_written_checks
t1 = time.perf_counter()
con = duckdb.connect(sys.argv[1], read_only=True)
failed = 0
checks = hand_written_checks(con, Path(sys.argv[2]))
for name, sql, passes in checks:
    if not passes(con.execute(sql).fetchall()):
        failed += 1
t2 = time.perf_counter()
Path(sys.argv[3]).write_text(json.dumps({"import_seconds": t1 - t0, "validate_seconds": t2 - t1,
                                         "expectations": len(checks), "failed": failed}))
"""


def hand_written_checks(con, repo: Path):
    """(name, sql, passes(rows)) per expectation of every suite, as plain DuckDB SQL."""
    from orchestration.checks.suites import project_vars, render_query, resolve_parameters, suite_files

    variables = project_vars(repo)
    checks = []
    for suite_file in suite_files(repo / "expectations"):
        suite = json.loads(suite_file.path.read_text())
        relation = suite["meta"]["guards"]
        parameters = resolve_parameters(con, suite["meta"].get("parameters", {}), variables)

        def value(v):
            return parameters[v["$PARAMETER"]] if isinstance(v, dict) else v

        def literal_list(values):
            return "(" + ", ".join(repr(x) if not isinstance(x, str) else "'" + x.replace("'", "''") + "'"
                                   for x in values) + ")"

        for e in suite["expectations"]:
            kind, kw, name = e["type"], e["kwargs"], f"{suite['name']}: {e.get('description') or e['type']}"
            column = kw.get("column")
            if kind == "unexpected_rows_expectation":
                query = render_query(kw["unexpected_rows_query"], parameters).replace("{batch}", relation)
                checks.append((name, f"select count(*) from ({query})", lambda r: r[0][0] == 0))
            elif kind == "expect_column_values_to_be_unique":
                checks.append((name, f"select count({column}) - count(distinct {column}) from {relation}",
                               lambda r: r[0][0] == 0))
            elif kind == "expect_column_values_to_not_be_null":
                checks.append((name, f"select count(*) from {relation} where {column} is null", lambda r: r[0][0] == 0))
            elif kind == "expect_column_values_to_be_in_set":
                values = value(kw["value_set"])
                checks.append((name, f"select count(*) from {relation} where {column} is not null "
                                     f"and {column} not in {literal_list(values)}", lambda r: r[0][0] == 0))
            elif kind == "expect_column_values_to_be_between":
                low, high = value(kw.get("min_value")), value(kw.get("max_value"))
                conditions = [f"{column} < {low}" if low is not None else None,
                              f"{column} > {high}" if high is not None else None]
                where = " or ".join(c for c in conditions if c)
                checks.append((name, f"select count(*) from {relation} where {where}", lambda r: r[0][0] == 0))
            elif kind == "expect_column_distinct_values_to_equal_set":
                expected = sorted(value(kw["value_set"]))
                checks.append((name, f"select distinct {column} from {relation} where {column} is not null",
                               lambda r, expected=expected: sorted(x[0] for x in r) == expected))
            elif kind == "expect_table_row_count_to_equal":
                checks.append((name, f"select count(*) from {relation}", lambda r, n=kw["value"]: r[0][0] == n))
            else:
                raise NotImplementedError(f"{name}: no hand-written form of {kind}")
    return checks


def _run(code: str, args: list[str]):
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "figures.json"
        measurement = run_measured([sys.executable, "-c", code, args[0], args[1], str(out), *args[2:]], cwd=REPO)
        if not out.exists():
            raise RuntimeError(f"the measured script exited with code {measurement.returncode} without writing "
                               f"its figures ({out.name}); its first lines:\n{code.strip()[:300]}")
        return measurement, json.loads(out.read_text())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=Path, help="also time a run that builds Data Docs here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    gx_runs, sql_runs = [], []
    for _ in range(args.runs):
        gx_runs.append(_run(_GX, [str(args.warehouse), str(REPO)]))
        sql_runs.append(_run(_SQL, [str(args.warehouse), str(REPO)]))

    def median(runs, key):
        return statistics.median(key(m, f) for m, f in runs)

    result = {
        "expectations": gx_runs[0][1]["expectations"],
        "gx_failed": gx_runs[0][1]["failed"],
        "sql_failed": sql_runs[0][1]["failed"],
        "gx_validate_seconds": round(median(gx_runs, lambda m, f: f["validate_seconds"]), 2),
        "sql_validate_seconds": round(median(sql_runs, lambda m, f: f["validate_seconds"]), 2),
        "gx_process_seconds": round(median(gx_runs, lambda m, f: m.seconds), 2),
        "sql_process_seconds": round(median(sql_runs, lambda m, f: m.seconds), 2),
        "gx_peak_rss_mb": round(median(gx_runs, lambda m, f: m.peak_rss_bytes) / 2**20),
        "sql_peak_rss_mb": round(median(sql_runs, lambda m, f: m.peak_rss_bytes) / 2**20),
        "runs": args.runs,
    }
    result["validate_ratio"] = round(result["gx_validate_seconds"] / result["sql_validate_seconds"], 2)
    result["process_ratio"] = round(result["gx_process_seconds"] / result["sql_process_seconds"], 2)
    if args.docs:
        measurement, figures = _run(_GX, [str(args.warehouse), str(REPO), str(args.docs)])
        result["gx_with_data_docs_validate_seconds"] = round(figures["validate_seconds"], 2)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
