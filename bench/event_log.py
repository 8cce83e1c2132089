"""Storing Dagster events: Dagster's SQLite event log against the project's (orchestration/event_log_storage.py).

    python -m bench.event_log [--events 300] [--runs 3]

Each run is its own process with its own DAGSTER_HOME (the project's dagster.yaml, or
none for Dagster's default) and stores the same asset materializations through the
instance, as a step does; prints milliseconds per event, medians of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_STORE = """
import json, sys, time, uuid
from dagster import AssetKey, AssetMaterialization, DagsterInstance
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
events = int(sys.argv[1])
run_id = str(uuid.uuid4())
def entry(i):
    event = DagsterEvent(event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value, job_name="bench",
                         event_specific_data=StepMaterializationData(AssetMaterialization(
                             asset_key=AssetKey(["bench", f"asset_{i % 80}"]), metadata={"rows": i, "note": "x" * 2000})),
                         step_key="step")
    return EventLogEntry(error_info=None, level=20, user_message="", run_id=run_id, timestamp=time.time(),
                         step_key="step", job_name="bench", dagster_event=event)
with DagsterInstance.get() as instance:
    entries = [entry(i) for i in range(events + 1)]
    instance.handle_new_event(entries[0])  # creates the run's database: not measured
    started = time.perf_counter()
    for e in entries[1:]:
        instance.handle_new_event(e)
    seconds = time.perf_counter() - started
    stored = len(instance.get_records_for_run(run_id, limit=events + 10).records)
print(json.dumps({"class": type(instance.event_log_storage).__name__, "ms_per_event": 1000 * seconds / events,
                  "stored": stored}))
"""


def _one(project_yaml: bool, events: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix="bench-event-log-"))
    try:
        if project_yaml:
            shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
        else:
            (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        out = subprocess.run([sys.executable, "-c", _STORE, str(events)], env={**os.environ, "DAGSTER_HOME": str(home)},
                             cwd=REPO, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result["stored"] != events + 1:
            raise RuntimeError(f"{result['class']} stored {result['stored']} of {events + 1} events")
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    figures = {}
    for _ in range(args.runs):  # alternated, so that both see the same machine
        for label, project_yaml in (("dagster", False), ("project", True)):
            result = _one(project_yaml, args.events)
            figures.setdefault(label, {"class": result["class"], "ms": []})["ms"].append(result["ms_per_event"])
    for label, f in figures.items():
        f["median_ms_per_event"] = round(statistics.median(f["ms"]), 2)
        print(f"{f['class']:40s} {f['median_ms_per_event']:6.2f} ms per event "
              f"(runs: {', '.join(f'{m:.2f}' for m in f['ms'])})")
    ratio = figures["dagster"]["median_ms_per_event"] / figures["project"]["median_ms_per_event"]
    print(f"Dagster's own / the project's: {ratio:.1f}x")
    return figures


if __name__ == "__main__":
    main()
