"""Dagster ingestion assets: one dlt pipeline per source system, one asset per table.

A run of a system's assets:
1. lists the landing files of the selected tables and compares them with the ledger
   (new files load, known files are skipped, changed files are reported, never reloaded);
2. parses each new file with DuckDB's readers, typing rows to the source contract and
   sending every row that cannot load to the quarantine with its line and reason;
3. drops versions older than the row already in the raw table (newest updated-at wins);
4. loads the accepted rows with dlt (Arrow tables, parquet loader format) as a merge on
   the primary key, then appends the quarantine rows and the ledger entries;
5. reports rows, files, quarantined rows, schema drift and the newest record time as
   asset metadata, and the row accounting of every file as an asset check.
"""

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dlt
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from orchestration.ingestion.ledger import (
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    ChecksumCache,
    FilePlan,
    LandingFile,
    describe,
    plan_files,
    read_ledger,
)
from orchestration.ingestion.tables import SYSTEM_DESCRIPTIONS, SYSTEM_OWNERS, tables_by_system
from orchestration.schedules import RETRY_POLICY
from orchestration.settings import Settings
from orchestration.sources.schemas import SourceTable

WAREHOUSE_WRITERS_POOL = "duckdb_writers"
ROW_ACCOUNTING_CHECK = "row_accounting"
FILES_ACCEPTED_CHECK = "landing_files_accepted"


def raw_asset_key(system: str, table: str) -> AssetKey:
    """The one place that names raw-layer assets; dbt sources map onto these keys."""
    return AssetKey(["raw", system, table])


class RawLayerTranslator(DagsterDltTranslator):
    """Asset keys, groups, owners and kinds of the raw layer, per source system."""

    def __init__(self, warehouse_kind: str = "duckdb"):
        super().__init__()
        self.warehouse_kind = warehouse_kind

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        system, table = data.resource.name.split("__", 1)
        return spec.replace_attributes(
            key=raw_asset_key(system, table),
            deps=[],
            group_name=system,
            owners=[SYSTEM_OWNERS[system]],
            kinds={"dlt", self.warehouse_kind},
            metadata={**spec.metadata, "dagster/storage_kind": self.warehouse_kind},
            description=(
                f"Raw `{table}` from the {SYSTEM_DESCRIPTIONS[system]}: the landing files "
                f"under `<landing>/{system}/{table}/`, each loaded once, typed to the source "
                f"contract and merged on the primary key into `raw_{system}.{table}` "
                f"(newest version wins). Rows that cannot load go to "
                f"`raw_{system}.{QUARANTINE_TABLE}`; every file is recorded in "
                f"`raw_{system}.{LEDGER_TABLE}`."
            ),
        )


# --------------------------------------------------------------------------- one run


# The readers (DuckDB, Arrow, numpy) are imported when a run needs them, not when the
# code location loads.


@dataclass
class TableLoad:
    """What one run does for one source table."""

    table: SourceTable
    plan: FilePlan
    parsed: list[tuple[LandingFile, "ParsedFile"]] = field(default_factory=list)  # noqa: F821
    rejected: list[tuple[LandingFile, str]] = field(default_factory=list)
    accepted: "pa.Table | None" = None  # noqa: F821
    stale_rows: int = 0
    # the destination has no row of this table yet: dedupe here and append, which skips
    # dlt's staging copy and delete-insert (about half the load time on big tables)
    first_load: bool = False
    newest: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(p.rows_read for _, p in self.parsed)

    @property
    def rows_quarantined(self) -> int:
        return sum(p.rows_quarantined for _, p in self.parsed)

    @property
    def rows_loaded(self) -> int:
        return sum(p.rows_accepted for _, p in self.parsed)

    @property
    def new_columns(self) -> list[str]:
        return sorted({c for _, p in self.parsed for c in p.new_columns})


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


def _definition_resource(table: SourceTable):
    """The resource as the asset graph sees it (no data is read at definition time)."""
    return dlt.resource(
        lambda: iter(()), name=f"{table.system}__{table.table}", table_name=table.table
    )


def _bookkeeping_rows(loads: Sequence[TableLoad], load_id: str) -> tuple[list[dict], list[dict]]:
    now = datetime.now(timezone.utc)
    ledger, quarantine = [], []
    for load in loads:
        for landing_file, parsed in load.parsed:
            ledger.append(
                {
                    "relative_path": landing_file.relative_path,
                    "source_table": load.table.table,
                    "size_bytes": landing_file.size_bytes,
                    "sha256": landing_file.sha256,
                    "status": "loaded",
                    "rows_read": parsed.rows_read,
                    "rows_loaded": parsed.rows_accepted,
                    "rows_quarantined": parsed.rows_quarantined,
                    "new_columns": ",".join(parsed.new_columns),
                    "error": None,
                    "load_id": load_id,
                    "loaded_at": now,
                }
            )
            quarantine.extend(
                {
                    "relative_path": landing_file.relative_path,
                    "source_table": load.table.table,
                    "line_number": row["line"],
                    "raw_content": row["raw"],
                    "reason": row["reason"],
                    "load_id": load_id,
                    "quarantined_at": now,
                }
                for row in parsed.quarantined
            )
        for landing_file, error in load.rejected:
            ledger.append(
                {
                    "relative_path": landing_file.relative_path,
                    "source_table": load.table.table,
                    "size_bytes": landing_file.size_bytes,
                    "sha256": landing_file.sha256,
                    "status": "rejected",
                    "rows_read": None,
                    "rows_loaded": 0,
                    "rows_quarantined": 0,
                    "new_columns": "",
                    "error": error,
                    "load_id": load_id,
                    "loaded_at": now,
                }
            )
    return ledger, quarantine


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


def _newest_record(load: TableLoad):
    import pyarrow.compute as pc

    column = load.table.event_time or load.table.updated_at
    if load.accepted is None or not load.accepted.num_rows or column not in load.accepted.column_names:
        return None
    newest = pc.max(load.accepted[column]).as_py()
    return newest.isoformat() if newest is not None else None


def _metadata(load: TableLoad, seconds: float) -> dict:
    return {
        "files_loaded": MetadataValue.json([f.relative_path for f, _ in load.parsed]),
        "files_skipped_unchanged": len(load.plan.unchanged),
        "files_changed_not_reloaded": MetadataValue.json(
            [{"file": f.relative_path, "sha256_now": f.sha256, "sha256_loaded": old} for f, old in load.plan.changed]
        ),
        "files_rejected": MetadataValue.json([{"file": f.relative_path, "error": e} for f, e in load.rejected]),
        "rows_read": load.rows_read,
        "rows_loaded": load.rows_loaded,
        "rows_quarantined": load.rows_quarantined,
        "rows_stale_not_applied": load.stale_rows,
        "new_columns": MetadataValue.json(load.new_columns),
        "newest_record_time": MetadataValue.text(load.newest or _newest_record(load) or "n/a"),
        "per_file": MetadataValue.md(
            "| file | read | loaded | quarantined |\n|---|---:|---:|---:|\n"
            + "\n".join(
                f"| {f.relative_path} | {p.rows_read} | {p.rows_accepted} | {p.rows_quarantined} |"
                for f, p in load.parsed
            )
        ),
        "ingest_seconds": round(seconds, 3),
    }


def _checks(load: TableLoad, key: AssetKey) -> list[AssetCheckResult]:
    per_file = [
        {"file": f.relative_path, "read": p.rows_read, "loaded": p.rows_accepted, "quarantined": p.rows_quarantined}
        for f, p in load.parsed
    ]
    unbalanced = [f for f in per_file if f["read"] != f["loaded"] + f["quarantined"]]
    problems = [f"{f.relative_path}: {e}" for f, e in load.rejected] + [
        f"{f.relative_path}: changed after it was loaded (sha256 {old[:12]} -> {f.sha256[:12]}); not reloaded"
        for f, old in load.plan.changed
    ]
    return [
        AssetCheckResult(
            asset_key=key,
            check_name=ROW_ACCOUNTING_CHECK,
            passed=not unbalanced,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "rows_read": load.rows_read,
                "rows_loaded": load.rows_loaded,
                "rows_quarantined": load.rows_quarantined,
                "unbalanced_files": MetadataValue.json(unbalanced),
            },
        ),
        AssetCheckResult(
            asset_key=key,
            check_name=FILES_ACCEPTED_CHECK,
            passed=not problems,
            severity=AssetCheckSeverity.WARN,
            metadata={"problems": MetadataValue.json(problems)},
        ),
    ]


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


def _system_pipeline(settings: Settings, system: str) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"landing_{system}",
        destination=_destination(settings).destination,
        dataset_name=f"raw_{system}",
        pipelines_dir=str(settings.dlt_pipelines_dir),
    )


def _load_with_dlt(context, dlt_resource, settings, system, selected, translator):
    """The dlt path: Arrow tables into any dlt destination, in its fastest loader format."""
    pipeline = _system_pipeline(settings, system)
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
            dagster_dlt_translator=translator,
            loader_file_format=_destination(settings).loader_file_format,
        )
    )
    info = pipeline.last_trace.last_load_info if pipeline.last_trace else None
    load_id = info.loads_ids[-1] if info and info.loads_ids else f"{time.time():.6f}"
    _write_bookkeeping(pipeline, *_bookkeeping_rows(loads, load_id))
    return loads, results


def _system_assets(settings: Settings, system: str, tables: Sequence[SourceTable]) -> AssetsDefinition:
    translator = RawLayerTranslator(settings.dbt_target)

    # Specs come from the translator alone: creating dlt pipelines (and their working
    # folders) at load time would cost the code location ~50 ms per source system.
    specs = [
        translator.get_asset_spec(DltResourceTranslatorData(resource=_definition_resource(t), pipeline=None))
        for t in tables
    ]
    check_specs = [
        spec
        for t in tables
        for spec in (
            AssetCheckSpec(
                ROW_ACCOUNTING_CHECK,
                asset=raw_asset_key(t.system, t.table),
                description="Every landing file loaded in this run: rows read = rows loaded + rows quarantined.",
            ),
            AssetCheckSpec(
                FILES_ACCEPTED_CHECK,
                asset=raw_asset_key(t.system, t.table),
                description="No landing file was rejected (e.g. a missing required column) or changed after it was loaded.",
            ),
        )
    ]

    @multi_asset(
        name=f"ingest_{system}",
        specs=specs,
        check_specs=check_specs,
        can_subset=True,
        pool=WAREHOUSE_WRITERS_POOL,
        op_tags={"revenue_cycle/layer": "raw"},
        # a held warehouse file clears by itself; re-running loads only files not yet loaded
        retry_policy=RETRY_POLICY,
    )
    def _assets(context: AssetExecutionContext, dlt_resource: DagsterDltResource):
        started = time.perf_counter()
        selected = [
            t for t in tables if raw_asset_key(t.system, t.table) in context.selected_asset_keys
        ]
        if settings.ingest_engine == "duckdb":
            from orchestration.ingestion import native

            loads = native.load_system(
                settings, system, selected, TableLoad, _bookkeeping_rows, log=context.log.info
            )
            results = [
                MaterializeResult(
                    asset_key=raw_asset_key(l.table.system, l.table.table),
                    metadata={
                        "dagster/table_name": f"raw_{system}.{l.table.table}",
                        "ingest_engine": "duckdb (native readers, one transaction per table)",
                    },
                )
                for l in loads
            ]
        else:
            loads, results = _load_with_dlt(context, dlt_resource, settings, system, selected, translator)
        by_key = {raw_asset_key(l.table.system, l.table.table): l for l in loads}
        seconds = time.perf_counter() - started
        for result in results:
            load = by_key[result.asset_key]
            yield MaterializeResult(
                asset_key=result.asset_key,
                metadata={**(result.metadata or {}), **_metadata(load, seconds)},
            )
        for key, load in by_key.items():
            yield from _checks(load, key)

    return _assets


def build_ingestion_assets(settings: Settings) -> list[AssetsDefinition]:
    return [
        _system_assets(settings, system, tables)
        for system, tables in tables_by_system().items()
    ]
