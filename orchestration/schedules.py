"""When the warehouse runs and how fresh it must be: jobs, schedules, freshness, retries.

- `daily_refresh` (schedule `daily_refresh_schedule`, Monday to Saturday): every asset and
  check. Ingestion loads only the landing files its ledger has not seen, dbt builds (the
  incremental models take only the new rows), the audit runs, the publish swaps the copy.
- `weekly_full_refresh` (schedule `weekly_full_refresh_schedule`, Sunday, in place of the
  daily run): the same job with `dbt build --full-refresh`, so incremental models are
  rebuilt from the raw layer once a week and cannot drift from it.
- The landing-zone sensor (orchestration/ingestion/sensor.py) starts a run of only the raw
  assets that received files and what is downstream of them, between scheduled runs.

Schedules and the sensor start STOPPED: `dagster dev` with a fresh DAGSTER_HOME never
starts loading data by itself; an operator turns them on in the UI (Automation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    Backoff,
    DefaultScheduleStatus,
    FreshnessPolicy,
    Jitter,
    RetryPolicy,
    ScheduleDefinition,
    define_asset_job,
    map_asset_specs,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

TRIGGER_TAG = "revenue_cycle/trigger"
JOB_TAG = "revenue_cycle/job"

DBT_OP_NAME = "dbt_revenue_cycle"  # the @dbt_assets op (orchestration/dbt/assets.py)

# UTC, like every timestamp in the warehouse. The sources export overnight; the daily run
# starts at 05:00 and the marts must be rebuilt by 08:00 (MART_FRESHNESS below).
DAILY_CRON = "0 5 * * 1-6"
WEEKLY_CRON = "0 5 * * 0"
TIMEZONE = "UTC"

# Transient failures (another process holding the DuckDB file, a network share hiccup)
# clear by themselves: retry twice, waiting 10 s then 20 s (+-jitter so two retried runs do
# not collide again). Deterministic failures (a dbt test, an unmapped stage value) are
# raised as non-retryable by the steps themselves.
RETRY_POLICY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)

# Raw tables receive one export per source and day: older than a day and a bit is late,
# older than two missed exports is a failure to chase with the source's owner.
RAW_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=50), warn_window=timedelta(hours=26))
# The marts are what analysts read each morning: rebuilt between 05:00 and 08:00 UTC daily.
MART_FRESHNESS = FreshnessPolicy.cron(deadline_cron="0 8 * * *", lower_bound_delta=timedelta(hours=3), timezone=TIMEZONE)


def freshness_policy_for(key: AssetKey) -> FreshnessPolicy | None:
    layer = key.path[0]
    if layer == "raw":
        return RAW_FRESHNESS
    if layer == "marts":
        return MART_FRESHNESS
    return None


def with_freshness_policies(assets: Iterable[AssetsDefinition]) -> list[AssetsDefinition]:
    """The same assets with the freshness policy of their layer (raw, marts) on each spec."""

    def apply(spec: AssetSpec) -> AssetSpec:
        policy = freshness_policy_for(spec.key)
        return spec if policy is None else spec.replace_attributes(freshness_policy=policy)

    return list(map_asset_specs(apply, list(assets)))


def _job(name: str, description: str, config: dict | None = None) -> UnresolvedAssetJobDefinition:
    return define_asset_job(
        name=name,
        # every asset, and with them every check on them (GX suites, dbt tests, row accounting)
        selection=AssetSelection.all(),
        description=description,
        config=config,
        tags={JOB_TAG: name},
        # the default for steps that set none (ingestion, checks); dbt sets its own
        op_retry_policy=RETRY_POLICY,
    )


daily_refresh_job = _job(
    "daily_refresh",
    "Ingest the landing files not loaded yet, dbt build (incremental models take only new rows), "
    "audit, publish.",
)

weekly_full_refresh_job = _job(
    "weekly_full_refresh",
    "Ingest new landing files, then `dbt build --full-refresh`: incremental models rebuilt from raw; "
    "audit, publish.",
    config={"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}},
)

daily_refresh_schedule = ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule=DAILY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    tags={TRIGGER_TAG: "daily"},
    description="Every morning except Sunday: new landing files in, what changed rebuilt, audited, published.",
)

weekly_full_refresh_schedule = ScheduleDefinition(
    name="weekly_full_refresh_schedule",
    job=weekly_full_refresh_job,
    cron_schedule=WEEKLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    tags={TRIGGER_TAG: "weekly_full_refresh"},
    description="Sunday morning, instead of the daily run: the same run with dbt --full-refresh.",
)

JOBS: Sequence[UnresolvedAssetJobDefinition] = (daily_refresh_job, weekly_full_refresh_job)
SCHEDULES: Sequence[ScheduleDefinition] = (daily_refresh_schedule, weekly_full_refresh_schedule)
