"""Materialize every asset and check of the code location in one Dagster run."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster import DagsterInstance, Definitions, ExecuteInProcessResult, materialize

from orchestration.settings import Settings
from orchestration.warehouse_lock import warehouse_lock


@dataclass
class RunSummary:
    success: bool
    run_id: str
    checks_passed: list[str] = field(default_factory=list)
    checks_failed: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)


def materialize_all(
    defs: Definitions, instance: DagsterInstance, log_level: str = "INFO"
) -> tuple[ExecuteInProcessResult, RunSummary]:
    # Two runs started at once (two processes) would otherwise meet in the DuckDB file and
    # the second fail on its lock: the whole run waits for the warehouse instead. The
    # definitions exported their settings to the environment (build_definitions).
    with warehouse_lock(Settings.from_env().warehouse_path):
        result = materialize(
            assets=[*defs.assets, *(defs.asset_checks or [])],
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
            tags={"revenue_cycle/trigger": "materialize_all"},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
    evaluations = result.get_asset_check_evaluations()
    summary = RunSummary(
        success=result.success,
        run_id=result.run_id,
        checks_passed=sorted(e.asset_check_key.to_user_string() for e in evaluations if e.passed),
        checks_failed=sorted(e.asset_check_key.to_user_string() for e in evaluations if not e.passed),
        failed_steps=sorted(
            event.step_key for event in result.all_events if event.is_step_failure and event.step_key
        ),
    )
    return result, summary
