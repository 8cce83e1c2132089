"""`make demo`: generate the default company, materialize everything, print a summary."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager, nullcontext

from orchestration.settings import Settings

DEMO_SCALE = 0.1
DEMO_SEED = 42


def _ensure_sources(settings: Settings) -> None:
    if any(settings.landing_dir.glob("*/*/*.*")):
        print(f"[demo] using the landing zone at {settings.landing_dir}")
        return
    import dataclasses

    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    # The demo company carries every kind of mess except stage values the governed mapping
    # lacks: those stop the build by design (naming each value and its source), which is
    # shown by tests/test_thin_path.py and tests/test_funnel.py, not by the demo.
    mess = dataclasses.replace(MessConfig(), unknown_stage=0.0)
    print(f"[demo] generating the default company (scale {DEMO_SCALE}, seed {DEMO_SEED}) ...")
    report = generate_company(settings.landing_dir, settings.truth_dir, scale=DEMO_SCALE, seed=DEMO_SEED, mess=mess)
    print(f"[demo] wrote {len(report['files_written'])} files to {settings.landing_dir}")


def mart_row_counts(settings: Settings) -> dict[str, int]:
    from orchestration.warehouse import read_connection

    with read_connection(settings) as con:
        if settings.is_spark:  # Spark SQL has no information_schema
            names = sorted(row[1] for row in con.execute("show tables in marts").fetchall() if not row[2])
            return {f"marts.{n}": con.execute(f"select count(*) from marts.`{n}`").fetchall()[0][0] for n in names}
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name"
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
            for schema, name in tables
        }


def _server():
    """On the postgres target without a server named in PGHOST: a throwaway one for the demo;
    on the spark_thrift target without a server named in SPARK_THRIFT_HOST: a throwaway
    standalone cluster (master, two workers, Thrift server) on 127.0.0.1."""
    settings = Settings.from_env()
    if settings.is_postgres and "PGHOST" not in os.environ:
        from orchestration.throwaway_postgres import throwaway_postgres

        return throwaway_postgres()
    if settings.dbt_target == "spark_thrift" and "SPARK_THRIFT_HOST" not in os.environ:
        return _spark_cluster(settings)
    return nullcontext(None)


@contextmanager
def _spark_cluster(settings: Settings):
    from orchestration.spark.cluster import standalone_cluster

    with standalone_cluster(settings) as (host, port):
        yield {"SPARK_THRIFT_HOST": host, "SPARK_THRIFT_PORT": str(port)}


def main() -> int:
    with _server() as environment:
        if environment is not None:
            os.environ.update(environment)
            if "PGPORT" in environment:
                print(f"[demo] no PGHOST: started a throwaway PostgreSQL on 127.0.0.1:{environment['PGPORT']} "
                      "(stopped and deleted when the demo ends)")
            else:
                print(f"[demo] no SPARK_THRIFT_HOST: started a Spark standalone cluster (master, two workers, "
                      f"Thrift server on 127.0.0.1:{environment['SPARK_THRIFT_PORT']}), stopped when the demo ends")
        status = _demo()
    if environment is not None and "PGPORT" in environment:
        print("[demo] the throwaway PostgreSQL is stopped and deleted: name a server of your own in "
              "PGHOST, PGPORT, PGUSER, PGDATABASE (and PGPASSWORD) for a warehouse that stays")
    return status


def _demo() -> int:
    started = time.perf_counter()
    settings = Settings.from_env()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    _ensure_sources(settings)

    from orchestration.prepare import prepare

    prepare(settings)

    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.materialize import materialize_all

    print("[demo] materializing every asset through Dagster (ingest, dbt build, checks) ...")
    with DagsterInstance.get() as instance:
        _, summary = materialize_all(build_definitions(settings), instance)

    print()
    print("=" * 72)
    print(f"revenue-cycle warehouse demo: {'SUCCESS' if summary.success else 'FAILED'} "
          f"in {time.perf_counter() - started:.0f} s (run {summary.run_id[:8]})")
    print("-" * 72)
    with _summary_server(settings):
        return _summary(settings, summary)


def _summary_server(settings: Settings):
    """On the spark target: one local Thrift server for all the summary's queries."""
    if settings.is_spark:
        from orchestration.spark.thrift_server import thrift_server

        return thrift_server(settings)
    return nullcontext(None)


def _summary(settings: Settings, summary) -> int:
    for relation, rows in mart_row_counts(settings).items():
        print(f"  {relation:<40} {rows:>10,} rows")
    print("-" * 72)
    print(f"  checks passed: {len(summary.checks_passed)}   checks failed: {len(summary.checks_failed)}")
    for check in summary.checks_failed:
        print(f"    FAILED {check}")
    for step in summary.failed_steps:
        print(f"    failed step: {step}")
    from orchestration.publish.assets import published_where, read_target_publication

    if settings.is_postgres:
        print(f"  working warehouse: postgres database {settings.postgres_database} on "
              f"{settings.postgres_host}:{settings.postgres_port}")
        where = published_where(settings)
    elif settings.is_spark:
        print(f"  working warehouse: Spark ({settings.dbt_target}), tables under {settings.spark_dir / 'warehouse'}")
        where = published_where(settings)
    else:
        print(f"  working warehouse: {settings.warehouse_path}")
        where = str(settings.published_path)
    published = read_target_publication(settings)
    if published:
        print(f"  analysts' copy:    {where} (run {published['run_id'][:8]}, "
              f"{published['tables']} tables, published {published['published_at']})")
    else:
        print(f"  analysts' copy:    not published (the audit did not pass); last good copy, if any: {where}")
    if settings.is_postgres:
        print("  open it:   psql -c 'table published_marts.fct_leads'   (with the same PG* variables)")
    elif settings.is_spark:
        print(f"  open it:   SPARK_CONF_DIR={settings.spark_dir / 'conf'} .venv/bin/python -c \"from pyspark.sql "
              "import SparkSession; SparkSession.builder.enableHiveSupport().getOrCreate()"
              ".table('published_marts.fct_leads').show()\"")
    else:
        print("  open it:   .venv/bin/python -c \"import duckdb; duckdb.connect('"
              f"{settings.published_path}', read_only=True).sql('from marts.fct_leads').show()\"")
    print(f"  audit:     GX Data Docs in {settings.warehouse_dir / 'data_docs' / 'index.html'}")
    print("  the UI:    make ui   (then http://127.0.0.1:3000)")
    print("=" * 72)
    return 0 if summary.success and not summary.checks_failed else 1


if __name__ == "__main__":
    sys.exit(main())
