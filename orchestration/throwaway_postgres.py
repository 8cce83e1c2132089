"""A throwaway PostgreSQL server for tests and the demo: Debian's binaries, a fresh data
directory in /tmp, bound to 127.0.0.1 on a free port, trust authentication, gone when stopped.

Nothing is downloaded: the server comes from Debian's `postgresql` package (`.ci/run`
installs it when /usr/lib/postgresql is missing). initdb and the server refuse to run as
root, so as root they run as the `postgres` user that the package creates. The caller
gets the libpq environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE) that the
warehouse settings and dbt's profile read.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_binaries() -> Path:
    """The bin folder of the newest PostgreSQL installed from Debian's packages."""
    versions = sorted(
        (p for p in DEBIAN_BINARIES.glob("*/bin") if (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise PostgresUnavailable(
            f"no PostgreSQL under {DEBIAN_BINARIES}: apt-get install -y postgresql"
        )
    return versions[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SUPERUSER, "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres(database: str = "revenue_cycle") -> Iterator[dict[str, str]]:
    """Start a server, create `database`, yield its libpq environment; stop and delete it after."""
    binaries = server_binaries()
    data_dir = Path(tempfile.mkdtemp(prefix="revenue-cycle-pg-"))
    port = _free_port()
    log = data_dir.parent / f"{data_dir.name}.log"
    if os.geteuid() == 0:
        shutil.chown(data_dir, user=SUPERUSER, group=SUPERUSER)
    try:
        subprocess.run(
            _as_server_user([str(binaries / "initdb"), "-D", str(data_dir), "--auth=trust", "-U", SUPERUSER,
                             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, capture_output=True, text=True,
        )
        # the socket goes into the data directory, not /var/run/postgresql (which may not exist);
        # the warehouse keeps UTC, and a test server needs no durability
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {data_dir} -c timezone=UTC "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log.touch()
        if os.geteuid() == 0:
            shutil.chown(log, user=SUPERUSER, group=SUPERUSER)
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-w", "-o", options, "start"]),
            check=True, capture_output=True, text=True,
        )
        environment = {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": SUPERUSER, "PGDATABASE": database}
        subprocess.run(
            [str(binaries / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
             "-c", f'create database "{database}"'],
            env={**os.environ, **environment}, check=True, capture_output=True, text=True,
        )
        yield environment
    except subprocess.CalledProcessError as error:
        detail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"{' '.join(error.cmd)} failed: {error.stderr}{detail}") from error
    finally:
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(data_dir, ignore_errors=True)
        log.unlink(missing_ok=True)
