"""Every Spark setting of the project, in one place, written as a Spark configuration folder.

dbt's Spark session, the Thrift servers and the cluster daemons are all started by Spark's
own launcher, which reads `$SPARK_CONF_DIR/spark-defaults.conf`: writing the folder once and
pointing SPARK_CONF_DIR at it gives every Spark process of a run the same warehouse folder,
metastore and settings, with no copy of them in profiles.yml or elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.settings import Settings

LOOPBACK = "127.0.0.1"


def spark_home() -> Path:
    """The Spark distribution inside the pyspark package (its jars, bin/ and sbin/)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def warehouse_folder(settings: Settings) -> Path:
    """Where Spark keeps the tables dbt builds (spark.sql.warehouse.dir)."""
    return settings.spark_dir / "warehouse"


def conf_dir(settings: Settings) -> Path:
    return settings.spark_dir / "conf"


def spark_defaults(settings: Settings) -> dict[str, str]:
    spark_dir = settings.spark_dir
    return {
        # the session target runs Spark inside the dbt process on both cores; a cluster's
        # Thrift server is started with its master's URL instead (orchestration/spark/cluster.py)
        "spark.master": "local[2]",
        "spark.sql.warehouse.dir": str(warehouse_folder(settings)),
        # Spark's embedded Hive metastore (Derby): one process at a time may open it, which
        # is why dbt's session and the Thrift server never run together on one folder
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.driver.memory": "4g",
        "spark.driver.bindAddress": LOOPBACK,
        "spark.driver.host": LOOPBACK,
        # the progress bars corrupt dbt's JSON log (DESIGN.md section 6); no UI server either
        "spark.ui.showConsoleProgress": "false",
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        # tables of thousands to millions of rows: 200 shuffle partitions would be 200 tasks per stage
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.adaptive.enabled": "true",
        # insert_overwrite replaces only the partitions an incremental run writes
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # a standalone master's REST submission server would listen on a fixed port (6066),
        # which two clusters on one machine (tests, a benchmark) would both claim; unused here
        "spark.master.rest.enabled": "false",
        # a Thrift client reading a big table (an analyst, the checksums of the benchmark):
        # the server hands it over partition by partition instead of collecting the whole
        # result in its driver first (4M rows of fct_touchpoints ran out of its 4 GB heap)
        "spark.sql.thriftServer.incrementalCollect": "true",
    }


_LOG4J = """\
# Spark's own logging: warnings and errors only, to stderr (dbt and Dagster read stdout)
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.metastore.name = org.apache.hadoop.hive.metastore
logger.metastore.level = error
logger.datanucleus.name = DataNucleus
logger.datanucleus.level = error
logger.nativeloader.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativeloader.level = error
"""


def write_conf_dir(settings: Settings) -> Path:
    """Write spark-defaults.conf and log4j2.properties for these settings; return the folder."""
    folder = conf_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    warehouse_folder(settings).mkdir(parents=True, exist_ok=True)
    defaults = "".join(f"{key} {value}\n" for key, value in spark_defaults(settings).items())
    for name, text in (("spark-defaults.conf", defaults), ("log4j2.properties", _LOG4J)):
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return folder


def export_spark_environment(settings: Settings) -> None:
    """Point every Spark process started from here (dbt's session too) at the project's settings."""
    os.environ["SPARK_CONF_DIR"] = str(write_conf_dir(settings))
    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    os.environ["SPARK_DIR"] = str(settings.spark_dir)
    os.environ["SPARK_THRIFT_HOST"] = settings.spark_thrift_host
    os.environ["SPARK_THRIFT_PORT"] = str(settings.spark_thrift_port)
    os.environ.setdefault("SPARK_LOG_DIR", str(settings.spark_dir / "logs"))
    os.environ.setdefault("SPARK_PID_DIR", str(settings.spark_dir / "pids"))


# The standalone master and workers only keep the cluster's books (the work runs in the
# executors they launch): a JVM that compiles less starts them on ~40% less CPU (a master:
# 4.6-6.1 -> 2.5-3.5 CPU-s measured here). Read by Spark's launcher for daemons only.
DAEMON_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
