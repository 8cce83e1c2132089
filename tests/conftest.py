"""Shared fixtures: every test runs against its own temporary warehouse and landing zone."""

from __future__ import annotations

import os
import shutil
import tempfile
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
    os.environ["LANDING_DIR"] = str(root / "landing")
    os.environ["TRUTH_DIR"] = str(root / "truth")
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    (root / "dagster_home").mkdir()

    from orchestration.prepare import prepare
    from orchestration.settings import Settings

    prepare(Settings.from_env())


def pytest_unconfigure(config):
    root = getattr(config, "_revenue_cycle_root", None)
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dbt_manifest():
    from orchestration.settings import Settings

    return Settings.from_env().dbt_project_dir / "target" / "manifest.json"


def make_settings(root: Path, landing: Path | None = None, ingest_engine: str = "duckdb"):
    """Settings for one test's own warehouse (and landing zone), exported for dbt."""
    from orchestration.settings import Settings

    base = Settings.from_env()
    settings = Settings(
        warehouse_dir=root / "warehouse",
        warehouse_path=root / "warehouse" / "warehouse.duckdb",
        landing_dir=landing or root / "landing",
        truth_dir=root / "truth",
        dbt_target=base.dbt_target,
        ingest_engine=ingest_engine,
        dbt_profiles_dir=base.dbt_profiles_dir,
    )
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.export_to_environment()
    return settings


def copy_fixture_landing(destination: Path) -> Path:
    shutil.copytree(FIXTURES / "landing", destination)
    return destination
