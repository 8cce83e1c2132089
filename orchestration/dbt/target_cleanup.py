"""Old dbt run folders out of `target/`.

dagster-dbt gives every dbt invocation its own folder, `target/<op>-<run id>-<uuid>/`
(compiled SQL, run_results.json, dbt.log), so runs never overwrite each other's artifacts.
Nothing removes them: on a daily schedule they pile up. After each dbt step the newest
`keep` folders stay (enough to compare recent runs) and older ones go; `manifest.json` and
the other files of `target/` itself are never touched.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

KEEP_DBT_RUN_FOLDERS = 10
# A folder written to within this many seconds may belong to a dbt process still running
# (another run, another code location sharing the project): never delete it.
MIN_AGE_SECONDS = 3600


def _last_written(folder: Path) -> float:
    stamps = [folder.stat().st_mtime]
    stamps += [p.stat().st_mtime for p in folder.iterdir()]
    return max(stamps)


def clean_dbt_run_folders(
    target_dir: Path,
    prefix: str,
    keep: int = KEEP_DBT_RUN_FOLDERS,
    min_age_seconds: float = MIN_AGE_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Delete all but the newest `keep` run folders named `<prefix>-*` under `target_dir`;
    returns the deleted folders (oldest first)."""
    if not target_dir.is_dir():
        return []
    now = time.time() if now is None else now
    folders = []
    for folder in target_dir.glob(f"{prefix}-*"):
        try:
            if folder.is_dir() and not folder.is_symlink():
                folders.append((_last_written(folder), folder))
        except FileNotFoundError:  # removed meanwhile by another cleanup
            continue
    folders.sort()
    old = folders[: max(len(folders) - keep, 0)]
    deleted = []
    for written, folder in old:
        if now - written < min_age_seconds:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder)
    return deleted
