"""Spark's Thrift servers, through which the Python side talks SQL to Spark: a local one for
the `spark` target (started for the work at hand, stopped after, the metastore free again)
and a standalone cluster's for `spark_thrift` (master, two workers, a Thrift server on the
cluster's master, all on 127.0.0.1, nothing left behind when stopped).

Without Java the Spark tests skip, unless REQUIRE_SPARK=1: then they fail."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.settings import Settings
from orchestration.spark import thrift_server as thrift
from orchestration.spark.cluster import (
    ClusterPorts,
    alive_workers,
    master_json,
    spark_processes,
    standalone_cluster,
    start,
    status,
)
from orchestration.spark.processes import group_members, is_spark_process
from orchestration.spark.thrift_server import SparkThriftError, free_port, listening, thrift_server
from orchestration.warehouse import read_connection, spark_connection
from orchestration.warehouse_lock import lock_path


def spark_settings(root: Path, target: str, monkeypatch) -> Settings:
    # the Spark folder of this test's warehouse, not one an earlier test exported
    monkeypatch.delenv("SPARK_DIR", raising=False)
    return dataclasses.replace(
        Settings.from_env(), warehouse_dir=root / "warehouse", dbt_target=target,
        spark_thrift_port=free_port(),
    )


def thrift_servers(settings: Settings) -> list[int]:
    return [pid for pid, command in spark_processes(settings) if thrift.THRIFT_SERVER_CLASS in command]


@pytest.mark.slow
def test_local_server_that_cannot_start_raises_with_its_log(spark_java, tmp_path, monkeypatch):
    settings = spark_settings(tmp_path, "spark", monkeypatch)
    monkeypatch.setattr(thrift, "THRIFT_SERVER_CLASS", "org.example.NoSuchServer")
    with pytest.raises(SparkThriftError, match="(?s)exited with code.*thrift-local.log:\nError: "):
        with thrift_server(settings):
            pass
    assert spark_processes(settings) == []
    # the metastore lock was let go: another process takes it at once
    lock = lock_path(settings.spark_dir / "metastore_db")
    taker = "import fcntl, sys; fcntl.flock(open(sys.argv[1], 'a'), fcntl.LOCK_EX | fcntl.LOCK_NB)"
    assert subprocess.run([sys.executable, "-c", taker, str(lock)]).returncode == 0


@pytest.mark.slow
def test_local_server_interrupted_while_starting_is_stopped(spark_java, tmp_path, monkeypatch):
    settings = spark_settings(tmp_path, "spark", monkeypatch)
    launched = []

    def spawn(*args, **kwargs):
        launched.append(real_spawn(*args, **kwargs))
        return launched[-1]

    def interrupted(host, port, timeout=1.0):
        raise KeyboardInterrupt

    real_spawn = thrift.spawn
    monkeypatch.setattr(thrift, "spawn", spawn)
    monkeypatch.setattr(thrift, "listening", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with thrift_server(settings):
            pass
    (process,) = launched
    assert process.returncode is not None and group_members(process.pid) == []
    assert thrift._running == {}


def test_spark_thrift_target_without_a_server_names_the_start_command(tmp_path, monkeypatch):
    settings = spark_settings(tmp_path, "spark_thrift", monkeypatch)
    with pytest.raises(SparkThriftError, match="make spark-cluster-start"):
        with read_connection(settings):
            pass


def _cluster_ports(settings: Settings) -> ClusterPorts:
    while True:  # the workers' web UIs take consecutive ports
        worker_webui = free_port()
        if not listening("127.0.0.1", worker_webui + 1, timeout=0.2):
            break
    return ClusterPorts(master=free_port(), master_webui=free_port(), worker_webui=worker_webui,
                        thrift=settings.spark_thrift_port)


def listening_addresses(pids: list[int]) -> set[str]:
    """The local addresses that `pids` listen on (TCP, IPv4 and IPv6, from /proc)."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    addresses = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                raw = bytes.fromhex(fields[1].split(":")[0])
                # /proc prints each 32-bit word of the address in host (little-endian) order
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                address = ipaddress.ip_address(words)
                addresses.add(str(getattr(address, "ipv4_mapped", None) or address))
    return addresses


def _worker_executors(worker: dict) -> list[str]:
    with urllib.request.urlopen(worker["webuiaddress"] + "/json/", timeout=5) as response:
        return [executor["appid"] for executor in json.load(response)["executors"]]


@pytest.mark.slow
def test_local_server_then_a_cluster_on_the_same_spark_folder(spark_java, tmp_path, monkeypatch):
    """One test, since every Thrift server costs 10-30 s: the cluster's server is the second
    process that opens the metastore the local one let go of."""
    local = spark_settings(tmp_path, "spark", monkeypatch)
    # a server left by a process killed before it could stop it (a stand-in that carries
    # the server's class and folder in its command line): the next start stops it first
    orphan = subprocess.Popen(["bash", "-c", "sleep 600; exit", thrift.THRIFT_SERVER_CLASS, str(local.spark_dir)],
                              start_new_session=True)
    while not is_spark_process(orphan.pid, thrift.THRIFT_SERVER_CLASS, local.spark_dir):
        time.sleep(0.01)  # until the stand-in has exec'd
    pid_file = local.spark_dir / "pids" / "thrift-local.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{orphan.pid}\n")
    with pytest.raises(ZeroDivisionError):
        with thrift_server(local) as (host, port):
            assert host == "127.0.0.1"
            with read_connection(local) as con:
                cursor = con.execute("select 1 as answer")
                assert (cursor.fetchall(), cursor.description[0][0]) == ([(1,)], "answer")
            with spark_connection(local) as con:
                con.execute("create database if not exists marts")
                con.execute("create table marts.kept using parquet as select id from range(3)")
            with thrift_server(local) as nested:
                assert nested == (host, port)
            assert orphan.poll() is not None
            assert len(thrift_servers(local)) == 1
            1 / 0  # stopped on an error too
    assert spark_processes(local) == []
    assert not listening(host, port)
    assert (local.spark_dir / "logs" / "thrift-local.log").exists() and not pid_file.exists()

    settings = dataclasses.replace(local, dbt_target="spark_thrift")
    ports = _cluster_ports(settings)
    lines: list[str] = []
    with standalone_cluster(settings, workers=2, ports=ports) as (host, port):
        assert (host, port) == ("127.0.0.1", settings.spark_thrift_port)
        workers = alive_workers(ports)
        assert [(w["host"], w["cores"]) for w in workers] == [("127.0.0.1", 1)] * 2
        with read_connection(settings) as con:
            assert con.execute("set spark.master").fetchall() == [("spark.master", ports.master_url)]
            assert con.execute("select count(*) from marts.kept").fetchall() == [(3,)]
            rows = con.execute("select count(*), sum(id) from range(0, 100000, 1, 4)").fetchall()
            assert rows == [(100000, sum(range(100000)))]
        # a driver on a cluster's master runs no task itself: every worker holds an executor
        # of the Thrift server's application
        (app,) = master_json(ports)["activeapps"]
        assert all(app["id"] in _worker_executors(w) for w in workers)
        assert status(settings, echo=lines.append)
        # every port of every daemon, server and executor is on the loopback
        assert listening_addresses([pid for pid, _ in spark_processes(settings)]) == {"127.0.0.1"}
        assert start(settings, ports=ports, echo=lines.append) == []  # already running
    assert spark_processes(settings) == []
    assert not listening(host, port)
    assert not status(settings, echo=lines.append)
    assert any("2 alive workers" in line for line in lines)
    assert any("thrift: already running" in line for line in lines)
