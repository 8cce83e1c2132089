"""dagster-dbt's `DbtCliResource`, without two things it does before every dbt command that
this project does not need.

1. It runs `<dbt_executable> --version` in a subprocess to learn which dbt it invokes (dbt
   Core or the Fusion engine): about 2 s per dbt step, as dbt imports itself and asks the
   package index for the latest release. When the executable is this environment's own
   `dbt` (definitions.py points it there), the version is that of the dbt-core package
   already imported, read in-process.
2. It builds a dbt adapter inside the Dagster process (loads the profile and the project,
   imports the adapter): about 1.1 s per dbt step. dagster-dbt uses that adapter only for
   `fetch_row_counts()` / `fetch_column_metadata()`; this project's dbt asset reads row
   counts, column schemas and lineage from the warehouse itself
   (orchestration/dbt/metadata.py), or reports dbt's own events on Spark, so
   definitions.py turns it off (`dbt_core_adapter=False`).

Both are measured by `make bench` (the whole and the daily run) and pinned by
tests/test_definitions.py, which fails if dagster-dbt changes what is overridden here.
"""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import Field


def environment_dbt() -> Path:
    """The `dbt` script of the environment this interpreter runs in."""
    return Path(sys.executable).parent / "dbt"


class ProjectDbtCliResource(DbtCliResource):
    dbt_core_adapter: bool = Field(
        default=True,
        description=(
            "Build dagster-dbt's in-process dbt adapter before each dbt command (needed only "
            "by dagster-dbt's fetch_row_counts / fetch_column_metadata)."
        ),
    )

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == environment_dbt():
            from dbt.version import __version__

            return version.parse(__version__)
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        if not self.dbt_core_adapter:
            return None
        return super()._initialize_dbt_core_adapter(args)
