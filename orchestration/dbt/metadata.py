"""Row counts, column schemas and column-level lineage of the models one `dbt build` made.

dagster-dbt can fetch these itself (`.fetch_row_counts().fetch_column_metadata()`), through
the dbt adapter opened inside this process. On DuckDB that took 130 s for the 73 models of
this project on the test machine (each model's and each parent's columns go through a
Jinja macro of the adapter, one connection per model), against 41 s for the build, and it
leaves dbt-duckdb's database handle open in this process. Here the warehouse answers in one
read-only connection, closed at once: one query for every column of every relation, one
`count(*)` per built table (not per view: as in dagster-dbt, counting a view would run its
query). Column lineage is dagster-dbt's (sqlglot over the compiled SQL), traced once per
model instead of once per column (orchestration/dbt/lineage.py, with dagster-dbt's own
function as the fallback), and cached by the compiled SQL and the column types it was
traced from: a daily run re-traces only the models whose SQL or inputs changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetKey, AssetMaterialization, Output, TableColumn, TableColumnDep, TableColumnLineage, TableSchema
from dagster._core.definitions.metadata import TableMetadataSet

log = logging.getLogger(__name__)

LINEAGE_CACHE_VERSION = 1


def _relation(props: Mapping[str, Any]) -> tuple[str, str]:
    name = props.get("alias") or props.get("identifier") or props["name"]
    return props["schema"].lower(), name.lower()


def warehouse_columns(con) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, relation) -> {column: type}, in column order, for every relation."""
    columns: dict[tuple[str, str], dict[str, str]] = {}
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    for schema, table, column, data_type in rows:
        columns.setdefault((schema.lower(), table.lower()), {})[column] = data_type
    return columns


def _column_schema(props: Mapping[str, Any], types: Mapping[str, str]) -> TableSchema:
    """Types as built; descriptions and tags (e.g. `pii`) from the model's YAML."""
    documented = {name.lower(): column for name, column in (props.get("columns") or {}).items()}
    return TableSchema(
        columns=[
            TableColumn(
                name=name,
                type=data_type,
                description=documented.get(name.lower(), {}).get("description") or None,
                tags={tag: "" for tag in documented.get(name.lower(), {}).get("tags") or []},
            )
            for name, data_type in types.items()
        ]
    )


class LineageCache:
    """Column lineage per model, keyed by a hash of what it was traced from."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict[str, list[list[Any]]]] = {}
        if path is not None and path.exists():
            try:
                stored = json.loads(path.read_text())
                if stored.get("version") == LINEAGE_CACHE_VERSION:
                    self.entries = stored["entries"]
            except (OSError, ValueError, KeyError):
                self.entries = {}
        self.used: dict[str, dict[str, list[list[Any]]]] = {}
        self.hits = 0

    def get(self, key: str) -> TableColumnLineage | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.hits += 1
        self.used[key] = entry
        return TableColumnLineage(
            deps_by_column={
                column: [TableColumnDep(asset_key=AssetKey(path), column_name=name) for path, name in deps]
                for column, deps in entry.items()
            }
        )

    def put(self, key: str, lineage: TableColumnLineage) -> None:
        self.used[key] = {
            column: sorted([list(dep.asset_key.path), dep.column_name] for dep in deps)
            for column, deps in lineage.deps_by_column.items()
        }

    def save(self) -> None:
        """Keep only what this run used: models that were removed or changed drop out."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": LINEAGE_CACHE_VERSION, "entries": self.used}))
        temporary.replace(self.path)


def lineage_inputs(
    props: Mapping[str, Any], manifest: Mapping[str, Any], columns: Mapping[tuple[str, str], Mapping[str, str]]
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, dict[str, str]]]]:
    """A model's own columns and its parents' ({relation name: columns}), each column as
    {"data_type": ...}: what dagster-dbt's EventHistoryMetadata holds."""
    parents = {}
    for parent_id in manifest["parent_map"].get(props["unique_id"], []):
        parent = manifest["nodes"].get(parent_id) or manifest["sources"].get(parent_id)
        if parent is not None and parent.get("relation_name"):
            parents[parent["relation_name"]] = {
                name: {"data_type": data_type} for name, data_type in columns.get(_relation(parent), {}).items()
            }
    own = {name: {"data_type": data_type} for name, data_type in columns.get(_relation(props), {}).items()}
    return own, parents


def dagster_dbt_lineage(
    props, manifest, own, parents, target_path: Path, translator, project
) -> TableColumnLineage | None:
    """dagster-dbt's own tracing: one sqlglot lineage() per column (the reference, and the fallback)."""
    from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata, _build_column_lineage_metadata

    return _build_column_lineage_metadata(
        event_history_metadata=EventHistoryMetadata(columns=own, parents=parents),
        dbt_resource_props=dict(props),
        manifest=manifest,
        dagster_dbt_translator=translator,
        target_path=target_path,
        project=project,
    ).get("dagster/column_lineage")


def trace_lineage(
    props, manifest, own, parents, target_path: Path, translator, project
) -> TableColumnLineage | None:
    """orchestration/dbt/lineage.py's single-scope tracing, or dagster-dbt's if that raises."""
    from orchestration.dbt.lineage import UnoptimizableModel, trace_model

    try:
        return trace_model(
            columns=own, parents=parents, props=props, manifest=manifest,
            translator=translator, target_path=target_path, project=project,
        )
    except UnoptimizableModel:
        raise
    except Exception as error:  # a statement the single scope cannot walk: trace it dagster-dbt's way
        log.info("column lineage of %s traced by dagster-dbt: %s", props["unique_id"], error)
    return dagster_dbt_lineage(props, manifest, own, parents, target_path, translator, project)


def _lineage(
    props: Mapping[str, Any],
    manifest: Mapping[str, Any],
    columns: Mapping[tuple[str, str], Mapping[str, str]],
    target_path: Path,
    translator,
    project,
    cache: LineageCache,
) -> TableColumnLineage | None:
    sql_path = target_path / "compiled" / props["package_name"] / props["original_file_path"]
    if props["resource_type"] != "model" or not sql_path.exists():
        return None
    own, parents = lineage_inputs(props, manifest, columns)
    key = hashlib.sha256(
        json.dumps([props["unique_id"], sql_path.read_text(), own, parents], sort_keys=True).encode()
    ).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        traced = trace_lineage(props, manifest, own, parents, target_path, translator, project)
    except Exception as error:  # sqlglot cannot trace every statement; the schema still shows
        log.warning("no column lineage for %s: %s", props["unique_id"], error)
        return None
    if traced is not None:
        cache.put(key, traced)
    return traced


def incremental_models(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """unique_id -> (schema, relation) of every incremental model that adds the rows of unseen
    landing files by its unique key (macros/incremental.sql): what such a run processed is the
    rows of its new files. int_touchpoints, which also records the landing file, resolves
    again whatever changed (macros/touch_resolution.sql) and has no unique key: not one."""
    return {
        unique_id: _relation(props)
        for unique_id, props in manifest["nodes"].items()
        if props["resource_type"] == "model"
        and props["config"].get("materialized") == "incremental"
        and props["config"].get("unique_key")
        and "landing_file" in {name.lower() for name in props.get("columns") or {}}
    }


def landing_file_rows(
    con, relations: Iterable[tuple[str, str]], existing: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """(schema, relation) -> {landing file: rows} for those of `relations` that exist
    (`existing`: the relations known to exist, if the caller has read them already)."""
    existing = set(warehouse_columns(con) if existing is None else existing)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for schema, name in relations:
        if (schema, name) in existing:
            rows = con.execute(f'select landing_file, count(*) from "{schema}"."{name}" group by landing_file').fetchall()
            counts[(schema, name)] = {file: n for file, n in rows}
    return counts


def landing_files_before_build(settings, manifest: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, int]]:
    """The incremental models' rows per landing file before a build (read-only, closed at once)."""
    from orchestration.warehouse import read_connection

    relations = incremental_models(manifest).values()
    if not relations or (not settings.is_postgres and not Path(settings.warehouse_path).exists()):
        return {}
    with read_connection(settings) as con:
        return landing_file_rows(con, relations)


def incremental_run_metadata(
    before: Mapping[str, int] | None, after: Mapping[str, int], full_refresh: bool
) -> dict[str, Any]:
    """What one run of an incremental model processed: every row on a first or full build,
    otherwise the rows of the landing files it had not seen."""
    rebuilt = full_refresh or before is None
    new_files = sorted(after if rebuilt else set(after) - set(before))
    return {
        "incremental_mode": "full build" if rebuilt else "incremental",
        "rows_processed": sum(after[file] for file in new_files),
        "landing_files_processed": len(new_files),
        "landing_files_new": new_files[:50],
    }


def with_warehouse_metadata(
    events: Iterable[Any],
    *,
    manifest: Mapping[str, Any],
    target_path: Path,
    settings,
    translator,
    project,
    lineage_cache_path: Path | None,
    landing_files_before: Mapping[tuple[str, str], Mapping[str, int]] | None = None,
    full_refresh: bool = False,
) -> Iterator[Any]:
    """The events of a finished dbt invocation, each model's and seed's materialization
    with its row count, column schema and column lineage added (read from the warehouse of
    the settings' target: the same information_schema query on DuckDB and Postgres);
    incremental models also with what the run processed (`landing_files_before`:
    landing_files_before_build())."""
    from orchestration.warehouse import read_connection

    events = list(events)
    own = Path(target_path) / "manifest.json"
    if own.exists():
        # the build's own parse: its relation names carry the database of the target it ran
        # on, which the prepared manifest (possibly parsed for another target) may not, and
        # column lineage matches parents by those names
        manifest = json.loads(own.read_text())
    built = []
    for event in events:
        if isinstance(event, (Output, AssetMaterialization)) and "unique_id" in event.metadata:
            props = manifest["nodes"].get(event.metadata["unique_id"].value)
            if props is not None and props["resource_type"] in ("model", "seed"):
                built.append((event, props))
    if not built:
        yield from events
        return

    extra: dict[int, dict[str, Any]] = {}
    incremental = incremental_models(manifest)
    with read_connection(settings) as con:
        columns = warehouse_columns(con)
        for event, props in built:
            schema, name = _relation(props)
            if (schema, name) not in columns:
                continue
            # as dagster-dbt's fetch_row_counts, no count of a view: it runs the view's whole
            # query (2 s of a 10M build for the staging views), and a view stores no rows
            rows = (
                None if props["config"].get("materialized") == "view"
                else con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
            )
            extra[id(event)] = dict(
                TableMetadataSet(row_count=rows, column_schema=_column_schema(props, columns[(schema, name)]))
            )
            if props["unique_id"] in incremental:
                after = landing_file_rows(con, [(schema, name)], existing=columns)[(schema, name)]
                before = (landing_files_before or {}).get((schema, name))
                extra[id(event)].update(incremental_run_metadata(before, after, full_refresh))
    cache = LineageCache(lineage_cache_path)
    for event, props in built:
        lineage = _lineage(props, manifest, columns, target_path, translator, project, cache)
        if lineage is not None and id(event) in extra:
            extra[id(event)].update(TableMetadataSet(column_lineage=lineage))
    cache.save()
    log.info("column lineage: %d of %d models from the cache", cache.hits, len(built))
    for event in events:
        added = extra.get(id(event))
        yield event.with_metadata({**event.metadata, **added}) if added else event
