"""The dbt project as Dagster assets (models, seeds) and asset checks (dbt tests)."""


from dagster import AssetExecutionContext, AssetsDefinition
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt.translator import RevenueCycleTranslator
from orchestration.ingestion.assets import WAREHOUSE_WRITERS_POOL
from orchestration.settings import Settings


class ManifestMissing(RuntimeError):
    pass


def dbt_project(settings: Settings) -> DbtProject:
    return DbtProject(
        project_dir=settings.dbt_project_dir,
        profiles_dir=settings.dbt_profiles_dir,
        target=settings.dbt_target,
    )


def build_dbt_assets(project: DbtProject) -> AssetsDefinition:
    # The manifest is prepared by `make prepare` / `python -m orchestration.prepare`:
    # parsing dbt at import time would cost seconds on every load of the code location.
    if not project.manifest_path.exists():
        raise ManifestMissing(
            f"{project.manifest_path} does not exist: run `make prepare` "
            "(or `python -m orchestration.prepare`) to parse the dbt project first."
        )

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=RevenueCycleTranslator(),
        name="dbt_revenue_cycle",
        pool=WAREHOUSE_WRITERS_POOL,
    )
    def _dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return _dbt_models
