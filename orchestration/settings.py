"""Where things are: every path and connection setting, read from the environment.

Nothing here is secret and nothing is read from the user's home directory. The same
variables drive dbt (profiles.yml reads WAREHOUSE_PATH / WAREHOUSE_DIR, and on the
postgres target libpq's PGHOST / PGPORT / PGUSER / PGDATABASE) and Dagster. The Postgres
password is never read here: libpq takes PGPASSWORD (or ~/.pgpass) from the environment
itself, for dlt, GX and psycopg2 alike, and dbt's profile reads PGPASSWORD.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# the dbt targets of profiles.yml that run on Apache Spark: a local session, a cluster's Thrift server
SPARK_TARGETS = ("spark", "spark_thrift")


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value) if value else default
    return path if path.is_absolute() else (REPO_ROOT / path)


@dataclass(frozen=True)
class Settings:
    """Resolved locations of the warehouse, the landing zone and the dbt project."""

    warehouse_dir: Path
    warehouse_path: Path
    landing_dir: Path
    truth_dir: Path
    dbt_target: str
    # how raw files are loaded: "duckdb" (DuckDB's own readers inside the warehouse, the
    # fast path) or "dlt" (Arrow + dlt's parquet loader, any dlt destination)
    ingest_engine: str = "duckdb"
    # the postgres target's server (libpq's own variables; the defaults are libpq's too,
    # except the host, which is the loopback rather than a Unix socket)
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_database: str = "revenue_cycle"
    # the spark targets: "spark" runs dbt in a local Spark session, "spark_thrift" through
    # the Thrift server of a cluster (orchestration/spark/); both share one Spark folder
    spark_thrift_host: str = "127.0.0.1"
    spark_thrift_port: int = 10000
    spark_folder: Path | None = None
    dbt_project_dir: Path = REPO_ROOT
    dbt_profiles_dir: Path = REPO_ROOT
    expectations_dir: Path = REPO_ROOT / "expectations"

    @classmethod
    def from_env(cls) -> Settings:
        warehouse_dir = _path_from_env("WAREHOUSE_DIR", REPO_ROOT / ".warehouse")
        warehouse_path = _path_from_env("WAREHOUSE_PATH", warehouse_dir / "warehouse.duckdb")
        return cls(
            warehouse_dir=warehouse_dir,
            warehouse_path=warehouse_path,
            landing_dir=_path_from_env("LANDING_DIR", REPO_ROOT / "data" / "landing"),
            truth_dir=_path_from_env("TRUTH_DIR", REPO_ROOT / "data" / "truth"),
            dbt_target=os.environ.get("WAREHOUSE_TARGET", "duckdb"),
            ingest_engine=os.environ.get(
                # Spark's loader is DuckDB too: it keeps the raw layer and writes it as parquet
                # that Spark reads (orchestration/spark/raw_export.py)
                "INGEST_ENGINE",
                "dlt" if os.environ.get("WAREHOUSE_TARGET", "duckdb") == "postgres" else "duckdb",
            ),
            dbt_profiles_dir=_path_from_env("DBT_PROFILES_DIR", REPO_ROOT),
            postgres_host=os.environ.get("PGHOST", cls.postgres_host),
            postgres_port=int(os.environ.get("PGPORT", cls.postgres_port)),
            postgres_user=os.environ.get("PGUSER", cls.postgres_user),
            postgres_database=os.environ.get("PGDATABASE", cls.postgres_database),
            spark_thrift_host=os.environ.get("SPARK_THRIFT_HOST", cls.spark_thrift_host),
            spark_thrift_port=int(os.environ.get("SPARK_THRIFT_PORT", cls.spark_thrift_port)),
            spark_folder=_path_from_env("SPARK_DIR", warehouse_dir / "spark") if os.environ.get("SPARK_DIR") else None,
        )

    @property
    def is_postgres(self) -> bool:
        return self.dbt_target == "postgres"

    @property
    def is_spark(self) -> bool:
        return self.dbt_target in SPARK_TARGETS

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder: the project's `target/` unless DBT_TARGET_PATH moves it (a
        relative path is relative to the project, as for dbt). Processes that must not share
        one manifest (the test sessions, the benchmark's runs) each point it elsewhere."""
        value = os.environ.get("DBT_TARGET_PATH")
        path = Path(value) if value else Path("target")
        return path if path.is_absolute() else self.dbt_project_dir / path

    @property
    def spark_dir(self) -> Path:
        """Spark's warehouse folder, metastore, configuration and the raw layer's parquet
        files (orchestration/spark/): beside the warehouse unless SPARK_DIR moves it."""
        return self.spark_folder or self.warehouse_dir / "spark"

    def postgres_url(self):
        """The SQLAlchemy URL of the postgres target, without a password (libpq adds PGPASSWORD)."""
        from sqlalchemy.engine import URL

        return URL.create(
            "postgresql+psycopg2",
            username=self.postgres_user,
            host=self.postgres_host,
            port=self.postgres_port,
            database=self.postgres_database,
        )

    @property
    def published_path(self) -> Path:
        """The analysts' copy: the marts of the last run whose audit passed (write, audit,
        publish). A separate DuckDB file that analysts open read-only; PUBLISHED_PATH moves it."""
        return _path_from_env("PUBLISHED_PATH", self.warehouse_dir / "published.duckdb")

    @property
    def dlt_pipelines_dir(self) -> Path:
        # dlt keeps its pipeline state beside the warehouse, not in ~/.dlt
        return self.warehouse_dir / "dlt_pipelines"

    def export_to_environment(self) -> None:
        """Make the dbt subprocesses see the same warehouse as this process."""
        os.environ["WAREHOUSE_PATH"] = str(self.warehouse_path)
        os.environ["WAREHOUSE_DIR"] = str(self.warehouse_dir)
        os.environ["DBT_PROFILES_DIR"] = str(self.dbt_profiles_dir)
        os.environ["WAREHOUSE_TARGET"] = self.dbt_target
        os.environ["DBT_TARGET_PATH"] = str(self.dbt_target_dir)
        if self.is_postgres:
            os.environ["PGHOST"] = self.postgres_host
            os.environ["PGPORT"] = str(self.postgres_port)
            os.environ["PGUSER"] = self.postgres_user
            os.environ["PGDATABASE"] = self.postgres_database
            # every session of the warehouse in UTC, as DuckDB's (libpq sends it at connect)
            os.environ.setdefault("PGTZ", "UTC")
        if self.is_spark:
            from orchestration.spark.conf import export_spark_environment

            export_spark_environment(self)
