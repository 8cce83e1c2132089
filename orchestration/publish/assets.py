"""The publish step as Dagster assets: one `published/<mart>` asset per mart.

They sit downstream of the marts, so the blocking checks on the marts (and on what the
marts are built from) run first and a failure stops them. The step also verifies the audit
itself before it copies anything: every audit check must have passed after the latest
materialization of the asset it guards, so publishing alone (without the audit in the same
or an earlier run) refuses instead of handing analysts unaudited numbers.
"""

from collections.abc import Iterable, Iterator

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.ingestion.assets import WAREHOUSE_WRITERS_POOL
from orchestration.publish import schema_swap, spark_swap
from orchestration.publish.analyst_copy import Publication, PublishRefused, publish
from orchestration.settings import Settings

PUBLISHED_GROUP = "published"


def published_key(mart: AssetKey) -> AssetKey:
    return AssetKey([PUBLISHED_GROUP, mart.path[-1]])


def unaudited(context: AssetExecutionContext, audit_checks: Iterable[AssetCheckKey]) -> list[str]:
    """The audit checks that did not pass after the latest materialization of their asset."""
    instance = context.instance
    checks = list(audit_checks)
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(checks)
    problems = []
    for key in checks:
        record = latest.get(key)
        label = f"{'/'.join(key.asset_key.path)}:{key.name}"
        if record is None:
            problems.append(f"{label} never ran")
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        if record.status != AssetCheckExecutionRecordStatus.SUCCEEDED or not (evaluation and evaluation.passed):
            problems.append(f"{label} did not pass (run {record.run_id})")
            continue
        materialization = instance.get_latest_materialization_event(key.asset_key)
        if materialization is not None and materialization.timestamp > record.event.timestamp:
            problems.append(f"{label} has not run since {'/'.join(key.asset_key.path)} was last materialized")
    return problems


def publish_target(settings: Settings, run_id: str) -> Publication:
    """The analysts' copy of the target: a DuckDB file beside the warehouse, on Postgres the
    published_* schemas of the same database, on Spark the published_* views over a store of
    publications."""
    if settings.is_postgres:
        return schema_swap.publish(settings, run_id)
    if settings.is_spark:
        return spark_swap.publish(settings, run_id)
    return publish(settings.warehouse_path, settings.published_path, run_id)


def read_target_publication(settings: Settings) -> dict | None:
    from orchestration.publish.analyst_copy import read_publication

    if settings.is_postgres:
        return schema_swap.read_publication(settings)
    if settings.is_spark:
        return spark_swap.read_publication(settings)
    return read_publication(settings.published_path)


def published_where(settings: Settings) -> str:
    if settings.is_postgres:
        return "the schemas " + ", ".join(schema_swap.published_schema(s) for s in ("marts", "governance"))
    if settings.is_spark:
        return "the views of " + ", ".join(spark_swap.published_schema(s) for s in ("marts", "governance"))
    return f"{settings.published_path.name}, opened read-only"


def build_publish_assets(
    settings: Settings, marts: list[AssetKey], audit_checks: list[AssetCheckKey]
) -> AssetsDefinition:
    specs = [
        AssetSpec(
            published_key(mart),
            deps=[mart],
            group_name=PUBLISHED_GROUP,
            owners=["team:data_platform"],
            kinds={settings.dbt_target},
            description=(
                f"The analysts' copy of {'.'.join(mart.path)}: published only after every audit check "
                f"passed, swapped in atomically ({published_where(settings)})."
            ),
            tags={"layer": "published"},
        )
        for mart in marts
    ]

    @multi_asset(
        name="publish_marts",
        specs=specs,
        pool=WAREHOUSE_WRITERS_POOL,
        description="Write, audit, publish: copy the audited marts to the analysts' copy with an atomic swap.",
    )
    def _publish(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        problems = unaudited(context, audit_checks)
        if problems:
            shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
            # not retryable: the audit will not pass by waiting
            raise Failure(
                description=f"{PublishRefused.__name__}: the analysts' copy was left as it was: "
                f"{len(problems)} audit checks have not passed: {shown}",
                allow_retries=False,
            )
        publication = publish_target(settings, context.run_id)
        context.log.info(f"published {len(publication.tables)} tables to {publication.path}")
        for mart in marts:
            table = f"marts.{mart.path[-1]}"
            yield MaterializeResult(
                asset_key=published_key(mart),
                metadata={
                    "dagster/row_count": publication.tables.get(table, 0),
                    "published_path": MetadataValue.path(str(publication.path)),
                    "published_at": publication.published_at,
                    "audit_checks_passed": len(audit_checks),
                },
            )

    return _publish
