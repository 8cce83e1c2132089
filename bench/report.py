"""The benchmark's figures as a markdown table, the targets of issue 9 checked against them,
and the kept copy of the latest figures (a marked section of bench/README.md)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# issue 9: (stage, figure, at most, what it means); checked at the largest scale measured
TARGETS = (
    ("whole", "ratio", 1.3, "whole Dagster materialization within 1.3x of the DuckDB-only run"),
    ("dbt", "ratio", 1.1, "dbt build within 1.1x of its compiled SQL run directly"),
    ("checks", "validation_ratio", 2.0, "GX suites within 2x of the same checks hand-written (validation)"),
    ("daily", "share_of_whole", 0.05, "incremental daily run under 5% of the whole build's time"),
    ("whole", "memory_ratio", 1.2, "peak memory within 1.2x of the DuckDB-only run"),
    ("definitions", "seconds", 2.0, "Dagster definitions import in under 2 s"),
)
LABELS = {
    "generation": "generation",
    "ingestion": "ingestion (Dagster) / DuckDB readers",
    "dbt": "dbt build / its SQL in DuckDB",
    "checks": "GX suites / hand-written SQL",
    "publish": "publish / plain SQL copy",
    "definitions": "import orchestration.definitions",
    "whole": "whole Dagster run / DuckDB-only run",
    "daily": "daily run (1 new day) / DuckDB-only full run",
}
BEGIN, END = "<!-- bench:latest (written by bench/report.py) -->", "<!-- /bench:latest -->"


def machine() -> dict:
    import duckdb

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cores": os.cpu_count(), "memory_gib": round(memory / 2**30, 1), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "load_average": [round(x, 2) for x in os.getloadavg()]}


def evaluate_targets(results: dict) -> list[dict]:
    measured = [s for s in results["scales"] if s["stages"]]
    if not measured:
        return []
    largest = max(measured, key=lambda s: s["scale"])
    out = []
    for stage, figure, limit, text in TARGETS:
        value = largest["stages"].get(stage, {}).get(figure)
        out.append({"target": text, "stage": stage, "figure": figure, "at_most": limit, "scale": largest["scale"],
                    "touch_events": largest["touch_events"], "measured": value,
                    "met": None if value is None else value <= limit})
    return out


def _n(value, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.{digits}f}"
    return f"{int(value):,}"


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, DuckDB {m['duckdb']} "
        f"(load average at the end {m['load_average'][0]}). Command: `{results['command']}`; "
        f"medians of {results['runs']} run(s), each stage in its own process; peak memory and CPU time "
        "(user + system) of the whole process tree. Rows: landing rows (generation, ingestion, whole run), raw "
        "rows (dbt), rows of the audited relations (checks), rows published (publish), rows of the new day (daily).",
        "",
    ]
    for scale in results["scales"]:
        lines += [
            f"Scale {scale['scale']:g}: {scale['touch_events']:,} touch events, {scale['landing_rows']:,} landing rows.",
            "",
            "| stage | pipeline s | DuckDB-only s | ratio | CPU s | DuckDB-only CPU s | CPU ratio "
            "| peak MB | DuckDB-only peak MB | memory ratio | rows | rows/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for stage, label in LABELS.items():
            f = scale["stages"].get(stage)
            if f is None:
                lines.append(f"| {label} | not run |" + " |" * 10)
                continue
            lines.append(
                f"| {label} | {_n(f['seconds'])} | {_n(f.get('duckdb_only_seconds'))} | {_n(f.get('ratio'))} | "
                f"{_n(f.get('cpu_seconds'))} | {_n(f.get('duckdb_only_cpu_seconds'))} | {_n(f.get('cpu_ratio'))} | "
                f"{_n(f['peak_rss_mb'])} | {_n(f.get('duckdb_only_peak_rss_mb'))} | {_n(f.get('memory_ratio'))} | "
                f"{_n(f['rows'])} | {_n(f.get('rows_per_second'))} |"
            )
        checks, daily = scale["stages"].get("checks"), scale["stages"].get("daily")
        notes = [_parts(label, scale["stages"][stage]) for stage, label in
                 (("whole", "whole Dagster run (last run)"), ("daily", "daily run (last run)")) if stage in scale["stages"]]
        if "whole" in scale["stages"]:
            parts = scale["stages"]["whole"]["duckdb_only_parts_seconds"]
            notes.append("DuckDB-only run: " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()))
        if checks:
            notes.append(f"GX validation alone (imports excluded): {checks['validation_seconds']} s against "
                         f"{checks['duckdb_only_validation_seconds']} s, ratio {checks['validation_ratio']}")
        if daily:
            notes.append(f"daily run: {daily['share_of_whole']:.1%} of the whole run; generating the day "
                         f"{daily['generation_seconds']} s")
        lines += [""] + [f"- {n}" for n in notes] + ([""] if notes else [])
    if results.get("targets"):
        lines += ["| target (issue 9) | at most | measured | met |", "|---|---:|---:|---|"]
        for t in results["targets"]:
            met = "not measured" if t["met"] is None else ("yes" if t["met"] else "**no**")
            lines.append(f"| {t['target']} (scale {t['scale']:g}) | {t['at_most']:g} | {_n(t['measured'], 3)} | {met} |")
    return "\n".join(lines) + "\n"


def _parts(label: str, figures: dict) -> str:
    parts = figures["parts_seconds"]
    steps = sorted(parts["steps"].items(), key=lambda kv: -kv[1])
    return (f"{label}: imports {parts['import']} s, definitions {parts['definitions']} s, run {parts['run']} s; "
            "longest steps " + ", ".join(f"{k} {v} s" for k, v in steps[:4]))


def keep_in_readme(readme: Path, table: str, markers: tuple[str, str] = (BEGIN, END),
                   heading: str = "The whole pipeline (`make bench`, issue 9)") -> None:
    """Replace the marked section of the README with the new figures (append it the first time)."""
    begin, end = markers
    text = readme.read_text() if readme.exists() else "# Latest figures\n"
    section = f"{begin}\n{table}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + section + "\n"
    readme.write_text(text)
