"""Shared fixtures: every test runs against its own temporary warehouse and landing zone."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_configure(config):
    """Before collection: isolate every path setting in a temporary folder, and parse the
    dbt project once (as `make prepare` does), since test modules import the definitions."""
    root = Path(tempfile.mkdtemp(prefix="revenue-cycle-tests-"))
    config._revenue_cycle_root = root
    os.environ["WAREHOUSE_DIR"] = str(root / "warehouse")
    os.environ.pop("WAREHOUSE_PATH", None)
    os.environ.pop("PUBLISHED_PATH", None)
    # tests choose their warehouse themselves (make_settings); `make demo TARGET=...` must
    # not turn the DuckDB tests into tests of another target
    os.environ["WAREHOUSE_TARGET"] = "duckdb"
    os.environ["LANDING_DIR"] = str(root / "landing")
    os.environ["TRUTH_DIR"] = str(root / "truth")
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    (root / "dagster_home").mkdir()
    if hasattr(config, "workerinput"):
        # a pytest-xdist worker: the controller has prepared the manifest before starting it,
        # in the target folder that DBT_TARGET_PATH (inherited) names
        return
    # the session's own manifest and dbt run folders: a demo or benchmark running meanwhile
    # re-parses the project's target/ (for another target, too)
    os.environ["DBT_TARGET_PATH"] = str(root / "dbt_target")

    from orchestration.prepare import prepare
    from orchestration.settings import Settings

    prepare(Settings.from_env())


# `make test` runs the suite on pytest-xdist workers with `--dist loadgroup`: a group runs
# whole on one worker. Every module is a group (its module fixtures are built once), and the
# modules that only read the session's materialized company share one (built once; a module
# of another group that needs it, test_spark through postgres_company, builds its own copy).
SHARED_COMPANY_GROUP = "materialized_company"
SHARED_COMPANY_MODULES = ("test_audit_publish", "test_column_lineage", "test_documentation", "test_postgres")
# Groups start in collection order: the longest first (minutes on a quiet 2-core machine),
# so that the groups still running at the end are short ones.
LONGEST_FIRST = ("test_spark", SHARED_COMPANY_GROUP, "test_spark_dbt", "test_operations", "test_bad_input",
                 "test_spark_cluster")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    def group(item) -> str:
        module = item.module.__name__.rsplit(".", 1)[-1]
        return SHARED_COMPANY_GROUP if module in SHARED_COMPANY_MODULES else module

    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group(item)))
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    # a stable sort: inside a group the tests keep their order
    items.sort(key=lambda item: rank.get(item.get_closest_marker("xdist_group").args[0], len(rank)))


def pytest_unconfigure(config):
    root = getattr(config, "_revenue_cycle_root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dbt_manifest():
    from orchestration.settings import Settings

    return Settings.from_env().dbt_target_dir / "manifest.json"


def dbt_command(settings, scratch: Path, *args: str) -> list[str]:
    """The environment's dbt CLI with `args` on the project of `settings`, its target and log
    folders in `scratch` (the warehouse comes from the caller's environment)."""
    from orchestration.dbt.resource import environment_dbt

    return [str(environment_dbt()), *args,
            "--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.dbt_profiles_dir),
            "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs")]


def make_settings(root: Path, landing: Path | None = None, ingest_engine: str = "duckdb",
                  postgres: dict[str, str] | None = None):
    """Settings for one test's own warehouse (and landing zone), exported for dbt.

    With `postgres` (the libpq variables of a server, see the `postgres_server` fixture)
    the warehouse is that server's database instead of a DuckDB file."""
    from orchestration.settings import Settings

    base = Settings.from_env()
    target = dict(dbt_target=base.dbt_target, ingest_engine=ingest_engine)
    if postgres is not None:
        target = dict(
            dbt_target="postgres", ingest_engine="dlt", postgres_host=postgres["PGHOST"],
            postgres_port=int(postgres["PGPORT"]), postgres_user=postgres["PGUSER"],
            postgres_database=postgres["PGDATABASE"],
        )
    settings = Settings(
        warehouse_dir=root / "warehouse",
        warehouse_path=root / "warehouse" / "warehouse.duckdb",
        landing_dir=landing or root / "landing",
        truth_dir=root / "truth",
        dbt_profiles_dir=base.dbt_profiles_dir,
        **target,
    )
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.export_to_environment()
    return settings


def copy_fixture_landing(destination: Path) -> Path:
    shutil.copytree(FIXTURES / "landing", destination)
    return destination


def ingest(settings) -> None:
    """Ingest the landing zone of `settings` through the Dagster ingestion assets."""
    from dagster import DagsterInstance, materialize
    from dagster_dlt import DagsterDltResource

    from orchestration.ingestion.assets import build_ingestion_assets

    settings.export_to_environment()
    result = materialize(
        build_ingestion_assets(settings),
        resources={"dlt_resource": DagsterDltResource()},
        instance=DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success


def build_company(root: Path, *, scale: float, seed: int, select: list[str], mess=None):
    """Generate a company, ingest it through Dagster and `dbt build` a selection of the
    project into its own warehouse under `root`; returns the Settings.

    `--indirect-selection cautious` runs only the tests whose every parent is selected.
    """
    import subprocess
    import sys

    from orchestration.sources.generate import generate_company

    settings = make_settings(root)
    generate_company(settings.landing_dir, settings.truth_dir, scale=scale, seed=seed, mess=mess)
    ingest(settings)
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    build = subprocess.run(
        [
            sys.executable, "-m", "dbt.cli.main", "build",
            "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_profiles_dir),
            "--target", settings.dbt_target,
            "--target-path", str(root / "dbt_target"),
            "--log-path", str(root / "dbt_logs"),
            "--indirect-selection", "cautious",
            "--select", *select,
        ],
        env=env, capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return settings


@pytest.fixture(scope="session")
def materialized_company(tmp_path_factory):
    """One small company materialized end to end through Dagster (ingestion, dbt build,
    every GX suite, publish), shared by the tests that only read it or copy it:
    returns (settings, instance, run id)."""
    import dataclasses

    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.materialize import materialize_all
    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    root = tmp_path_factory.mktemp("company")
    settings = make_settings(root)
    generate_company(settings.landing_dir, settings.truth_dir, scale=0.1, seed=11,
                     mess=dataclasses.replace(MessConfig(), unknown_stage=0.0))
    instance = DagsterInstance.ephemeral()
    result, summary = materialize_all(build_definitions(settings), instance, log_level="WARNING")
    assert summary.success, f"failed steps {summary.failed_steps}, failed checks {summary.checks_failed}"
    return settings, instance, result.run_id


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (Debian's binaries, 127.0.0.1 only,
    stopped and deleted afterwards): its libpq variables. Skips without the binaries unless
    REQUIRE_POSTGRES=1 (CI sets it and installs them)."""
    from orchestration.throwaway_postgres import PostgresUnavailable, server_binaries, throwaway_postgres

    try:
        server_binaries()
    except PostgresUnavailable as error:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(str(error))
    with throwaway_postgres() as environment:
        yield environment


@contextmanager
def restored_environment():
    """Settings export themselves to the environment (for dbt): the DuckDB tests after a
    test on another target must find it as it was."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def spark_java():
    """Spark needs a Java runtime: the Spark tests skip without one, unless REQUIRE_SPARK=1
    (CI installs Debian's and sets it), then they fail."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and Path(home, "bin", "java").exists()):
        reason = "no Java runtime (apt-get install -y openjdk-17-jre-headless) for Spark"
        if os.environ.get("REQUIRE_SPARK") == "1":
            pytest.fail(f"REQUIRE_SPARK is set but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_company(materialized_company, postgres_server, tmp_path_factory):
    """The company of `materialized_company` materialized again, through the same Dagster
    definitions, into a throwaway Postgres server: (settings, result, summary)."""
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.materialize import materialize_all

    duckdb_settings, _, _ = materialized_company
    with restored_environment():
        settings = make_settings(tmp_path_factory.mktemp("postgres"), landing=duckdb_settings.landing_dir,
                                 postgres=postgres_server)
        with DagsterInstance.ephemeral() as instance:
            result, summary = materialize_all(build_definitions(settings), instance, log_level="WARNING")
    return settings, result, summary


# A lead whose lead status the governed mapping does not name: the fct_leads suite must fail
# on it, naming the row (tests/test_thin_path.py on DuckDB, tests/test_postgres.py on Postgres).
BAD_LEAD_INSERT = (
    "insert into marts.fct_leads (person_id, funnel_stage_source_system, funnel_stage_source_field, "
    "funnel_stage_source_value, funnel_stage, definition_version) "
    "values ('pBAD', 'salesforce', 'lead.status', 'Nurture - Custom', null, 1)"
)


def assert_suite_names_the_bad_lead(outcome) -> None:
    assert not outcome.success
    assert [f["type"] for f in outcome.failed] == ["unexpected_rows_expectation"]
    assert outcome.failed[0]["unexpected_rows"] == [{
        "person_id": "pBAD", "funnel_stage_source_system": "salesforce",
        "funnel_stage_source_field": "lead.status", "funnel_stage_source_value": "Nurture - Custom",
        "funnel_stage": None,
    }]
