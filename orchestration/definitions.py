"""The Dagster code location of the revenue-cycle warehouse: everything is assembled here.

    landing files --(dlt)--> raw --(dbt)--> staging --> marts --(GX checks)

`defs` is what `dagster dev` / `make ui` loads; tests build their own with
`build_definitions(Settings)` pointing at a temporary warehouse.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster import Definitions, in_process_executor
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from orchestration.checks.assets import build_suite_checks
from orchestration.dbt.assets import build_dbt_assets, dbt_project
from orchestration.ingestion.assets import build_ingestion_assets
from orchestration.ingestion.sensor import build_landing_sensor
from orchestration.settings import Settings


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    settings.export_to_environment()
    project = dbt_project(settings)
    return Definitions(
        assets=[*build_ingestion_assets(settings), build_dbt_assets(project)],
        asset_checks=build_suite_checks(settings),
        sensors=[build_landing_sensor(settings)],
        resources={
            "dbt": DbtCliResource(
                project_dir=project,
                profiles_dir=str(settings.dbt_profiles_dir),
                # the dbt of this environment, whether or not it is on PATH
                dbt_executable=str(Path(sys.executable).parent / "dbt"),
            ),
            "dlt_resource": DagsterDltResource(),
        },
        # DuckDB allows one writer process per file: steps of a run execute one by one.
        executor=in_process_executor,
    )


defs = build_definitions()
