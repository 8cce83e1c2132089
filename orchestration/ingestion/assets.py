"""Dagster ingestion assets: one dlt pipeline per source system, one asset per table."""


from collections.abc import Iterator, Sequence

import dlt
from dagster import AssetExecutionContext, AssetKey, AssetSpec, AssetsDefinition
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.ingestion.readers import landing_files, read_landing_file
from orchestration.ingestion.tables import (
    SYSTEM_DESCRIPTIONS,
    SYSTEM_OWNERS,
    SourceTable,
    tables_by_system,
)
from orchestration.settings import Settings

WAREHOUSE_WRITERS_POOL = "duckdb_writers"


def raw_asset_key(system: str, table: str) -> AssetKey:
    """The one place that names raw-layer assets; dbt sources map onto these keys."""
    return AssetKey(["raw", system, table])


class RawLayerTranslator(DagsterDltTranslator):
    """Asset keys, groups, owners and kinds of the raw layer, per source system."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        system, table = data.resource.name.split("__", 1)
        return spec.replace_attributes(
            key=raw_asset_key(system, table),
            deps=[],
            group_name=system,
            owners=[SYSTEM_OWNERS[system]],
            kinds={"dlt", "duckdb"},
            description=(
                f"Raw `{table}` from the {SYSTEM_DESCRIPTIONS[system]}: every landing file "
                f"under `<landing>/{system}/{table}/`, loaded as exported into schema "
                f"`raw_{system}` (values untyped; staging types them)."
            ),
        )


def _table_resource(settings: Settings, table: SourceTable):
    def rows() -> Iterator:
        for path in landing_files(settings.landing_dir, table.system, table.table, table.file_format):
            yield read_landing_file(path, table.file_format)

    return dlt.resource(
        rows,
        name=table.resource_name,
        table_name=table.table,
        primary_key=list(table.primary_key),
        # every run reads the whole landing folder, so replacing keeps re-runs idempotent
        write_disposition="replace",
    )


def _system_pipeline(settings: Settings, system: str) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"landing_{system}",
        destination=dlt.destinations.duckdb(str(settings.warehouse_path)),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(settings.dlt_pipelines_dir),
    )


def _system_assets(settings: Settings, system: str, tables: Sequence[SourceTable]) -> AssetsDefinition:
    @dlt.source(name=system, max_table_nesting=0)
    def landing_source():
        return [_table_resource(settings, table) for table in tables]

    @dlt_assets(
        dlt_source=landing_source(),
        dlt_pipeline=_system_pipeline(settings, system),
        name=f"ingest_{system}",
        dagster_dlt_translator=RawLayerTranslator(),
        pool=WAREHOUSE_WRITERS_POOL,
    )
    def _assets(context: AssetExecutionContext, dlt: DagsterDltResource):
        # A fresh source per run: dlt mutates a source's hints while extracting it, and a
        # second run of the same instance in one process fails. Arrow tables with the
        # parquet loader make DuckDB COPY the files instead of row-by-row INSERTs.
        yield from dlt.run(context=context, dlt_source=landing_source(), loader_file_format="parquet")

    return _assets


def build_ingestion_assets(settings: Settings) -> list[AssetsDefinition]:
    return [
        _system_assets(settings, system, tables)
        for system, tables in tables_by_system().items()
    ]
