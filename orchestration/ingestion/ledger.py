"""The file ledger: which landing file was loaded, when, with what checksum and counts.

Every landing file is loaded exactly once. A file already in the ledger with the same
checksum is skipped; one whose bytes changed under a name already loaded is reported
and never silently reloaded; a file that was rejected (e.g. a missing required column)
is tried again only once its bytes change.

Every run needs the checksum of every landing file, old ones included, to see a changed
file. Reading the whole landing history on every run made a daily run's cost grow with
the history (3.3 GB, ~5 s, at 10M touch events); `ChecksumCache` keeps each file's
checksum with the file's stat and reads the bytes again only when the stat moved.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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


def describe(path: Path, landing_dir: Path, checksums: ChecksumCache) -> LandingFile:
    size_bytes, sha256, line_count = checksums.checksum(path)
    return LandingFile(
        path=path,
        relative_path=path.relative_to(landing_dir).as_posix(),
        size_bytes=size_bytes,
        sha256=sha256,
        line_count=line_count,
    )


# A file whose last change is this close to the moment its bytes were read may change
# again within the same tick of the file system's clock, leaving its stat as recorded:
# such an entry is not trusted, and the next run reads the file again (git's "racily
# clean" rule).
RACY_NANOSECONDS = 2_000_000_000
CHECKSUM_CACHE_VERSION = 1
_ENTRY_KEYS = {"stat", "read_at_ns", "sha256", "lines"}


def _fingerprint(stat: os.stat_result) -> list[int]:
    # The kernel sets ctime on every change of the bytes and no ordinary tool sets it back
    # (touch and utime set mtime only); with inode and size, the same fingerprint means
    # the bytes that were read.
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


class ChecksumCache:
    """Checksum and line count of each landing file already read, keyed by absolute path
    and trusted while the file's stat (device, inode, size, mtime, ctime) is as it was when
    its bytes were read. Only a cache: a missing or unreadable cache file (or entry) reads
    the landing files again."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict] = {}
        self.read_again = self.reused = 0
        self._lock = threading.Lock()
        if path is not None and path.exists():
            try:
                stored = json.loads(path.read_text())
                if stored.get("version") == CHECKSUM_CACHE_VERSION:
                    self.entries = {
                        key: entry for key, entry in stored["files"].items()
                        if isinstance(entry, dict) and set(entry) == _ENTRY_KEYS
                    }
            except (OSError, ValueError, KeyError, AttributeError, TypeError):
                self.entries = {}

    def checksum(self, path: Path) -> tuple[int, str, int]:
        """(size in bytes, sha256, physical lines) of the file as it is now."""
        key = str(path.resolve())
        before = path.stat()
        with self._lock:
            entry = self.entries.get(key)
        if (
            entry is not None
            and entry["stat"] == _fingerprint(before)
            and max(before.st_mtime_ns, before.st_ctime_ns) < entry["read_at_ns"] - RACY_NANOSECONDS
        ):
            with self._lock:
                self.reused += 1
            return before.st_size, entry["sha256"], entry["lines"]
        read_at_ns = time.time_ns()
        sha256, lines = sha256_and_lines(path)
        after = path.stat()
        with self._lock:
            self.read_again += 1
            if _fingerprint(after) == _fingerprint(before):  # not written to while being read
                self.entries[key] = {"stat": _fingerprint(after), "read_at_ns": read_at_ns, "sha256": sha256, "lines": lines}
        return after.st_size, sha256, lines

    @classmethod
    def of_system(cls, warehouse_dir: Path, system: str) -> ChecksumCache:
        """The cache of one source system's landing files, beside the warehouse."""
        return cls(warehouse_dir / "landing_checksums" / f"{system}.json")

    def summary(self) -> str:
        return (f"{self.read_again} landing file(s) read for their checksum, "
                f"{self.reused} known unchanged by their stat")

    def save(self) -> None:
        """Write the cache (atomically), without the files that are gone."""
        if self.path is None:
            return
        with self._lock:
            kept = {key: entry for key, entry in self.entries.items() if os.path.exists(key)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"version": CHECKSUM_CACHE_VERSION, "files": kept}))
        temporary.replace(self.path)


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
