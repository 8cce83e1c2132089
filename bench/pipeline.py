"""`make bench`: every stage of the pipeline against the same work done directly in DuckDB.

    python -m bench.pipeline [--scales 1.1,11,110] [--runs 3] [--quick] [--stages a,b]

For each scale (scale 1.0 is about 100k touch events, 110 about 10M) it generates the
company, then measures each stage in its own process, `--runs` times, pipeline and
DuckDB-only run one after the other so that both meet the same machine; figures are
medians, peak memory is the whole process tree's (bench/measure.py):

    generation     the generator (no DuckDB-only side)
    ingestion      Dagster's ingestion assets / DuckDB's readers (bench/ingest.py)
    dbt            the dbt asset's `dbt build` (no unit tests: orchestration/dbt/assets.py)
                   on a fresh copy of the ingested warehouse / the SQL it ran, in
                   dependency order, in one DuckDB process (bench/dbt_limit.py)
    checks         every GX suite / the same expectations hand-written (bench/checks.py)
    publish        the analysts' copy (publish()) / the same tables copied in plain SQL
    definitions    `python -c "import orchestration.definitions"` after one unmeasured load
                   (no DuckDB-only side)
    whole          one Dagster run of every asset and check on a fresh warehouse / the
                   DuckDB-only run of all of it in one process (bench/limit.py)
    daily          after one more day of files, the same Dagster run on the warehouse the
                   whole run left / against the whole DuckDB-only run (a rebuild)

Writes .bench/latest.json and the latest figures into bench/README.md (bench/report.py).
`--quick` is `--scales 0.3 --runs 1`, a smoke test of every stage in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench import checks, ingest, report
from bench.measure import Measurement, median_of, run_measured
from orchestration.dbt.resource import environment_dbt

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
DBT = str(environment_dbt())
STAGES = ("generation", "ingestion", "dbt", "checks", "publish", "definitions", "whole", "daily")


def _env(**paths: Path | str) -> dict:
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    for name in ("WAREHOUSE_PATH", "PUBLISHED_PATH"):
        env.pop(name, None)
    env.update({name: str(value) for name, value in paths.items()})
    return env


def _dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", path / "dagster.yaml")
    return path


def _stage(pipeline: list[Measurement], limit: list[Measurement] | None, rows: int | None, **extra) -> dict:
    p = median_of(pipeline)
    figures = {
        "seconds": round(p.seconds, 2),
        "peak_rss_mb": round(p.peak_rss_bytes / 2**20),
        "cpu_seconds": round(p.cpu_seconds, 2),
        "rows": rows,
        "rows_per_second": round(rows / p.seconds) if rows and p.seconds else None,
        "runs_seconds": [round(m.seconds, 2) for m in pipeline],
    }
    if limit:
        d = median_of(limit)
        figures.update({
            "duckdb_only_seconds": round(d.seconds, 2),
            "duckdb_only_peak_rss_mb": round(d.peak_rss_bytes / 2**20),
            "duckdb_only_cpu_seconds": round(d.cpu_seconds, 2),
            "ratio": round(p.seconds / d.seconds, 2),
            "cpu_ratio": round(p.cpu_seconds / d.cpu_seconds, 2) if d.cpu_seconds else None,
            "memory_ratio": round(p.peak_rss_bytes / max(d.peak_rss_bytes, 1), 2),
            "duckdb_only_runs_seconds": [round(m.seconds, 2) for m in limit],
        })
    figures.update(extra)
    return figures


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _relation_rows(warehouse: Path, relations: list[str]) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(con.execute(f"select count(*) from {r}").fetchall()[0][0] for r in relations)


def bench_scale(scale: float, runs: int, root: Path, stages: tuple[str, ...], seed: int = 42) -> dict:
    company = root / f"scale-{scale:g}"
    landing, truth, work = company / "landing", company / "truth", company / "work"
    shutil.rmtree(company, ignore_errors=True)
    work.mkdir(parents=True)
    out: dict = {"scale": scale, "stages": {}}
    figures = out["stages"]

    def wanted(*names: str) -> bool:
        return any(n in stages for n in names)

    # generation: always, every other stage reads the company it writes
    generation = []
    for i in range(runs if wanted("generation") else 1):
        shutil.rmtree(landing, ignore_errors=True)
        shutil.rmtree(truth, ignore_errors=True)
        generation.append(run_measured([PY, "-m", "bench.stages", "generate", "--scale", str(scale), "--seed", str(seed),
                                        "--out", str(landing), "--truth", str(truth)], cwd=REPO))
        _log(f"scale {scale:g} generation run {i + 1}: {generation[-1].seconds:.1f} s")
    manifest = json.loads((truth / "manifest.json").read_text())
    out["touch_events"] = manifest["touch_events"]
    out["landing_rows"] = rows = ingest.rows_in(landing)
    if wanted("generation"):
        figures["generation"] = _stage(generation, None, rows)

    if wanted("ingestion"):
        f = ingest.main(["--landing", str(landing), "--runs", str(runs)])
        figures["ingestion"] = {
            "seconds": f["pipeline_seconds"], "peak_rss_mb": f["pipeline_peak_rss_mb"], "rows": f["rows"],
            "rows_per_second": f["pipeline_rows_per_second"], "duckdb_only_seconds": f["duckdb_only_seconds"],
            "duckdb_only_peak_rss_mb": f["duckdb_only_peak_rss_mb"], "ratio": f["time_ratio"],
            "memory_ratio": f["memory_ratio"],
        }
        _log(f"scale {scale:g} ingestion: {f['pipeline_seconds']} s against {f['duckdb_only_seconds']} s")

    if wanted("definitions"):
        home = _dagster_home(work / "definitions_home")
        env = _env(WAREHOUSE_DIR=work / "definitions", DAGSTER_HOME=home, LANDING_DIR=landing)
        command = [PY, "-c", "import orchestration.definitions"]
        # one load first, not measured: right after the generator has written gigabytes the
        # packages' files may have left the page cache (a first load measured 4.7-9.4 s, the
        # next ones 2.4-2.9 s); what is measured is a load where the code location ran before,
        # as for every run worker and code-server restart of a deployment
        run_measured(command, env=env, cwd=REPO)
        imports = [run_measured(command, env=env, cwd=REPO) for _ in range(runs)]
        figures["definitions"] = _stage(imports, None, None)
        _log(f"definitions import: {figures['definitions']['seconds']} s")

    built = work / "built" / "warehouse.duckdb"
    target = work / "dbt_target"
    if wanted("dbt", "checks", "publish", "whole", "daily"):
        # the ingested, not yet built warehouse every dbt run starts from (not measured:
        # the ingestion stage measured it)
        raw = work / "raw"
        run_measured([PY, "-m", "bench.stages", "ingest"], env=_env(WAREHOUSE_DIR=raw, LANDING_DIR=landing), cwd=REPO)
        raw_rows = _relation_rows(raw / "warehouse.duckdb", _raw_relations(raw / "warehouse.duckdb"))
        # every build in the same folder, with the parse a deployment keeps between runs
        # (dbt reparses everything when the warehouse path in its profile changes)
        run = work / "dbt_run"
        parsed = _parse(run, work / "dbt_parse")
        # imported here: it loads Dagster and dagster-dbt, which the other stages do not need
        from orchestration.dbt.assets import DbtBuildConfig, dbt_build_args

        builds, limits = [], []
        for i in range(runs):
            (run / "target").mkdir(parents=True)
            shutil.copy(parsed, run / "target" / parsed.name)
            shutil.copy(raw / "warehouse.duckdb", run / "warehouse.duckdb")
            # the command the pipeline's dbt asset runs (unit tests run in `make test`, not in builds)
            builds.append(run_measured([DBT, *dbt_build_args(DbtBuildConfig()), "--project-dir", str(REPO), "--profiles-dir", str(REPO),
                                        "--target-path", str(run / "target"), "--log-path", str(run / "logs")],
                                       env=_env(WAREHOUSE_DIR=run), cwd=REPO))
            if i == 0:
                shutil.copytree(run / "target", target)
                (built.parent).mkdir()
                shutil.move(run / "warehouse.duckdb", built)
            shutil.rmtree(run)
            lim = work / f"dbt_limit{i}"
            lim.mkdir()
            shutil.copy(raw / "warehouse.duckdb", lim / "warehouse.duckdb")
            limits.append(run_measured([PY, "-m", "bench.dbt_limit", "--warehouse", str(lim / "warehouse.duckdb"),
                                        "--target", str(target), "--json", str(lim / "result.json")], cwd=REPO))
            if i == 0:
                same_rows = _compare_rows(built, lim / "warehouse.duckdb", target)
                limit_result = json.loads((lim / "result.json").read_text())
            shutil.rmtree(lim)
            _log(f"scale {scale:g} dbt run {i + 1}: build {builds[-1].seconds:.1f} s, its SQL {limits[-1].seconds:.1f} s")
        shutil.rmtree(raw)
        figures["dbt"] = _stage(builds, limits, raw_rows, statements=limit_result["statements"],
                                failing_tests_in_duckdb_only=len(limit_result["failing_tests"]),
                                relations_with_other_row_counts=same_rows)

    if wanted("checks"):
        f = checks.main(["--warehouse", str(built), "--runs", str(runs)])
        from orchestration.checks.suites import suite_files

        audited = _relation_rows(built, sorted({s.relation for s in suite_files(REPO / "expectations")}))
        figures["checks"] = {
            "seconds": f["gx_process_seconds"], "peak_rss_mb": f["gx_peak_rss_mb"], "rows": audited,
            "rows_per_second": round(audited / f["gx_process_seconds"]),
            "duckdb_only_seconds": f["sql_process_seconds"], "duckdb_only_peak_rss_mb": f["sql_peak_rss_mb"],
            "ratio": f["process_ratio"], "memory_ratio": round(f["gx_peak_rss_mb"] / max(f["sql_peak_rss_mb"], 1), 2),
            "validation_seconds": f["gx_validate_seconds"], "duckdb_only_validation_seconds": f["sql_validate_seconds"],
            "validation_ratio": f["validate_ratio"], "expectations": f["expectations"],
            "failed": f["gx_failed"], "duckdb_only_failed": f["sql_failed"],
        }
        _log(f"scale {scale:g} checks: GX {f['gx_process_seconds']} s against {f['sql_process_seconds']} s")

    if wanted("publish"):
        copies, plain = [], []
        for i in range(runs):
            copies.append(run_measured([PY, "-m", "bench.stages", "publish", "--warehouse", str(built),
                                        "--published", str(work / "published.duckdb")], cwd=REPO))
            plain.append(run_measured([PY, "-m", "bench.limit", "publish", "--warehouse", str(built), "--published",
                                       str(work / "plain.duckdb"), "--json", str(work / "plain.json")], cwd=REPO))
        published_rows = json.loads((work / "plain.json").read_text())["published_rows"]
        figures["publish"] = _stage(copies, plain, published_rows)
        _log(f"scale {scale:g} publish: {figures['publish']['seconds']} s against {figures['publish']['duckdb_only_seconds']} s")

    if wanted("whole", "daily"):
        wholes, limits = [], []
        last = work / "whole_last"
        # every run in the same folder, which the definitions' manifest was parsed for
        run = work / "warehouse"
        run_measured([PY, "-m", "orchestration.prepare"], env=_env(WAREHOUSE_DIR=run), cwd=REPO)
        for i in range(runs):
            env = _env(WAREHOUSE_DIR=run, LANDING_DIR=landing, TRUTH_DIR=truth, DAGSTER_HOME=_dagster_home(work / f"home{i}"))
            wholes.append(run_measured([PY, "-m", "bench.stages", "materialize", "--json", str(work / "whole.json")],
                                       env=env, cwd=REPO))
            whole_parts = json.loads((work / "whole.json").read_text())
            shutil.rmtree(last, ignore_errors=True)
            run.rename(last)  # the warehouse the daily run starts from
            shutil.rmtree(work / f"home{i}")
            lim = work / f"whole_limit{i}"
            lim.mkdir()
            limits.append(run_measured([PY, "-m", "bench.limit", "whole", "--landing", str(landing),
                                        "--warehouse", str(lim / "warehouse.duckdb"), "--target", str(target),
                                        "--published", str(lim / "published.duckdb"), "--json", str(lim / "result.json")],
                                       cwd=REPO))
            whole_limit = json.loads((lim / "result.json").read_text())
            shutil.rmtree(lim)
            _log(f"scale {scale:g} whole run {i + 1}: Dagster {wholes[-1].seconds:.1f} s, "
                 f"DuckDB only {limits[-1].seconds:.1f} s {whole_limit['seconds']}")
        figures["whole"] = _stage(wholes, limits, rows, parts_seconds=whole_parts,
                                  duckdb_only_parts_seconds=whole_limit["seconds"],
                                  duckdb_only_failed_checks=len(whole_limit["checks"]["failed"]),
                                  duckdb_only_failing_tests=len(whole_limit["dbt"]["failing_tests"]))

        if wanted("daily"):
            before = ingest.rows_in(landing)
            day = run_measured([PY, "-m", "orchestration.sources.generate", "--out", str(landing), "--truth", str(truth),
                                "--append-days", "1"], cwd=REPO)
            new_rows = ingest.rows_in(landing) - before
            dailies = []
            for i in range(runs):
                shutil.copytree(last, run)
                env = _env(WAREHOUSE_DIR=run, LANDING_DIR=landing, TRUTH_DIR=truth,
                           DAGSTER_HOME=_dagster_home(work / f"daily_home{i}"))
                dailies.append(run_measured([PY, "-m", "bench.stages", "materialize", "--json", str(work / "daily.json")],
                                            env=env, cwd=REPO))
                daily_parts = json.loads((work / "daily.json").read_text())
                shutil.rmtree(run)
                shutil.rmtree(work / f"daily_home{i}")
                _log(f"scale {scale:g} daily run {i + 1}: {dailies[-1].seconds:.1f} s")
            daily = _stage(dailies, limits, new_rows, parts_seconds=daily_parts, generation_seconds=round(day.seconds, 2))
            daily["share_of_whole"] = round(daily["seconds"] / figures["whole"]["seconds"], 3)
            figures["daily"] = daily
    shutil.rmtree(work, ignore_errors=True)
    return out


def _parse(warehouse_dir: Path, target: Path) -> Path:
    """dbt's partial-parse file for a profile whose warehouse is in `warehouse_dir`."""
    run_measured([DBT, "parse", "--project-dir", str(REPO), "--profiles-dir", str(REPO), "--target-path", str(target),
                  "--log-path", str(target / "logs")], env=_env(WAREHOUSE_DIR=warehouse_dir), cwd=REPO)
    return target / "partial_parse.msgpack"


def _raw_relations(warehouse: Path) -> list[str]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() "
                             "where schema_name like 'raw\\_%' escape '\\' and table_name not like '\\_%' escape '\\'").fetchall()
    return [f'"{s}"."{t}"' for s, t in tables]


def _compare_rows(dbt_warehouse: Path, limit_warehouse: Path, target: Path) -> list[str]:
    """Relations whose row counts differ between dbt's build and the DuckDB-only one."""
    from bench.dbt_limit import load, row_counts

    manifest = load(target)
    built, limit = row_counts(dbt_warehouse, manifest), row_counts(limit_warehouse, manifest)
    return sorted(uid for uid in built if built[uid] != limit.get(uid))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1.1,11,110", help="comma-separated generator scales")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="--scales 0.3 --runs 1")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"a subset of {','.join(STAGES)}")
    parser.add_argument("--root", type=Path, default=REPO / ".bench", help="companies, scratch and latest.json")
    parser.add_argument("--readme", type=Path, default=REPO / "bench" / "README.md",
                        help="where the latest figures are kept")
    parser.add_argument("--skip-prepare", action="store_true", help="the dbt manifest is prepared already")
    args = parser.parse_args(argv)
    if args.quick:
        args.scales, args.runs = "0.3", 1
    stages = tuple(s for s in args.stages.split(",") if s)
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}")
    args.root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if not args.skip_prepare:  # the dbt manifest the Dagster definitions read (make prepare)
        run_measured([PY, "-m", "orchestration.prepare"], env=_env(), cwd=REPO)
    # the whole runs parse it again for their warehouse folder; a newcomer's next run then
    # reparses once for the default folder
    results = {
        "machine": report.machine(),
        "command": "python -m bench.pipeline " + " ".join(argv if argv is not None else sys.argv[1:]),
        "runs": args.runs,
        "stages": list(stages),
        "scales": [bench_scale(float(s), args.runs, args.root, stages) for s in args.scales.split(",")],
    }
    results["targets"] = report.evaluate_targets(results)
    results["seconds"] = round(time.perf_counter() - started)
    (args.root / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    report.keep_in_readme(args.readme, table)
    print(table)
    return results


if __name__ == "__main__":
    main()
