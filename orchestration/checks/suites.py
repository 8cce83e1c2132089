"""Running the expectation suites of expectations/ inside the warehouse.

Suites live in the GX file context under expectations/gx/ (reviewed JSON), one per agreed
definition. A suite's `meta.guards` names the relation it audits (`meta.asset_key`, when
given, the Dagster asset of that relation), and `meta.parameters` says where each suite
parameter comes from, so no threshold or stage list is written in a suite:

    "name": "select ... from governance.<seed>"   a list of values read from a governed seed
    "name": {"var": "scoring.mql_threshold"}     a scalar read from the vars of dbt_project.yml

Parameters reach GX's own expectations as `{"$PARAMETER": "name"}`, and row queries
(UnexpectedRowsExpectation) as `{param:name}`, rendered as a SQL literal before validation.
Row queries are written in SQL that DuckDB, Postgres and Spark all run. "Rows missing from
another relation" is a left join on a distinct subquery and `is null`, never `not in
(subquery)`: Postgres runs the latter row by row once the subquery outgrows work_mem (hours
at 10M touch events), and a null in the subquery would make the check unable to fail. Every suite runs as SQL
inside the warehouse of the target: DuckDB through the compatibility layer (gx_duckdb), or
Postgres through GX's own Postgres datasource; all suites of one Dagster step share one GX
context and one connection, and their results are rendered as GX Data Docs.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orchestration.checks import gx_duckdb
from orchestration.settings import Settings
from orchestration.warehouse import read_connection

_PLACEHOLDER = re.compile(r"\{param:([a-z_][a-z0-9_]*)\}")
SAMPLE_ROWS = 10


@dataclass
class SuiteOutcome:
    suite: str
    relation: str
    success: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    data_docs: str | None = None


@dataclass(frozen=True)
class SuiteFile:
    """What the code location needs of a suite, read from its JSON without importing GX."""

    name: str
    path: Path
    relation: str
    asset_key: tuple[str, ...]
    definition: str
    expectations: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> SuiteFile:
        suite = json.loads(path.read_text())
        meta = suite["meta"]
        return cls(
            name=suite["name"],
            path=path,
            relation=meta["guards"],
            asset_key=tuple(meta.get("asset_key") or meta["guards"].split(".", 1)),
            definition=meta.get("definition", ""),
            expectations=tuple(e.get("description") or e["type"] for e in suite["expectations"]),
        )


def suite_files(expectations_dir: Path) -> list[SuiteFile]:
    return [SuiteFile.read(p) for p in sorted((expectations_dir / "gx" / "expectations").glob("*.json"))]


def project_vars(project_dir: Path) -> dict[str, Any]:
    """The vars of dbt_project.yml: the one place the governed thresholds are written."""
    return yaml.safe_load((project_dir / "dbt_project.yml").read_text()).get("vars", {})


def _var(variables: dict[str, Any], dotted: str) -> Any:
    value: Any = variables
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"dbt_project.yml has no var {dotted!r} (a suite parameter reads it)")
        value = value[part]
    return value


def resolve_parameters(con, specs: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, spec in specs.items():
        if isinstance(spec, str):
            resolved[name] = [row[0] for row in con.execute(spec).fetchall()]
        elif isinstance(spec, dict) and "var" in spec:
            resolved[name] = _var(variables, spec["var"])
        else:
            raise ValueError(f"suite parameter {name!r}: expected a SQL string or {{'var': ...}}, got {spec!r}")
    return resolved


def sql_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(sql_literal(v) for v in value) + ")"
    return "'" + str(value).replace("'", "''") + "'"


# Row queries are written in SQL that DuckDB, Postgres and Spark all run, but for the few
# functions one engine spells its own way: those are rewritten here, in one place, for it.
_SPELLINGS: dict[str, list[tuple[re.Pattern, str]]] = {
    # Spark 3.2+ dropped EXTRACT(EPOCH ...): seconds since 1970 as microseconds / 1e6
    "spark": [(re.compile(r"extract\(\s*epoch\s+from\s+([a-z_][a-z0-9_.]*)\s*\)", re.IGNORECASE),
               r"(unix_micros(\1) / 1000000.0)")],
}


def in_dialect(query: str, target_type: str) -> str:
    """`query` in the spelling of the engine of `target_type` (see _SPELLINGS)."""
    for pattern, replacement in _SPELLINGS.get(target_type, []):
        query = pattern.sub(replacement, query)
    return query


def render_query(query: str, parameters: dict[str, Any]) -> str:
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in parameters:
            raise KeyError(f"row query uses {{param:{name}}} but the suite declares no parameter {name!r}")
        return sql_literal(parameters[name])

    return _PLACEHOLDER.sub(substitute, query)


def _describe(result) -> dict[str, Any]:
    config = result.expectation_config
    details = result.result or {}
    exception = result.exception_info if isinstance(result.exception_info, dict) else {}
    if "raised_exception" not in exception:
        # a metric that raised is reported per metric: the first one says why
        exception = next((e for e in exception.values() if isinstance(e, dict) and e.get("raised_exception")), {})
    return {
        "expectation": config.description or config.type,
        "type": config.type,
        "kwargs": {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)},
        "unexpected_count": details.get("unexpected_count"),
        "partial_unexpected_list": details.get("partial_unexpected_list", [])[:SAMPLE_ROWS],
        "observed_value": details.get("observed_value"),
        "exception": exception.get("exception_message") if exception.get("raised_exception") else None,
    }


def _add_unexpected_rows(con, failed: list[dict[str, Any]], relation: str) -> None:
    """Name the offending rows of failed row-query expectations (a sample, as SQL).

    GX reports only their count outside its COMPLETE result format, which for column
    expectations would return every unexpected value of a large table.
    """
    for failure in failed:
        sql = failure["kwargs"].get("unexpected_rows_query")
        if not sql:
            continue
        rows = con.execute(f"select * from ({sql.replace('{batch}', relation)}) as unexpected_rows limit {SAMPLE_ROWS}")
        columns = [column[0] for column in rows.description]
        failure["unexpected_rows"] = [dict(zip(columns, row)) for row in rows.fetchall()]


def _close_connections(source) -> None:
    """DuckDB allows one writer: never leave a reader connection open behind a check.

    GX holds two engines per SQL datasource: the datasource's own (pooled, used to test
    the connection and reflect tables) and the execution engine's, which keeps a
    persisted connection for DuckDB (see gx_duckdb) that GX's close() leaves open.
    """
    execution_engine = source.get_execution_engine()
    connection = getattr(execution_engine, "_connection", None)
    if connection is not None:
        connection.close()
        execution_engine._connection = None
    execution_engine.engine.dispose()
    source.get_engine().dispose()


def _target(warehouse: Path | Settings) -> tuple[Settings, Path | None]:
    """A DuckDB file given by its path, or the warehouse of the settings' target."""
    if isinstance(warehouse, Settings):
        return warehouse, warehouse.warehouse_path if warehouse.dbt_target == "duckdb" else None
    path = Path(warehouse)
    return dataclasses.replace(Settings.from_env(), dbt_target="duckdb", warehouse_path=path), path


def _add_datasource(runtime, settings: Settings, duckdb_path: Path | None, thrift: tuple[str, int] | None):
    if settings.is_spark:
        # SQL through Spark's Thrift server (PyHive's SQLAlchemy dialect): the suites run as
        # Spark SQL on the cluster or the local Spark the server runs
        from orchestration.spark.thrift_server import thrift_user

        host, port = thrift
        return runtime.data_sources.add_sql(name="warehouse", connection_string=f"hive://{thrift_user()}@{host}:{port}/default")
    if duckdb_path is None:
        # GX's native Postgres datasource; the URL carries no password (libpq reads PGPASSWORD)
        return runtime.data_sources.add_postgres(
            name="warehouse", connection_string=settings.postgres_url().render_as_string(hide_password=False)
        )
    return runtime.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{duckdb_path}",
        kwargs={"connect_args": {"read_only": True}},
    )


def run_suites(
    names: list[str],
    warehouse: Path | Settings,
    expectations_dir: Path,
    project_dir: Path,
    docs_dir: Path | None = None,
) -> list[SuiteOutcome]:
    """Validate suites against their relations, as SQL inside the warehouse, in one GX context.

    `warehouse` is a DuckDB file, or Settings whose target says where the warehouse is.
    With `docs_dir`, GX Data Docs of the results are built there (a static HTML site).
    """
    settings, duckdb_path = _target(warehouse)
    if not settings.is_spark:
        return _run_suites(names, settings, duckdb_path, None, expectations_dir, project_dir, docs_dir)
    # on Spark, SQL through a Thrift server: the cluster's, or a local one for as long as
    # the suites run (orchestration/spark/thrift_server.py)
    from orchestration.spark.thrift_server import thrift_server

    with thrift_server(settings) as thrift:
        return _run_suites(names, settings, None, thrift, expectations_dir, project_dir, docs_dir)


def _run_suites(names, settings, duckdb_path, thrift, expectations_dir, project_dir, docs_dir) -> list[SuiteOutcome]:
    gx_duckdb.install()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    files = {s.name: s for s in suite_files(expectations_dir)}
    unknown = [n for n in names if n not in files]
    if unknown:
        raise KeyError(f"no expectation suite named {unknown} in {expectations_dir / 'gx' / 'expectations'}")
    project = gx.get_context(mode="file", project_root_dir=str(expectations_dir))
    variables = project_vars(project_dir)

    # Seeds and samples are read on a connection of our own, opened only while GX holds
    # none: DuckDB refuses a second in-process connection configured differently.
    with read_connection(settings, duckdb_path) as con:
        with contextlib.redirect_stdout(io.StringIO()):
            # GX prints a hint for every row query that does not read {batch}: a
            # reconciliation across relations (CRM against bookings, staging against
            # the mapping) reads other relations on purpose.
            reviewed = {name: project.suites.get(name) for name in names}
        parameters = {
            name: resolve_parameters(con, suite.meta.get("parameters", {}), variables)
            for name, suite in reviewed.items()
        }
    # The warehouse connection is run-time configuration: an ephemeral context holds it,
    # so validating never rewrites the reviewed great_expectations.yml.
    runtime = gx.get_context(mode="ephemeral")
    # results go to Dagster's metadata and log; GX's progress bars only clutter the run log
    runtime.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        runtime.add_data_docs_site(
            site_name="warehouse",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    source = _add_datasource(runtime, settings, duckdb_path, thrift)
    outcomes: list[SuiteOutcome] = []
    batches: dict[str, Any] = {}

    def validate(name: str, result_format: str) -> SuiteOutcome:
        started = time.perf_counter()
        relation = reviewed[name].meta["guards"]
        expectations = []
        for reviewed_expectation in reviewed[name].expectations:
            expectation = copy.copy(reviewed_expectation)
            query = getattr(expectation, "unexpected_rows_query", None)
            if query:
                expectation.unexpected_rows_query = in_dialect(
                    render_query(query, parameters[name]), "spark" if settings.is_spark else settings.dbt_target
                )
                if settings.is_postgres:
                    # GX stands `(select * from <relation> where true)` for {batch}: a subquery
                    # without an alias, which Postgres before 16 refuses in FROM. The batch is
                    # the whole relation, so the relation itself stands for the same rows.
                    expectation.unexpected_rows_query = expectation.unexpected_rows_query.replace("{batch}", relation)
            expectations.append(expectation)
        suite = runtime.suites.add(
            gx.ExpectationSuite(name=f"{name}_{result_format.lower()}", expectations=expectations, meta=reviewed[name].meta)
        )
        if relation not in batches:
            schema, table = relation.split(".", 1)
            asset = source.add_table_asset(name=relation, table_name=table, schema_name=schema)
            batches[relation] = asset.add_batch_definition_whole_table("whole_table")
        validation = runtime.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_{result_format.lower()}", data=batches[relation], suite=suite)
        )
        result = validation.run(expectation_parameters=parameters[name], result_format=result_format)
        return SuiteOutcome(
            suite=name,
            relation=relation,
            success=bool(result.success),
            evaluated=len(result.results),
            failed=[_describe(r) for r in result.results if not r.success],
            parameters=parameters[name],
            seconds=time.perf_counter() - started,
        )

    try:
        for name in names:
            with contextlib.redirect_stdout(io.StringIO()):  # the {batch} hint, at every copy of a suite
                # Pass or fail first (no unexpected-value lists: on big tables those are extra
                # group-by queries per expectation); a suite that failed runs again with the
                # details, which only a failure needs.
                outcome = validate(name, "BOOLEAN_ONLY")
                if not outcome.success:
                    detailed = validate(name, "SUMMARY")
                    detailed.seconds += outcome.seconds
                    outcome = detailed
                outcomes.append(outcome)
    finally:
        _close_connections(source)
    if any(outcome.failed for outcome in outcomes):
        with read_connection(settings, duckdb_path) as con:
            for outcome in outcomes:
                _add_unexpected_rows(con, outcome.failed, outcome.relation)
    if docs_dir is not None:
        with contextlib.redirect_stdout(io.StringIO()):  # the {batch} hint again, while rendering
            runtime.build_data_docs(site_names=["warehouse"])
        index = docs_dir / "index.html"
        for outcome in outcomes:
            outcome.data_docs = str(index)
    return outcomes


def run_suite(
    suite_name: str,
    warehouse: Path | Settings,
    expectations_dir: Path,
    project_dir: Path | None = None,
    docs_dir: Path | None = None,
) -> SuiteOutcome:
    """Validate one suite (see run_suites)."""
    project_dir = project_dir or expectations_dir.parent
    return run_suites([suite_name], warehouse, expectations_dir, project_dir, docs_dir)[0]
