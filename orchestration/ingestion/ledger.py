"""The file ledger: which landing file was loaded, when, with what checksum and counts.

Every landing file is loaded exactly once. A file already in the ledger with the same
checksum is skipped; one whose bytes changed under a name already loaded is reported
and never silently reloaded; a file that was rejected (e.g. a missing required column)
is tried again only once its bytes change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dlt.destinations.exceptions import DatabaseUndefinedRelation

LEDGER_TABLE = "_ingest_ledger"
QUARANTINE_TABLE = "_quarantine"


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative_path: str
    size_bytes: int
    sha256: str
    # physical lines, counted in the same pass over the bytes as the checksum: the
    # parser-independent side of the row accounting
    line_count: int


@dataclass(frozen=True)
class LedgerEntry:
    sha256: str
    status: str  # loaded | rejected


@dataclass
class FilePlan:
    to_load: list[LandingFile]
    unchanged: list[LandingFile]
    changed: list[tuple[LandingFile, str]]  # (file now, checksum loaded before)


def sha256_and_lines(path: Path) -> tuple[str, int]:
    """The file's sha256 and its physical line count (a last line without a newline counts)."""
    digest, lines, last = hashlib.sha256(), 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), lines + (0 if last == b"\n" else 1)


def describe(path: Path, landing_dir: Path) -> LandingFile:
    sha256, line_count = sha256_and_lines(path)
    return LandingFile(
        path=path,
        relative_path=path.relative_to(landing_dir).as_posix(),
        size_bytes=path.stat().st_size,
        sha256=sha256,
        line_count=line_count,
    )


def plan_files(files: list[LandingFile], ledger: dict[str, LedgerEntry]) -> FilePlan:
    plan = FilePlan(to_load=[], unchanged=[], changed=[])
    for landing_file in files:
        entry = ledger.get(landing_file.relative_path)
        if entry is None:
            plan.to_load.append(landing_file)
        elif entry.sha256 == landing_file.sha256:
            plan.unchanged.append(landing_file)
        elif entry.status == "rejected":
            plan.to_load.append(landing_file)  # a corrected file under the same name
        else:
            plan.changed.append((landing_file, entry.sha256))
    return plan


def read_ledger(pipeline) -> dict[str, LedgerEntry]:
    """The ledger as the destination holds it (empty before the first load)."""
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return {}
            table = client.make_qualified_table_name(LEDGER_TABLE)
            rows = client.execute_sql(
                f"select relative_path, sha256, status, loaded_at from {table} order by loaded_at"
            )
    except DatabaseUndefinedRelation:  # nothing was loaded yet
        return {}
    ledger: dict[str, LedgerEntry] = {}
    for relative_path, sha256, status, _ in rows or []:
        # the latest entry per file wins (a rejected file may be loaded later)
        ledger[relative_path] = LedgerEntry(sha256=sha256, status=status)
    return ledger
