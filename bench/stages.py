"""The pipeline's stages as the benchmark runs them, each as its own process.

    python -m bench.stages generate --scale S --out DIR --truth DIR
    python -m bench.stages ingest                 (WAREHOUSE_DIR, LANDING_DIR from the environment)
    python -m bench.stages materialize            (every asset and check, one Dagster run)
    python -m bench.stages publish --warehouse W --published P

`generate` is the generator with the demo's mess (everything but stage values the governed
mapping lacks, which stop the build by design); `--append-days` of the generator keeps the
mess of the company it extends. `materialize` is what `make demo` does without generating
or parsing dbt (the manifest is prepared once, as for any deployment): importing the
definitions, then ingestion, dbt build, the GX suites and publish in one Dagster run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def generate(scale: float, out: Path, truth: Path, seed: int) -> None:
    import dataclasses

    import pyarrow as pa

    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    # as the generator's own command line does: freed memory goes back sooner
    pa.set_memory_pool(pa.system_memory_pool())
    generate_company(out, truth, scale=scale, seed=seed, mess=dataclasses.replace(MessConfig(), unknown_stage=0.0))


def ingest() -> None:
    from dagster import DagsterInstance, materialize

    from orchestration.ingestion.assets import build_ingestion_assets, dlt_resource
    from orchestration.settings import Settings

    settings = Settings.from_env()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    result = materialize(build_ingestion_assets(settings), resources={"dlt_resource": dlt_resource()},
                         instance=DagsterInstance.ephemeral(),
                         run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
    if not result.success:
        raise SystemExit("ingestion failed")


def materialize_everything(report: Path | None = None) -> None:
    import json
    import time

    started = time.perf_counter()
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.materialize import materialize_all
    from orchestration.settings import Settings

    imported = time.perf_counter()
    settings = Settings.from_env()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with DagsterInstance.get() as instance:
        definitions = build_definitions(settings)
        defined = time.perf_counter()
        result, summary = materialize_all(definitions, instance, log_level="ERROR")
        ran = time.perf_counter()
        steps = {s.step_key: round(s.end_time - s.start_time, 2)
                 for s in instance.get_run_step_stats(result.run_id) if s.start_time and s.end_time}
    if report:
        # where the run's time goes: imports, definitions, the run, and each step in it
        report.write_text(json.dumps({"import": round(imported - started, 2), "definitions": round(defined - imported, 2),
                                      "run": round(ran - defined, 2), "steps": steps}) + "\n")
    if not summary.success or summary.checks_failed:
        raise SystemExit(f"materialization failed: steps {summary.failed_steps}, checks {summary.checks_failed}")


def publish(warehouse: Path, published: Path) -> None:
    from orchestration.publish.analyst_copy import publish as publish_marts

    publish_marts(warehouse, published, run_id="bench")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="stage", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--scale", type=float, required=True)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--truth", type=Path, required=True)
    sub.add_parser("ingest")
    m = sub.add_parser("materialize")
    m.add_argument("--json", type=Path, help="where the time of the run went")
    p = sub.add_parser("publish")
    p.add_argument("--warehouse", type=Path, required=True)
    p.add_argument("--published", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.stage == "generate":
        generate(args.scale, args.out, args.truth, args.seed)
    elif args.stage == "ingest":
        ingest()
    elif args.stage == "materialize":
        materialize_everything(args.json)
    else:
        publish(args.warehouse, args.published)


if __name__ == "__main__":
    sys.exit(main())
