"""`make bench`: generate the company and measure the stages built so far against DuckDB.

    python -m bench.run [--scale S] [--runs N]

Measured today: generation (its own process) and ingestion against DuckDB's own readers
(bench/ingest.py). The remaining stages (dbt build, GX suites, publish, the whole
materialization, the incremental day) are issue 9. Figures go to .bench/latest.json;
the kept copy of the latest figures is bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from bench import ingest
from bench.measure import run_measured

ROOT = Path(__file__).resolve().parent.parent / ".bench"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    company = ROOT / f"scale-{args.scale:g}"
    shutil.rmtree(company, ignore_errors=True)
    generation = run_measured(
        [sys.executable, "-m", "orchestration.sources.generate", "--scale", str(args.scale),
         "--out", str(company / "landing"), "--truth", str(company / "truth")]
    )
    print(f"generation at scale {args.scale:g}: {generation.seconds:.1f} s, "
          f"peak {generation.peak_rss_bytes / 2**20:.0f} MB", file=sys.stderr)
    figures = ingest.main(["--landing", str(company / "landing"), "--runs", str(args.runs)])
    result = {
        "scale": args.scale,
        "generation_seconds": round(generation.seconds, 2),
        "generation_peak_rss_mb": round(generation.peak_rss_bytes / 2**20),
        "ingestion": figures,
    }
    ROOT.mkdir(exist_ok=True)
    (ROOT / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n| stage | pipeline s | DuckDB-only s | ratio | peak MB | rows/s |\n|---|---:|---:|---:|---:|---:|\n"
          f"| generation | {generation.seconds:.1f} | | | {generation.peak_rss_bytes / 2**20:.0f} | |\n"
          f"| ingestion | {figures['pipeline_seconds']} | {figures['duckdb_only_seconds']} | "
          f"{figures['time_ratio']} | {figures['pipeline_peak_rss_mb']} | {figures['pipeline_rows_per_second']} |")


if __name__ == "__main__":
    main()
