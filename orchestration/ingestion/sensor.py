"""A sensor that notices new or changed landing files and asks for a run of just the
assets they affect: the raw tables the files feed and what is built from those tables
(staging, intermediate, marts, the audit on them, the publish), nothing else. The ledger
still decides what loads: the sensor only wakes Dagster."""

import hashlib
import json

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.ingestion.assets import raw_asset_key
from orchestration.ingestion.tables import tables_by_system
from orchestration.settings import Settings


def landing_snapshot(settings: Settings) -> dict[str, list[int]]:
    """relative path -> [size, mtime, ctime in ns] of every landing file of a known table
    (ctime: a rewrite that keeps size and puts mtime back still moves it)."""
    snapshot: dict[str, list[int]] = {}
    for system, tables in tables_by_system().items():
        for table in tables:
            folder = settings.landing_dir / system / table.table
            if not folder.is_dir():
                continue
            for path in folder.glob(f"*.{table.ext}"):
                stat = path.stat()
                snapshot[f"{system}/{table.table}/{path.name}"] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    return snapshot


def affected_assets(raw_keys: list[AssetKey], asset_graph) -> list[AssetKey]:
    """The raw assets that received files and everything downstream of them.

    A multi-asset that cannot run a subset of its outputs (the publish step writes every
    mart into one file) is selected whole once any of its outputs is affected."""
    keys = _affected(raw_keys).resolve(asset_graph)
    return sorted(keys, key=lambda k: k.to_user_string())


def _affected(raw_keys: list[AssetKey]) -> AssetSelection:
    return AssetSelection.assets(*raw_keys).downstream().required_multi_asset_neighbors()


def _all_raw_keys() -> list[AssetKey]:
    return [raw_asset_key(t.system, t.table) for ts in tables_by_system().values() for t in ts]


def build_landing_sensor(settings: Settings, job_name: str | None = None) -> SensorDefinition:
    @sensor(
        name="landing_zone_sensor",
        description=(
            "Watches the landing zone (<landing>/<system>/<table>/<day>.<ext>) and requests a "
            "run of only the assets they affect: the raw tables whose folders received new or changed "
            "files, and what is built from them (dbt models, their checks, the publish)."
        ),
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        # within a job (the daily one), its runs get the job's retry policy and tags
        **({"job_name": job_name} if job_name else {"asset_selection": _affected(_all_raw_keys())}),
    )
    def landing_zone_sensor(context: SensorEvaluationContext):
        seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
        now = landing_snapshot(settings)
        arrived = sorted(path for path, stamp in now.items() if seen.get(path) != stamp)
        if not arrived:
            return SkipReason(f"no new landing files ({len(now)} known)")
        raw_keys = sorted({raw_asset_key(*path.split("/")[:2]) for path in arrived}, key=lambda k: k.to_user_string())
        keys = affected_assets(raw_keys, context.repository_def.asset_graph) if context.repository_def else raw_keys
        run_key = hashlib.sha256(json.dumps({p: now[p] for p in arrived}).encode()).hexdigest()[:16]
        context.update_cursor(json.dumps(now))
        return RunRequest(
            run_key=run_key,
            asset_selection=keys,
            tags={
                "revenue_cycle/trigger": "landing_zone_sensor",
                "revenue_cycle/files": str(len(arrived)),
                "revenue_cycle/raw_tables": str(len(raw_keys)),
            },
        )

    return landing_zone_sensor
