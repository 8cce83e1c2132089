"""Ingestion against DuckDB's own readers on the same landing files.

    python -m bench.ingest --landing DIR [--runs N]

The pipeline side materializes every ingestion asset through Dagster (ledger, typing,
quarantine, merge: `python -m bench.stages ingest`) into a fresh warehouse; the limit side
reads the same files with read_csv / read_json / read_parquet straight into tables of a
fresh DuckDB file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.measure import median_of, run_measured
from orchestration.settings import REPO_ROOT

_DUCKDB_ONLY = """
import sys, duckdb
from pathlib import Path
from orchestration.sources.schemas import SOURCE_TABLES
landing, target = Path(sys.argv[1]), sys.argv[2]
readers = {"csv": "read_csv({files}, header = true, union_by_name = true, ignore_errors = true)",
           "jsonl": "read_json({files}, format = 'newline_delimited', union_by_name = true, ignore_errors = true)",
           "parquet": "read_parquet({files}, union_by_name = true)"}
with duckdb.connect(target) as con:
    for t in SOURCE_TABLES:
        files = [str(p) for p in sorted((landing / t.system / t.table).glob(f"*.{t.ext}")) if p.stat().st_size]
        if not files:
            continue
        con.execute(f"create schema if not exists raw_{t.system}")
        con.execute(f'create or replace table raw_{t.system}."{t.table}" as select * from ' + readers[t.format].format(files=files))
"""


def rows_in(landing: Path) -> int:
    import duckdb

    from orchestration.sources.schemas import SOURCE_TABLES

    total = 0
    with duckdb.connect() as con:
        for t in SOURCE_TABLES:
            for path in (landing / t.system / t.table).glob(f"*.{t.ext}"):
                if not path.stat().st_size:
                    continue
                if t.format == "parquet":
                    total += con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchall()[0][0]
                else:
                    with path.open("rb") as handle:
                        total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))
                    total -= 1 if t.format == "csv" else 0
    return total


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measured_with_cpu(command: list[str], **kwargs):
    """Wall time and peak memory (bench.measure) and the CPU seconds of the process tree: on
    a machine shared with other work, CPU seconds compare where wall time does not."""
    before = _cpu_of_children()
    measurement = run_measured(command, **kwargs)
    return measurement, _cpu_of_children() - before


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    pipeline_runs, limit_runs, pipeline_cpu, limit_cpu = [], [], [], []
    try:
        for i in range(args.runs):
            env = {**os.environ, "WAREHOUSE_DIR": str(scratch / f"wh{i}"), "LANDING_DIR": str(args.landing)}
            env.pop("WAREHOUSE_PATH", None)
            # the pipeline side is `make bench`'s own ingestion stage (bench/stages.py)
            measurement, cpu = _measured_with_cpu([sys.executable, "-m", "bench.stages", "ingest"], env=env, cwd=REPO_ROOT)
            pipeline_runs.append(measurement)
            pipeline_cpu.append(cpu)
            shutil.rmtree(scratch / f"wh{i}")
            measurement, cpu = _measured_with_cpu(
                [sys.executable, "-c", _DUCKDB_ONLY, str(args.landing), str(scratch / f"limit{i}.duckdb")]
            )
            limit_runs.append(measurement)
            limit_cpu.append(cpu)
            (scratch / f"limit{i}.duckdb").unlink()
            print(f"run {i + 1}: pipeline {pipeline_runs[-1].seconds:.1f} s ({pipeline_cpu[-1]:.1f} CPU-s), "
                  f"duckdb-only {limit_runs[-1].seconds:.1f} s ({limit_cpu[-1]:.1f} CPU-s), "
                  f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    pipeline, limit = median_of(pipeline_runs), median_of(limit_runs)
    rows = rows_in(args.landing)
    result = {
        "rows": rows,
        "pipeline_seconds": round(pipeline.seconds, 2),
        "duckdb_only_seconds": round(limit.seconds, 2),
        "time_ratio": round(pipeline.seconds / limit.seconds, 2),
        "pipeline_peak_rss_mb": round(pipeline.peak_rss_bytes / 2**20),
        "duckdb_only_peak_rss_mb": round(limit.peak_rss_bytes / 2**20),
        "memory_ratio": round(pipeline.peak_rss_bytes / max(limit.peak_rss_bytes, 1), 2),
        "pipeline_cpu_seconds": round(statistics.median(pipeline_cpu), 1),
        "duckdb_only_cpu_seconds": round(statistics.median(limit_cpu), 1),
        "cpu_ratio": round(statistics.median(pipeline_cpu) / max(statistics.median(limit_cpu), 1e-9), 2),
        "pipeline_rows_per_second": round(rows / pipeline.seconds),
        "runs": args.runs,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
