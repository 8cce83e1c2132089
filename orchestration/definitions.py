"""The Dagster code location of the revenue-cycle warehouse: everything is assembled here.

    landing files --(DuckDB's readers, or dlt)--> raw --(dbt)--> staging --> intermediate --> marts
        --(GX suites, blocking)--> published (the analysts' copy, swapped in atomically)

Operations (orchestration/schedules.py): a daily schedule and a weekly full refresh over
every asset and check, the landing-zone sensor for files that arrive in between, freshness
policies on the raw tables and the marts, retries with exponential backoff, and one
concurrency pool (`duckdb_writers`, limit 1 in dagster_home/dagster.yaml) for every step
that writes the warehouse.

`defs` is what `dagster dev` / `make ui` loads; tests build their own with
`build_definitions(Settings)` pointing at a temporary warehouse.
"""

from __future__ import annotations

import gc

# Loading the code location (every `dagster` process and every run's worker does) imports
# dagster and dagster-dbt with all of dbt-core (dlt only when its engine runs): about a million
# objects that live as long as the process. With the cyclic collector on, Python walks them over
# and over while they are created (about 0.8 s of a 2.7 s load), and once more at interpreter
# exit (about 1 s). None of them is garbage, so the collector is paused while they are created
# and they are frozen out of its sight once `defs` stands (gc.freeze, as CPython's docs suggest
# for long-lived startup state); the collector then runs as usual for everything made
# afterwards. Measured by `make bench` (stage `definitions`).
_COLLECTING = gc.isenabled()
gc.disable()

# dbt-core's hundreds of artifact classes are mashumaro dataclasses, which by default generate
# and compile their (de)serialisation code as each class is defined: about 0.9 s of this import,
# for classes a code location never serialises (dagster-dbt reads the manifest as plain JSON,
# and dbt itself runs in a subprocess). mashumaro's `lazy_compilation` option defers that code
# to a class's first from_dict/to_dict; set on its base config before dbt-core is imported, it
# covers every dbt class. A dbt parse in a process with it set writes the same manifest
# (tests/test_definitions.py). Measured by `make bench` (stage `definitions`).
import mashumaro.config  # noqa: E402

mashumaro.config.BaseConfig.lazy_compilation = True

from dagster import AssetSpec, Definitions, in_process_executor, map_asset_specs

from orchestration.checks import gx_duckdb
from orchestration.checks.assets import SUITES_STEP, build_suite_checks, suite_check_keys
from orchestration.dbt.assets import build_dbt_assets, dbt_project
from orchestration.dbt.resource import ProjectDbtCliResource, environment_dbt
from orchestration.ingestion.assets import DLT_RESOURCE, build_ingestion_assets, dlt_resource
from orchestration.ingestion.sensor import build_landing_sensor
from orchestration.publish.assets import build_publish_assets
from orchestration.schedules import JOBS, SCHEDULES, daily_refresh_job, with_freshness_policies
from orchestration.settings import Settings


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    settings.export_to_environment()
    project = dbt_project(settings)
    # the run's next step imports Great Expectations: import it while dbt builds
    dbt_models = build_dbt_assets(project, settings, while_dbt_runs={SUITES_STEP: gx_duckdb.install_in_background})
    marts = sorted((key for key in dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.to_user_string())
    # the audit that gates the publish: every GX suite, and every dbt test on a mart
    audit = [*suite_check_keys(settings), *(c for c in dbt_models.check_keys if c.asset_key in marts)]
    # kind `great_expectations` marks every asset a GX suite guards: `kind:great_expectations`
    # in the UI lists what the agreed definitions are audited on
    guarded = {key.asset_key for key in suite_check_keys(settings)}

    def mark_guarded(spec: AssetSpec) -> AssetSpec:
        return spec.merge_attributes(kinds={"great_expectations"}) if spec.key in guarded else spec

    dbt_models = map_asset_specs(mark_guarded, [dbt_models])[0]
    return Definitions(
        assets=with_freshness_policies(
            [*build_ingestion_assets(settings), dbt_models, build_publish_assets(settings, marts, audit)]
        ),
        asset_checks=build_suite_checks(settings),
        jobs=list(JOBS),
        schedules=list(SCHEDULES),
        sensors=[build_landing_sensor(settings, job_name=daily_refresh_job.name)],
        resources={
            "dbt": ProjectDbtCliResource(
                project_dir=project,
                profiles_dir=str(settings.dbt_profiles_dir),
                # the dbt of this environment, whether or not it is on PATH
                dbt_executable=str(environment_dbt()),
                # the dbt asset reads its metadata itself (orchestration/dbt/resource.py)
                dbt_core_adapter=False,
            ),
            DLT_RESOURCE: dlt_resource(),
        },
        # DuckDB allows one writer process per file: steps of a run execute one by one.
        executor=in_process_executor,
    )


try:
    defs = build_definitions()
finally:
    gc.freeze()
    if _COLLECTING:
        gc.enable()
