"""The dbt project as Dagster assets (models, seeds) and asset checks (dbt tests).

One `dbt build` per run step. Each built model reports its row count, its column schema
(types as built, descriptions and tags such as `pii` from the YAML) and its column-level
lineage (sqlglot over the compiled SQL), so a reviewer sees them in the UI. On DuckDB and
Postgres they are read once dbt has exited (on DuckDB it holds the write lock), in one
read-only connection (orchestration/dbt/metadata.py); other targets use dagster-dbt's own
fetchers.
"""

# no `from __future__ import annotations`: Dagster reads the config class from the
# asset function's annotations at definition time
import json
import re
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, Config, Failure
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from orchestration.dbt.metadata import landing_files_before_build, with_warehouse_metadata
from orchestration.dbt.target_cleanup import clean_dbt_run_folders
from orchestration.dbt.translator import RevenueCycleTranslator
from orchestration.ingestion.assets import WAREHOUSE_WRITERS_POOL
from orchestration.schedules import DBT_OP_NAME, RETRY_POLICY
from orchestration.settings import Settings
from orchestration.warehouse_lock import warehouse_lock

# Errors worth a retry: the warehouse file held by another process, an interrupted
# connection. Everything else (a failing test, SQL that does not compile, an unmapped stage
# value) fails the same way again, so it fails at once.
_TRANSIENT = re.compile(
    r"could not set lock|conflicting lock|database is locked|resource temporarily unavailable"
    r"|connection (?:refused|reset|timed out)|timeout expired",
    re.IGNORECASE,
)


class ManifestMissing(RuntimeError):
    pass


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description="Run `dbt build --full-refresh`: rebuild incremental models from the raw layer "
        "(the weekly_full_refresh job sets it).",
    )


def dbt_project(settings: Settings) -> DbtProject:
    return DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_profiles_dir,
        target=settings.dbt_target,
        target_path=settings.dbt_target_dir,
    )


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    # Unit tests check the SQL of the definitions on fixed fixtures, not the data: they run
    # where the SQL changes (`make test`, tests/test_dbt_unit_tests.py, CI), not again in
    # every scheduled build, where they cost seconds each and could not fail differently.
    return ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if config.full_refresh else [])]


def release_duckdb_connection() -> None:
    """Close the DuckDB database dbt-duckdb opened in this process (dagster-dbt's metadata
    queries): DuckDB allows one process per file, so an open handle here would lock out
    the next dbt subprocess, and a later read-only connection would be refused."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: its connections do not lock files
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        try:
            environment.close()
        finally:
            DuckDBConnectionManager.close_all_connections()


def _session_metastore(settings: Settings | None):
    """On the spark target dbt's session opens Spark's embedded metastore: hold its lock, so
    that no local Thrift server (orchestration/spark/thrift_server.py) opens it meanwhile."""
    if settings is None or settings.dbt_target != "spark":
        return nullcontext()
    from orchestration.spark.thrift_server import metastore_lock

    return metastore_lock(settings)


def run_executes(context: AssetExecutionContext, step_key: str) -> bool:
    """Whether the step `step_key` is in the plan of the context's run (False if unknown)."""
    run = context.dagster_run
    try:
        plan = context.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    except Exception:  # noqa: BLE001 - a run without a stored plan: nothing is started for it
        return False
    return step_key in plan.step_keys_to_execute


def build_dbt_assets(
    project: DbtProject,
    settings: Settings | None = None,
    while_dbt_runs: Mapping[str, Callable[[], object]] | None = None,
) -> AssetsDefinition:
    """`while_dbt_runs`: step key -> work started (in the background) when dbt starts, if the
    run executes that step too: dbt's subprocess leaves this process idle for minutes (the
    definitions give the GX step's import of Great Expectations)."""
    # The manifest is prepared by `make prepare` / `python -m orchestration.prepare`:
    # parsing dbt at import time would cost seconds on every load of the code location.
    if not project.manifest_path.exists():
        raise ManifestMissing(
            f"{project.manifest_path} does not exist: run `make prepare` "
            "(or `python -m orchestration.prepare`) to parse the dbt project first."
        )
    target_dir = Path(project.manifest_path).parent
    translator = RevenueCycleTranslator()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        name=DBT_OP_NAME,
        pool=WAREHOUSE_WRITERS_POOL,
        retry_policy=RETRY_POLICY,
        op_tags={"revenue_cycle/layer": "dbt"},
    )
    def _dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        # one writer process per DuckDB file, and on Spark one process per metastore (dbt's
        # session, or the local Thrift server the checks and the publish start): wait for any
        # other process's run to let go (orchestration/warehouse_lock.py) rather than fail
        exclusive = settings is not None and (settings.dbt_target == "duckdb" or settings.is_spark)
        with warehouse_lock(settings.warehouse_path) if exclusive else nullcontext(), _session_metastore(settings):
            # row counts, column schemas and lineage read from the warehouse's information
            # schema; Spark has none (and dagster-dbt's own fetch would open a second Spark
            # session on the metastore), so a Spark build reports dbt's own events only
            own_metadata = settings is not None and settings.dbt_target in ("duckdb", "postgres")
            # what the incremental models hold before the build, to report what it processed
            before = (
                landing_files_before_build(settings, json.loads(Path(project.manifest_path).read_text()))
                if own_metadata
                else None
            )
            invocation = dbt.cli(dbt_build_args(config), context=context, raise_on_error=False)
            for step_key, start in (while_dbt_runs or {}).items():
                if run_executes(context, step_key):
                    start()
            yield from _events(context, invocation, own_metadata, before, config.full_refresh)
        error = invocation.get_error()
        if error is not None:
            message = str(error)
            raise Failure(description=message, allow_retries=bool(_TRANSIENT.search(message))) from error

    def _events(context: AssetExecutionContext, invocation, own_metadata: bool, before, full_refresh: bool):
        try:
            if own_metadata:
                yield from with_warehouse_metadata(
                    invocation.stream(),
                    manifest=invocation.manifest,
                    target_path=invocation.target_path,
                    settings=settings,
                    translator=translator,
                    project=project,
                    lineage_cache_path=settings.warehouse_dir / "dbt_column_lineage.json",
                    landing_files_before=before,
                    full_refresh=full_refresh,
                )
            elif settings is not None and settings.is_spark:
                yield from invocation.stream()
            else:
                yield from invocation.stream().fetch_row_counts().fetch_column_metadata()
        finally:
            release_duckdb_connection()
            deleted = clean_dbt_run_folders(target_dir, prefix=DBT_OP_NAME)
            if deleted:
                context.log.info(f"removed {len(deleted)} old dbt run folder(s) from {target_dir}")

    return _dbt_models
