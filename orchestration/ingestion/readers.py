"""Reading landing files into Arrow with DuckDB's own readers (fast, vectorized)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

_READERS = {
    # Raw keeps the values exactly as exported; staging types them.
    "csv": "read_csv(?, header = true, all_varchar = true, auto_detect = true)",
    "jsonl": "read_json(?, format = 'newline_delimited')",
    "parquet": "read_parquet(?)",
}


def landing_files(landing_dir: Path, system: str, table: str, file_format: str) -> list[Path]:
    """Files of one table, oldest export day first (the file name is the day)."""
    folder = landing_dir / system / table
    return sorted(folder.glob(f"*.{file_format}")) if folder.is_dir() else []


def read_landing_file(path: Path, file_format: str) -> pa.Table:
    """One landing file as an Arrow table, with the file name kept on every row."""
    try:
        reader = _READERS[file_format]
    except KeyError:
        raise ValueError(f"{path}: unknown landing file format {file_format!r}") from None
    with duckdb.connect() as con:
        relation = con.sql(
            f"select *, ? as _landing_file from {reader}",
            params=[path.name, str(path)],
        )
        return relation.to_arrow_table()
