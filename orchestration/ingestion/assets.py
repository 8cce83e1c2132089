"""Dagster ingestion assets: one multi-asset per source system, one asset per table.

A run of a system's assets, with either engine (`INGEST_ENGINE`, orchestration/settings.py):
1. lists the landing files of the selected tables and compares them with the ledger
   (new files load, known files are skipped, changed files are reported, never reloaded);
2. parses each new file with DuckDB's readers, typing rows to the source contract and
   sending every row that cannot load to the quarantine with its line and reason;
3. drops versions older than the row already in the raw table (newest updated-at wins);
4. merges the accepted rows on the primary key into the raw table, with the quarantine
   rows and the ledger entries: inside the DuckDB warehouse with its own readers
   (`duckdb`, the default: orchestration/ingestion/native.py), or with dlt as Arrow tables
   in the destination's fastest loader format (`dlt`, for Postgres:
   orchestration/ingestion/dlt_engine.py);
5. reports rows, files, quarantined rows, schema drift and the newest record time as
   asset metadata, and the row accounting of every file as an asset check.

Neither engine is imported when the code location loads, only when a run needs it.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

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
    ResourceDefinition,
    multi_asset,
)

from orchestration.ingestion.ledger import LEDGER_TABLE, QUARANTINE_TABLE, FilePlan, LandingFile
from orchestration.ingestion.tables import SYSTEM_DESCRIPTIONS, SYSTEM_OWNERS, tables_by_system
from orchestration.schedules import RETRY_POLICY
from orchestration.settings import Settings
from orchestration.sources.schemas import SourceTable

WAREHOUSE_WRITERS_POOL = "duckdb_writers"
ROW_ACCOUNTING_CHECK = "row_accounting"
FILES_ACCEPTED_CHECK = "landing_files_accepted"
DLT_RESOURCE = "dlt_resource"


def raw_asset_key(system: str, table: str) -> AssetKey:
    """The one place that names raw-layer assets; dbt sources map onto these keys."""
    return AssetKey(["raw", system, table])


def raw_asset_spec(system: str, table: str, warehouse_kind: str, engine: str) -> AssetSpec:
    """What the UI shows of a raw table: key, group and owner per source system, kinds (the
    warehouse, and dlt where the dlt engine loads it), storage and what the asset holds. The
    dlt engine's translator maps dlt's resources onto these same specs."""
    return AssetSpec(
        key=raw_asset_key(system, table),
        group_name=system,
        owners=[SYSTEM_OWNERS[system]],
        kinds={warehouse_kind, "dlt"} if engine == "dlt" else {warehouse_kind},
        metadata={"dagster/table_name": f"raw_{system}.{table}", "dagster/storage_kind": warehouse_kind},
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


def bookkeeping_rows(loads: Sequence[TableLoad], load_id: str) -> tuple[list[dict], list[dict]]:
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


def _system_assets(settings: Settings, system: str, tables: Sequence[SourceTable]) -> AssetsDefinition:
    specs = [raw_asset_spec(t.system, t.table, settings.dbt_target, settings.ingest_engine) for t in tables]
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
        # dagster-dlt's resource runs the dlt engine's pipelines; the DuckDB engine needs none
        required_resource_keys={DLT_RESOURCE} if settings.ingest_engine == "dlt" else set(),
    )
    def _assets(context: AssetExecutionContext):
        started = time.perf_counter()
        selected = [
            t for t in tables if raw_asset_key(t.system, t.table) in context.selected_asset_keys
        ]
        if settings.ingest_engine == "duckdb":
            from orchestration.ingestion import native

            loads = native.load_system(settings, system, selected, log=context.log.info)
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
            from orchestration.ingestion import dlt_engine

            loads, results = dlt_engine.load_system(context, context.resources.dlt_resource, settings, system, selected)
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


def dlt_resource() -> ResourceDefinition:
    """dagster-dlt's `DagsterDltResource`, built when a run of the dlt engine first uses it:
    importing dagster-dlt imports dlt, about 0.2 s of the code location's load otherwise."""

    def build(_init_context):
        from dagster_dlt import DagsterDltResource

        return DagsterDltResource()

    return ResourceDefinition(
        resource_fn=build,
        description="dagster-dlt's DagsterDltResource: runs the dlt pipelines of the ingestion engine `dlt`.",
    )


def build_ingestion_assets(settings: Settings) -> list[AssetsDefinition]:
    return [
        _system_assets(settings, system, tables)
        for system, tables in tables_by_system().items()
    ]
