"""The dbt SQL stays portable: no DuckDB-only (or Postgres-only) syntax outside the
adapter-specific implementations of a dispatched macro (`duckdb__x`, `spark__x`, ...).

Postgres and Spark targets must later run the same models, so the models use dbt's
cross-database macros (dbt.dateadd, dbt.datediff, dbt.type_*, dbt.split_part, ...) and the
project's own dispatched macros. The scan reads the raw SQL (Jinja and SQL comments
removed), so it needs no warehouse; each rule is shown to catch a bad line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SQL_DIRS = ["dbt_project/models", "dbt_project/macros", "dbt_project/tests", "dbt_project/analyses"]
ADAPTERS = ("duckdb", "postgres", "spark", "databricks", "snowflake", "bigquery", "redshift", "default")

# (rule, pattern, what to use instead)
RULES = [
    ("double-colon cast", r"::", "cast(x as {{ dbt.type_... }})"),
    ("qualify", r"\bqualify\b", "a ranked CTE and a where clause"),
    ("ilike", r"\bilike\b", "lower(x) like ..."),
    ("regexp function", r"\bregexp_\w+\s*\(", "a dispatched macro"),
    ("strftime/strptime", r"\bstr[fp]time\s*\(", "dbt.date_trunc / cast / a dispatched macro"),
    ("epoch function", r"\bepoch(_ms|_us)?\s*\(", "dbt.datediff from 1970-01-01 / dbt.dateadd"),
    ("interval literal", r"\binterval\b", "dbt.dateadd"),
    ("list/struct function", r"\b(list_\w+|struct_pack|list_value|array_agg|string_agg)\s*\(", "dbt.listagg / a dispatched macro"),
    ("filter clause", r"\bfilter\s*\(\s*where\b", "sum(case when ... then 1 else 0 end)"),
    ("try_cast", r"\btry_cast\s*\(", "dbt.safe_cast"),
    ("DuckDB-only select", r"\b(group|order)\s+by\s+all\b|\*\s*(exclude|replace)\s*\(|\bcolumns\s*\(", "explicit columns"),
    ("unnest", r"\bunnest\s*\(", "a dispatched macro"),
    ("engine type name", r"\bas\s+(varchar|double|text|string|hugeint|ubigint|json|blob|float8|int8)\s*\)", "{{ dbt.type_string() }}, {{ dbt.type_float() }}, ..."),
    ("raw date function", r"(?<![\w.])(date_diff|datediff|dateadd|date_add|date_sub|date_trunc|last_day)\s*\(", "dbt.datediff / dbt.dateadd / dbt.date_trunc / dbt.last_day"),
    ("raw cross-database function", r"(?<![\w.])(split_part|generate_series|any_value|bool_or|listagg|md5)\s*\(", "the dbt.* macro of the same name (dbt.hash for md5)"),
]


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"\{#.*?#\}", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def _without_adapter_macros(sql: str) -> str:
    """Drop the bodies of adapter-specific macros (`{% macro duckdb__x(...) %} ... {% endmacro %}`)."""
    adapters = "|".join(ADAPTERS)
    pattern = rf"\{{%-?\s*macro\s+({adapters})__\w+\s*\(.*?\{{%-?\s*endmacro\s*-?%\}}"
    return re.sub(pattern, " ", sql, flags=re.S | re.I)


def findings(sql: str) -> list[tuple[str, int, str]]:
    """(rule, line number, line) of every non-portable construct in one SQL file's text."""
    clean = _without_adapter_macros(_strip_comments(sql))
    found = []
    for number, line in enumerate(clean.splitlines(), start=1):
        for rule, pattern, _ in RULES:
            if re.search(pattern, line, flags=re.I):
                found.append((rule, number, line.strip()))
    return found


def _sql_files() -> list[Path]:
    return sorted(p for d in SQL_DIRS if (REPO / d).exists() for p in (REPO / d).rglob("*.sql"))


def test_project_sql_is_portable():
    problems = []
    for path in _sql_files():
        for rule, number, line in findings(path.read_text()):
            hint = next(h for r, _, h in RULES if r == rule)
            problems.append(f"{path.relative_to(REPO)}:{number}: {rule} ({line!r}); use {hint}")
    print(f"\n{len(_sql_files())} SQL files scanned, {len(problems)} non-portable constructs")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "line, rule",
    [
        ("select amount::double from t", "double-colon cast"),
        ("select * from t qualify row_number() over (partition by id) = 1", "qualify"),
        ("where email ilike '%@acme.com'", "ilike"),
        ("select regexp_replace(x, 'a', 'b')", "regexp function"),
        ("select strftime(ts, '%Y')", "strftime/strptime"),
        ("select epoch(ts)", "epoch function"),
        ("select ts + interval 1 day", "interval literal"),
        ("select list_agg(x), string_agg(x, ',')", "list/struct function"),
        ("select count(*) filter (where x)", "filter clause"),
        ("select try_cast(x as integer)", "try_cast"),
        ("select * exclude (x) from t", "DuckDB-only select"),
        ("select cast(x as varchar) from t", "engine type name"),
        ("select date_diff('day', a, b)", "raw date function"),
        ("select split_part(x, '/', 3)", "raw cross-database function"),
    ],
)
def test_each_rule_catches_its_construct(line, rule):
    assert rule in [r for r, _, _ in findings(line)]


def test_portable_and_adapter_specific_sql_pass():
    sql = """
    {# a Jinja comment may say interval or ::, and so may -- a SQL comment: qualify #}
    select {{ dbt.datediff('a', 'b', 'day') }}, {{ dbt.split_part('x', "'/'", 3) }},
        cast(x as {{ dbt.type_string() }}), {{ dbt.safe_cast('y', dbt.type_int()) }}
    from t -- ilike
    {% macro duckdb__parse(column) -%} try_cast({{ column }} as timestamptz)::timestamp {%- endmacro %}
    """
    assert findings(sql) == []


POSTGRES_MAX_IDENTIFIER = 63  # NAMEDATALEN - 1: Postgres refuses longer relation names


def long_relation_names(manifest: dict) -> list[str]:
    """Names dbt creates relations under (models, seeds, unit tests' temporary tables)
    that Postgres would refuse."""
    names = [node.get("alias") or node["name"] for node in manifest["nodes"].values() if node["resource_type"] != "test"]
    names += [unit_test["name"] for unit_test in manifest.get("unit_tests", {}).values()]
    return sorted(name for name in names if len(name) > POSTGRES_MAX_IDENTIFIER)


def test_relation_names_fit_postgres(dbt_manifest):
    import json

    assert long_relation_names(json.loads(Path(dbt_manifest).read_text())) == []
    too_long = {"unit_tests": {"u": {"name": "x" * 64}}, "nodes": {"m": {"resource_type": "model", "name": "ok"}}}
    assert long_relation_names(too_long) == ["x" * 64]
