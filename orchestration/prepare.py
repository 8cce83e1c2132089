"""Prepare the dbt manifest that the Dagster definitions load (`make prepare`).

Run before loading the code location; the definitions never parse dbt at import time.
"""

from __future__ import annotations

import sys
import time

from dbt.cli.main import dbtRunner

from orchestration.settings import Settings


def prepare(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    settings.export_to_environment()
    started = time.perf_counter()
    result = dbtRunner().invoke(
        [
            "parse",
            "--quiet",
            "--project-dir", str(settings.dbt_project_dir),
            "--profiles-dir", str(settings.dbt_profiles_dir),
            "--target", settings.dbt_target,
            "--target-path", str(settings.dbt_target_dir),
        ]
    )
    if not result.success:
        raise SystemExit(f"dbt parse failed: {result.exception or 'see the dbt log above'}")
    print(f"dbt manifest prepared in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    prepare()
