"""One blocking Dagster asset check per expectation suite, on the asset it guards."""


import json
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.settings import Settings


def suite_files(expectations_dir: Path) -> list[Path]:
    return sorted((expectations_dir / "gx" / "expectations").glob("*.json"))


def _suite_check(settings: Settings, suite_file: Path) -> AssetChecksDefinition:
    # Read the suite's JSON, not GX: importing GX costs seconds the code location must not pay.
    suite = json.loads(suite_file.read_text())
    name = suite["name"]
    schema, table = suite["meta"]["guards"].split(".", 1)
    descriptions = [e.get("description") or e["type"] for e in suite["expectations"]]

    @asset_check(
        asset=AssetKey([schema, table]),
        name=f"gx_{name}",
        blocking=True,
        description=(
            f"Great Expectations suite `{name}` ({suite['meta'].get('definition', '')}), "
            "run as SQL in the warehouse: " + "; ".join(descriptions)
        ),
        metadata={"suite_file": MetadataValue.path(str(suite_file.relative_to(settings.dbt_project_dir)))},
        pool="duckdb_writers",
    )
    def _check(context: AssetCheckExecutionContext) -> AssetCheckResult:
        from orchestration.checks.suites import run_suite

        outcome = run_suite(name, settings.warehouse_path, settings.expectations_dir)
        for failure in outcome.failed:
            context.log.error(f"{outcome.relation}: expectation failed: {json.dumps(failure, default=str)}")
        return AssetCheckResult(
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "expectations_evaluated": outcome.evaluated,
                "expectations_failed": len(outcome.failed),
                "failures": MetadataValue.json(outcome.failed),
                "parameters_from_seeds": MetadataValue.json(outcome.parameters),
            },
        )

    return _check


def build_suite_checks(settings: Settings) -> list[AssetChecksDefinition]:
    return [_suite_check(settings, path) for path in suite_files(settings.expectations_dir)]
