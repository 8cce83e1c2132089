"""`make bench-targets`: the whole pipeline timed on each warehouse target, and the marts compared.

    python -m bench.targets --scale S --targets duckdb,postgres,spark[,spark_thrift] [--landing DIR]

For each target, in its own process, what `make demo TARGET=<target>` does on the same landing
folder (`python -m orchestration.demo`: dbt's manifest, then one Dagster run of ingestion, dbt
build, the GX suites and publish) into a fresh warehouse and Dagster instance: wall time, CPU
time and peak memory of the process tree, with the server the target needs counted in (a
throwaway PostgreSQL, a standalone Spark cluster), and whether it succeeded. Each Dagster
step's time comes from the run's own instance. Then every table of the schemas marts and
governance is read on each target and compared: rows and a checksum of its canonical rows
(orchestration/warehouse_compare.py), and whether all targets agree.

Without `--landing` the company is generated at `--scale` (the demo's mess); the landing
folder is only read. Figures go to .bench/targets.json and the section "Per warehouse
target" of bench/README.md. The machine is shared: the load average is kept beside each run.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench import ingest, report
from bench.measure import _children, _reap_exited, run_measured
from bench.pipeline import PY, REPO, _dagster_home, _env

TARGETS = ("duckdb", "postgres", "spark", "spark_thrift")
SCHEMAS = ("marts", "governance")
# what `make demo` runs after generating: the manifest, then one Dagster run of everything
DEMO = [PY, "-m", "orchestration.demo"]
MARKERS = ("<!-- bench:targets (written by bench/targets.py) -->", "<!-- /bench:targets -->")
HEADING = "Per warehouse target (`make bench-targets`, issue 10)"


class Unavailable(RuntimeError):
    """The target cannot run on this machine or on this version of the project."""


def _log(message: str) -> None:
    print(f"[bench-targets {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _adopt_orphans() -> None:
    # a server started for a run daemonizes (pg_ctl, Spark's launcher): as a subreaper this
    # process stays its ancestor, so its memory and CPU can be found from here
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _live_children() -> set[int]:
    _reap_exited()
    return set(_children(os.getpid()))


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class _LoadSampler:
    """The 1-minute load average every few seconds while a run goes on."""

    def __init__(self, every: float = 5.0):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)

    def _sample(self, every: float) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(every):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict:
        s = self.samples or [os.getloadavg()[0]]
        return {"start": round(s[0], 2), "end": round(s[-1], 2), "mean": round(sum(s) / len(s), 2), "max": round(max(s), 2)}


@contextmanager
def _patched_environment(env: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _settings(env: dict):
    from orchestration.settings import Settings

    with _patched_environment(env):
        return Settings.from_env()


@contextmanager
def _server(target: str, env: dict):
    """The server a target's run needs, started here so that it outlives the run and the marts
    can be read after it: the libpq / Thrift variables to add to the run's environment."""
    if target == "postgres":
        if "PGHOST" in os.environ:  # a server of one's own: its time is not the run's to count
            yield {}
            return
        from orchestration.throwaway_postgres import throwaway_postgres

        with throwaway_postgres() as variables:
            yield variables
    elif target == "spark_thrift":
        try:
            from orchestration.spark.cluster import ClusterPorts, standalone_cluster
        except ImportError as error:
            raise Unavailable(f"no standalone cluster on this version of the project ({error})") from error
        # free ports of its own: a cluster of a test or another run may hold Spark's defaults
        master, master_webui, thrift = _free_port(), _free_port(), _free_port()
        ports = ClusterPorts(master=master, master_webui=master_webui, worker_webui=_free_port(2), thrift=thrift)
        env["SPARK_THRIFT_PORT"] = str(thrift)
        with _patched_environment(env):  # the cluster's processes inherit the run's Spark settings
            settings = _settings(env)
            settings.export_to_environment()
            cluster = standalone_cluster(settings, workers=2, ports=ports)
            host, port = cluster.__enter__()
        try:
            yield {"SPARK_THRIFT_HOST": str(host), "SPARK_THRIFT_PORT": str(port)}
        finally:
            cluster.__exit__(*sys.exc_info())
    else:
        yield {}


def _free_port(consecutive: int = 1) -> int:
    """A loopback port free now (and the `consecutive - 1` after it)."""
    import socket

    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            for other in range(port + 1, port + consecutive):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", other))
            return port
        except OSError:
            continue


def _run_seconds(home: Path) -> tuple[float | None, dict]:
    """The newest run of the instance at `home`: its own duration (the demo's process also
    parses dbt and prints a summary) and each finished step's time."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(limit=1)
        if not records:
            return None, {}
        record = records[0]
        steps = {s.step_key: round(s.end_time - s.start_time, 2)
                 for s in instance.get_run_step_stats(record.dagster_run.run_id) if s.start_time and s.end_time}
        whole = round(record.end_time - record.start_time, 2) if record.start_time and record.end_time else None
        return whole, steps


def _stage_seconds(steps: dict) -> dict:
    """The steps summed by stage: ingestion, dbt, GX suites, publish, the rest."""
    stages: dict[str, float] = {}
    for key, seconds in steps.items():
        stage = ("ingestion" if key.startswith("ingest") else "dbt" if key.startswith("dbt") else
                 "gx" if key.startswith("great_expectations") or key.startswith("gx") else
                 "publish" if key.startswith("publish") else "other")
        stages[stage] = round(stages.get(stage, 0.0) + seconds, 2)
    return stages


def read_checksums(env: dict) -> dict[str, dict[str, tuple[int, str]]]:
    """Rows and checksum of every table of SCHEMAS on the warehouse the environment names."""
    from orchestration import warehouse
    from orchestration.warehouse_compare import checksums

    with _patched_environment(env):
        settings = _settings(env)
        if settings.is_spark and not hasattr(warehouse, "spark_connection"):
            # read_connection would open the DuckDB file of the raw layer instead
            raise Unavailable("no connection to Spark in orchestration/warehouse.py on this version of the project")
        settings.export_to_environment()
        with warehouse.read_connection(settings) as con:
            return {schema: checksums(con, schema) for schema in SCHEMAS}


def run_target(target: str, landing: Path, truth: Path, work: Path, logs: Path) -> dict:
    folder = work / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = _env(WAREHOUSE_TARGET=target, WAREHOUSE_DIR=folder / "warehouse", LANDING_DIR=landing, TRUTH_DIR=truth,
               DAGSTER_HOME=_dagster_home(folder / "dagster_home"), DBT_PROFILES_DIR=REPO,
               # its own manifest and dbt run folders: not the project's target/ that a test
               # session or `make ui` may be reading meanwhile
               DBT_TARGET_PATH=folder / "dbt_target")
    out: dict = {"target": target, "log": str(logs / f"{target}.log"), "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    before = _live_children()
    try:
        with _server(target, env) as variables:
            env.update(variables)
            # whatever this process started for the run (a server and its workers)
            companions = tuple(sorted(_live_children() - before))
            out["servers"] = [_name(pid) for pid in companions]
            _log(f"{target}: the whole Dagster materialization (counted in: {', '.join(out['servers']) or 'no server'})")
            with _LoadSampler() as load:
                m = run_measured(DEMO, env=env, cwd=REPO, check=False,
                                 companions=companions, log=logs / f"{target}.log")
            out.update({"success": m.returncode == 0, "seconds": round(m.seconds, 2), "cpu_seconds": round(m.cpu_seconds, 2),
                        "peak_rss_mb": round(m.peak_rss_bytes / 2**20), "load_average": load.figures()})
            try:
                out["run_seconds"], out["steps_seconds"] = _run_seconds(folder / "dagster_home")
                out["stages_seconds"] = _stage_seconds(out["steps_seconds"])
            except Exception as error:  # noqa: BLE001 - a run that never started has no steps
                out["steps_error"] = repr(error)
            _log(f"{target}: {'success' if out['success'] else 'FAILED'} in {m.seconds:.1f} s, "
                 f"{m.cpu_seconds:.1f} CPU-s, peak {out['peak_rss_mb']:,} MB, load {out['load_average']}")
            if not out["success"]:
                lines = (logs / f"{target}.log").read_text().splitlines()
                out["tail"] = lines[-25:]
                # the demo's summary names each failed check and step
                out["failures"] = [line.strip() for line in lines
                                   if line.startswith(("    FAILED ", "    failed step: "))]
                # a run that stopped before Dagster's summary: its first error
                out["failures"] = out["failures"] or [line.strip() for line in lines if "rror" in line][:1]
            started = time.perf_counter()
            try:
                out["checksums"] = read_checksums(env)
                out["read_seconds"] = round(time.perf_counter() - started, 1)
            except Exception as error:  # noqa: BLE001 - reported beside the figures, not fatal
                out["read_error"] = repr(error)
                _log(f"{target}: reading the marts failed: {error!r}")
    except Unavailable as error:
        out.update({"success": False, "unavailable": str(error)})
        _log(f"{target}: not run: {error}")
    # a process the run left behind would be counted as the next target's server
    if left := _live_children() - before:
        out["left_running"] = [f"{pid} {_name(pid)}" for pid in sorted(left)]
        _log(f"{target}: left running after the run: {out['left_running']}")
    return out


def compare(results: list[dict]) -> list[dict]:
    """Per table of SCHEMAS: rows and checksum on each target that was read, and whether they agree."""
    read = [r for r in results if "checksums" in r]
    names = sorted({(s, t) for r in read for s in SCHEMAS for t in r["checksums"].get(s, {})})
    rows = []
    for schema, table in names:
        per_target = {r["target"]: r["checksums"].get(schema, {}).get(table) for r in read}
        seen = {tuple(v) if v else None for v in per_target.values()}
        rows.append({"table": f"{schema}.{table}", "targets": {t: list(v) if v else None for t, v in per_target.items()},
                     "agree": len(seen) == 1 and None not in seen})
    return rows


def _n(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']['cores']} cores, {results['machine']['memory_gib']} GiB, Python "
             f"{results['machine']['python']}. Command: `{results['command']}`; one run per target, each "
             "`python -m orchestration.demo` in its own process on the same landing folder, fresh warehouse and "
             "Dagster instance; CPU time (user + system) and peak memory (RSS summed, sampled) of the whole process "
             "tree, the target's server included (RSS counts PostgreSQL's shared buffers once per process).", "",
             f"Scale {results['scale']:g}: {_n(results.get('touch_events'))} touch events, "
             f"{_n(results['landing_rows'])} landing rows.", "",
             "| target | result | wall s | CPU s | peak MB | Dagster run s | ingestion s | dbt s | GX s | publish s | load avg 1 min (start / mean / max / end) | run at (UTC) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results["targets"]:
        if "unavailable" in r:
            lines.append(f"| {r['target']} | not run: {r['unavailable']} |  |  |  |  |  |  |  |  |  | {r['started_utc']} |")
            continue
        s, load = r.get("stages_seconds", {}), r["load_average"]
        lines.append(f"| {r['target']} | {'success' if r['success'] else '**failed**'} | {_n(r['seconds'])} | "
                     f"{_n(r['cpu_seconds'])} | {_n(r['peak_rss_mb'])} | {_n(r.get('run_seconds'))} | {_n(s.get('ingestion'))} | {_n(s.get('dbt'))} | "
                     f"{_n(s.get('gx'))} | {_n(s.get('publish'))} | {load['start']} / {load['mean']} / {load['max']} / {load['end']} | {r['started_utc']} |")
    read = [r["target"] for r in results["targets"] if "checksums" in r]
    agree = sum(row["agree"] for row in results["comparison"])
    lines += ["", f"Every table of {', '.join(SCHEMAS)}: rows and checksum (orchestration/warehouse_compare.py) per target; "
              f"{agree} of {len(results['comparison'])} agree on all of {', '.join(read) or 'none'}.", "",
              "| table | rows | " + " | ".join(read) + " | same |", "|---|---:|" + "---|" * len(read) + "---|"]
    for row in results["comparison"]:
        counts = {tuple(v)[0] for v in row["targets"].values() if v}
        cells = [v[1] if v else "missing" for v in row["targets"].values()]
        lines.append(f"| {row['table']} | {' / '.join(_n(c) for c in sorted(counts))} | " + " | ".join(cells)
                     + f" | {'yes' if row['agree'] else '**no**'} |")
    for r in results["targets"]:
        if r.get("read_error"):
            lines.append(f"\n- {r['target']}: marts not read: {r['read_error']}")
        if not r.get("success") and r.get("tail"):
            named = "; ".join(r.get("failures", [])) or f"the run's last line: `{r['tail'][-1]}`"
            lines.append(f"\n- {r['target']} failed: {named} (whole log: {r['log']})")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.1, help="generator scale (110 is about 10M touch events)")
    parser.add_argument("--targets", default="duckdb,postgres,spark", help=f"comma-separated, of {','.join(TARGETS)}")
    parser.add_argument("--landing", type=Path, help="a landing folder to read instead of generating one")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=REPO / ".bench", help="scratch folders and targets.json")
    parser.add_argument("--readme", type=Path, default=REPO / "bench" / "README.md")
    parser.add_argument("--keep", action="store_true", help="keep each target's warehouse (and the generated company)")
    parser.add_argument("--add", action="store_true",
                        help="keep the other targets of the last targets.json when it measured the same landing rows")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets {sorted(unknown)}")
    _adopt_orphans()
    work = args.root / f"targets-{args.scale:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if args.landing:
        landing = args.landing.resolve()
        truth = landing.parent / "truth"
    else:
        landing, truth = work / "landing", work / "truth"
        run_measured([PY, "-m", "bench.stages", "generate", "--scale", str(args.scale), "--seed", str(args.seed),
                      "--out", str(landing), "--truth", str(truth)], cwd=REPO)
    manifest = truth / "manifest.json"
    results = {
        "machine": report.machine(),
        "command": "python -m bench.targets " + " ".join(argv if argv is not None else sys.argv[1:]),
        "scale": args.scale,
        "touch_events": json.loads(manifest.read_text())["touch_events"] if manifest.exists() else None,
        "landing_rows": ingest.rows_in(landing),
        "targets": [],
    }
    logs = args.root / "targets-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for target in targets:
        results["targets"].append(run_target(target, landing, truth if truth.exists() else work / "truth", work, logs))
        if not args.keep:
            shutil.rmtree(work / target, ignore_errors=True)
    saved = args.root / "targets.json"
    if args.add and saved.exists():
        earlier = json.loads(saved.read_text())
        if earlier["landing_rows"] == results["landing_rows"]:
            ran = set(targets)
            results["targets"] = [r for r in earlier["targets"] if r["target"] not in ran] + results["targets"]
            results["command"] += f" (other targets from: {earlier['command']})"
    results["comparison"] = compare(results["targets"])
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    args.root.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    report.keep_in_readme(args.readme, table, MARKERS, HEADING)
    print(table)
    return results


if __name__ == "__main__":
    main()
