"""The dlt ingestion engine (`INGEST_ENGINE=dlt`): Arrow tables into any dlt destination.

Each system is one dlt pipeline; each new landing file is parsed to Arrow by
`orchestration.ingestion.parse` (the same typing, quarantine and accounting as the DuckDB
engine), versions older than the raw table's are dropped, and the rows are loaded with dlt's
fastest loader format for the destination (parquet on DuckDB, csv COPY on Postgres) as a
merge on the primary key, run by dagster-dlt's `DagsterDltResource`. The ledger and the
quarantine are written through the same pipeline.

dlt is imported with this module, which the assets import only when a run uses this engine:
the code location itself loads without dlt (about 0.2 s of its import).
"""

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dlt
from dagster import AssetSpec
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from orchestration.ingestion.assets import TableLoad, bookkeeping_rows, raw_asset_spec
from orchestration.ingestion.ledger import (
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    ChecksumCache,
    LedgerEntry,
    describe,
    plan_files,
)
from orchestration.settings import Settings
from orchestration.sources.schemas import SourceTable


class RawLayerTranslator(DagsterDltTranslator):
    """Maps dlt's resources (`<system>__<table>`) onto the raw layer's assets when dagster-dlt runs them."""

    def __init__(self, warehouse_kind: str = "duckdb"):
        super().__init__()
        self.warehouse_kind = warehouse_kind

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        # the same spec the code location shows, whichever engine built the asset
        system, table = data.resource.name.split("__", 1)
        return raw_asset_spec(system, table, self.warehouse_kind, engine="dlt")


def read_ledger(pipeline) -> dict[str, LedgerEntry]:
    """The ledger as the destination holds it (empty before the first load)."""
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return {}
            table = client.make_qualified_table_name(LEDGER_TABLE)
            rows = client.execute_sql(
                f"select relative_path, sha256, status, loaded_at from {table} order by loaded_at"
            )
    except DatabaseUndefinedRelation:  # nothing was loaded yet
        return {}
    ledger: dict[str, LedgerEntry] = {}
    for relative_path, sha256, status, _ in rows or []:
        # the latest entry per file wins (a rejected file may be loaded later)
        ledger[relative_path] = LedgerEntry(sha256=sha256, status=status)
    return ledger


def _prepare_table(settings: Settings, table: SourceTable, ledger, checksums: ChecksumCache) -> TableLoad:
    import pyarrow as pa

    from orchestration.ingestion.parse import FileRejected, parse_file

    folder = settings.landing_dir / table.system / table.table
    paths = sorted(folder.glob(f"*.{table.ext}")) if folder.is_dir() else []
    load = TableLoad(table, plan_files([describe(p, settings.landing_dir, checksums) for p in paths], ledger))
    batches = []
    for landing_file in load.plan.to_load:
        try:
            parsed = parse_file(
                landing_file.path, table, landing_file.relative_path, line_count=landing_file.line_count
            )
        except FileRejected as error:
            load.rejected.append((landing_file, str(error)))
            continue
        load.parsed.append((landing_file, parsed))
        if parsed.accepted is not None and parsed.accepted.num_rows:
            batches.append(parsed.accepted)
    if batches:
        load.accepted = pa.concat_tables(batches, promote_options="default")
    return load


def _drop_stale_versions(pipeline: dlt.Pipeline, load: TableLoad) -> None:
    """Keep only rows at least as new as the version already in the raw table."""
    import duckdb
    import pyarrow as pa

    table = load.table
    keys = list(table.primary_key)
    try:
        with pipeline.sql_client() as client:
            qualified = client.make_qualified_table_name(table.table)
            columns = ", ".join(keys + [table.updated_at])
            existing = client.execute_sql(
                f"select {columns} from {qualified}" if table.event_time is None else f"select 1 from {qualified} limit 1"
            )
    except DatabaseUndefinedRelation:
        existing = []
    if not existing:
        load.first_load = True
        # an empty, typed table still creates the raw table, so staging can always read it
        load.accepted = _empty_contract_table(table) if load.accepted is None else _newest_per_key(load.accepted, table)
        return
    if load.accepted is None:
        return
    if table.event_time is not None:
        return  # event tables carry no versions; the merge on the key keeps them unique
    current = pa.table(
        {name: pa.array([row[i] for row in existing]) for i, name in enumerate(keys + ["_current"])}
    )
    with duckdb.connect() as con:
        con.register("incoming", load.accepted)
        con.register("current_versions", current)
        join = " and ".join(f'i."{k}" = c."{k}"' for k in keys)
        filtered = con.sql(
            f'select i.* from incoming i left join current_versions c on {join} '
            f'where c._current is null or i."{table.updated_at}" is null '
            f'or i."{table.updated_at}" >= c._current'
        ).to_arrow_table()
    load.stale_rows = load.accepted.num_rows - filtered.num_rows
    load.accepted = filtered


_ARROW_TYPES = {"s": "string", "i": "int64", "f": "float64", "b": "bool", "d": "date32"}


def _empty_contract_table(table: SourceTable):
    import pyarrow as pa

    def arrow_type(kind: str):
        return pa.timestamp("us", tz="UTC") if kind == "t" else pa.type_for_alias(_ARROW_TYPES[kind])

    fields = [pa.field(c, arrow_type(table.types[c])) for c in table.columns]
    fields += [pa.field("_landing_file", pa.string()), pa.field("_landing_line", pa.int64())]
    return pa.schema(fields).empty_table()


def _newest_per_key(accepted, table: SourceTable):
    """One row per primary key, the newest updated-at winning (what the merge would keep)."""
    import duckdb

    keys = ", ".join(f'"{k}"' for k in table.primary_key)
    with duckdb.connect() as con:
        con.register("incoming", accepted)
        duplicates = con.execute(
            f"select count(*) - count(distinct ({keys})) from incoming"
        ).fetchall()[0][0]
        if not duplicates:
            return accepted
        return con.sql(
            f'select * exclude (_version) from (select *, row_number() over (partition by {keys} '
            f'order by "{table.updated_at}" desc nulls last, _landing_file desc, _landing_line desc) as _version '
            f"from incoming) where _version = 1"
        ).to_arrow_table()


def _table_resource(load: TableLoad):
    table = load.table

    def rows():
        if load.accepted is not None and (load.accepted.num_rows or load.first_load):
            yield load.accepted

    return dlt.resource(
        rows,
        name=f"{table.system}__{table.table}",
        table_name=table.table,
        primary_key=list(table.primary_key),
        write_disposition="append" if load.first_load else {"disposition": "merge", "strategy": "delete-insert"},
        # within one merge the newest version of a key wins (a first load, appended, has one
        # version per key already; dlt warns of the hint on an append)
        columns=None if load.first_load else {table.updated_at: {"dedup_sort": "desc"}},
    )


def _empty_quarantine():
    import pyarrow as pa

    return pa.schema([
        ("relative_path", pa.string()), ("source_table", pa.string()), ("line_number", pa.int64()),
        ("raw_content", pa.string()), ("reason", pa.string()), ("load_id", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]).empty_table()


def _write_bookkeeping(pipeline: dlt.Pipeline, ledger: list[dict], quarantine: list[dict]) -> None:
    resources = []
    if ledger:
        resources.append(
            dlt.resource(
                ledger,
                name=LEDGER_TABLE,
                write_disposition="merge",
                primary_key=["relative_path", "sha256", "load_id"],
                columns={
                    "rows_read": {"data_type": "bigint", "nullable": True},
                    "error": {"data_type": "text", "nullable": True},
                    "new_columns": {"data_type": "text", "nullable": True},
                },
            )
        )
        resources.append(
            dlt.resource(
                # no row to quarantine still creates the (empty) table, as on DuckDB
                quarantine or _empty_quarantine(),
                name=QUARANTINE_TABLE,
                # a re-run after a crash rewrites, never duplicates, a file's quarantine rows
                write_disposition="merge",
                primary_key=["relative_path", "line_number"],
            )
        )
    if resources:
        pipeline.run(resources).raise_on_failed_jobs()


@dataclass(frozen=True)
class DltDestination:
    """The dbt target's warehouse as a dlt destination, and the loader file format that
    is fast there (measured: shared/DESIGN.md sections 5 and 6)."""

    destination: object
    loader_file_format: str


def _libpq_credentials():
    """dlt's Postgres credentials with the password left to libpq (PGPASSWORD or ~/.pgpass):
    dlt otherwise insists on a password of its own, even for a server that needs none."""
    from typing import Optional

    from dlt.common.configuration import configspec
    from dlt.common.typing import TSecretStrValue
    from dlt.destinations.impl.postgres.configuration import PostgresCredentials

    @configspec(init=False)
    class LibpqCredentials(PostgresCredentials):
        password: Optional[TSecretStrValue] = None

    return LibpqCredentials()


def _destination(settings: Settings) -> DltDestination:
    """Connection details come from Settings (the environment); the Postgres password
    from libpq's PGPASSWORD, which psycopg2 reads itself."""
    if settings.dbt_target == "duckdb":
        # Arrow tables with the parquet loader: the files are copied, not INSERTed row by row
        return DltDestination(dlt.destinations.duckdb(str(settings.warehouse_path)), "parquet")
    if settings.is_postgres:
        # Postgres takes no parquet: dlt writes the Arrow tables as csv and COPYs them
        # (1M rows 2.1 s against 10-16 s with the defaults), uncompressed since COPY
        # reads the files as they are
        os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
        credentials = _libpq_credentials()
        credentials.host = settings.postgres_host
        credentials.port = settings.postgres_port
        credentials.username = settings.postgres_user
        credentials.database = settings.postgres_database
        # complete as it stands: dlt would otherwise look up a password of its own anyway
        credentials.resolve()
        return DltDestination(dlt.destinations.postgres(credentials=credentials), "csv")
    raise ValueError(
        f"WAREHOUSE_TARGET={settings.dbt_target!r}: ingestion supports the targets duckdb and postgres"
    )


def _system_pipeline(settings: Settings, system: str, destination: DltDestination) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"landing_{system}",
        destination=destination.destination,
        dataset_name=f"raw_{system}",
        pipelines_dir=str(settings.dlt_pipelines_dir),
    )


def load_system(context, dlt_resource, settings: Settings, system: str, selected: Sequence[SourceTable]):
    """The dlt path: Arrow tables into any dlt destination, in its fastest loader format."""
    # resolved once: on Postgres it builds and resolves the credentials
    destination = _destination(settings)
    pipeline = _system_pipeline(settings, system, destination)
    ledger = read_ledger(pipeline)
    checksums = ChecksumCache.of_system(settings.warehouse_dir, system)
    loads = []
    for table in selected:
        load = _prepare_table(settings, table, ledger, checksums)
        _drop_stale_versions(pipeline, load)
        context.log.info(
            f"{system}.{table.table}: {len(load.plan.to_load)} new file(s), "
            f"{load.rows_read} rows read, {load.rows_quarantined} quarantined"
        )
        loads.append(load)
    checksums.save()
    context.log.info(f"{system}: {checksums.summary()}")

    @dlt.source(name=system, max_table_nesting=0)
    def runtime_source():
        return [_table_resource(load) for load in loads]

    # A fresh source per run: dlt mutates a source's hints while extracting it. Arrow
    # tables with the parquet loader make the destination copy files, not INSERT rows.
    results = list(
        dlt_resource.run(
            context=context,
            dlt_source=runtime_source(),
            dlt_pipeline=pipeline,
            dagster_dlt_translator=RawLayerTranslator(settings.dbt_target),
            loader_file_format=destination.loader_file_format,
        )
    )
    info = pipeline.last_trace.last_load_info if pipeline.last_trace else None
    load_id = info.loads_ids[-1] if info and info.loads_ids else f"{time.time():.6f}"
    _write_bookkeeping(pipeline, *bookkeeping_rows(loads, load_id))
    return loads, results
