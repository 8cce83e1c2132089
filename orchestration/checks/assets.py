"""The expectation suites as blocking Dagster asset checks, each on the asset it guards.

All suites run in one step (one `@multi_asset_check`): they share one GX context and one
warehouse connection, which on DuckDB costs seconds less than a context per suite. Each
suite is still its own check in the UI, on its own asset, and a subset can be run alone.
Every check is blocking: a failed audit stops what is downstream, above all the publish
of the marts to the analysts' copy (orchestration/publish.py).
"""

import json
from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetChecksDefinition,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from orchestration.checks.suites import SuiteFile, suite_files
from orchestration.ingestion.assets import WAREHOUSE_WRITERS_POOL
from orchestration.settings import Settings
from orchestration.warehouse_lock import warehouse_lock


def check_name(suite: SuiteFile) -> str:
    return f"gx_{suite.name}"


def check_key(suite: SuiteFile) -> AssetCheckKey:
    return AssetCheckKey(AssetKey(list(suite.asset_key)), check_name(suite))


def suite_check_keys(settings: Settings) -> list[AssetCheckKey]:
    return [check_key(s) for s in suite_files(settings.expectations_dir)]


def _spec(settings: Settings, suite: SuiteFile) -> AssetCheckSpec:
    return AssetCheckSpec(
        name=check_name(suite),
        asset=AssetKey(list(suite.asset_key)),
        blocking=True,
        description=(
            f"Great Expectations suite `{suite.name}`, the agreed definition of {suite.definition}; "
            "run as SQL in the warehouse. Expectations: " + "; ".join(suite.expectations)
        ),
        metadata={
            "suite_file": MetadataValue.path(str(suite.path.relative_to(settings.dbt_project_dir))),
            "guards": suite.relation,
            "expectations": len(suite.expectations),
        },
    )


# the step (op) that validates every suite
SUITES_STEP = "great_expectations_suites"


def build_suite_checks(settings: Settings) -> list[AssetChecksDefinition]:
    # Read the suites' JSON, not GX: importing GX costs seconds the code location must not pay.
    suites = {check_key(s): s for s in suite_files(settings.expectations_dir)}
    if not suites:
        return []

    @multi_asset_check(
        name=SUITES_STEP,
        specs=[_spec(settings, s) for s in suites.values()],
        can_subset=True,
        description="Every Great Expectations suite of expectations/, validated as SQL in the warehouse.",
        pool=WAREHOUSE_WRITERS_POOL,
    )
    def _checks(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        from orchestration.checks.suites import run_suites

        selected = [suites[key] for key in suites if key in context.selected_asset_check_keys]
        docs_dir = settings.warehouse_dir / "data_docs"
        # a reader, but DuckDB refuses it while another process writes: wait for the writer
        with warehouse_lock(settings.warehouse_path):
            outcomes = run_suites(
                [s.name for s in selected],
                settings,
                settings.expectations_dir,
                settings.dbt_project_dir,
                docs_dir=docs_dir,
            )
        for suite, outcome in zip(selected, outcomes):
            for failure in outcome.failed:
                context.log.error(
                    f"{outcome.relation}: suite {outcome.suite}: expectation failed: "
                    f"{json.dumps(failure, default=str)}"
                )
            yield AssetCheckResult(
                asset_key=AssetKey(list(suite.asset_key)),
                check_name=check_name(suite),
                passed=outcome.success,
                severity=AssetCheckSeverity.ERROR,
                description=(
                    f"{outcome.evaluated - len(outcome.failed)} of {outcome.evaluated} expectations met"
                    + ("" if outcome.success else ": failed " + "; ".join(f["expectation"] for f in outcome.failed))
                ),
                metadata={
                    "success": outcome.success,
                    "expectations_evaluated": outcome.evaluated,
                    "expectations_failed": len(outcome.failed),
                    "failed_expectations": MetadataValue.json([f["expectation"] for f in outcome.failed]),
                    "failures": MetadataValue.json(json.loads(json.dumps(outcome.failed, default=str))),
                    "parameters_from_definitions": MetadataValue.json(outcome.parameters),
                    "seconds": round(outcome.seconds, 3),
                    "data_docs": MetadataValue.url(f"file://{outcome.data_docs}")
                    if outcome.data_docs
                    else MetadataValue.text("not built"),
                },
            )

    return [_checks]
