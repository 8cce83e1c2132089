"""The channel mapping lives in one place, the seed channels, and nothing restates it.

Static checks, no warehouse: the seed is consistent (one is_internal flag per channel, an
internal channel to leave out of attribution, unique keys), and no model SQL or test maps a
source value to a channel, names a channel as a literal or compares a channel with one (the
way the mapping used to live in `case` expressions of fct_opportunities and int_touchpoints
and the internal marker in int_attribution_touches, int_person_first_touches and
tests/test_analyst_marts.py). The behaviour of the joins is covered by the dbt unit tests
int_touchpoints_channels_come_from_the_seed and
fct_opportunities_person_of_a_soft_deleted_converted_lead. Each check is fed a bad input
too, so that it can fail.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "channels.csv"
MODELS = REPO / "dbt_project" / "models"
KEY = ("source_system", "source_object", "source_field", "match_type", "source_value")


def seed_rows() -> list[dict]:
    with open(SEED, newline="") as fh:
        return list(csv.DictReader(fh))


def seed_problems(rows: list[dict]) -> list[str]:
    problems = []
    flags = defaultdict(set)
    for r in rows:
        flags[r["channel"]].add(r["is_internal"])
    problems += [f"channel {c!r} has is_internal {sorted(f)}" for c, f in flags.items() if len(f) != 1]
    if not any("true" in f for f in flags.values()):
        problems.append("no channel is flagged is_internal")
    keys = [tuple(r[k] for k in KEY) for r in rows]
    problems += [f"duplicate key {k}" for k in {k for k in keys if keys.count(k) > 1}]
    return problems


def literal_problems(sql: str, rows: list[dict]) -> list[str]:
    """Channel names used as literals, and mapped source values, in one SQL text."""
    channels = {r["channel"] for r in rows}
    # values the seed maps that mean nothing else in the models (utm_medium values such as
    # 'email' also key campaigns, and HubSpot event types define touch kinds)
    mapped_values = {r["source_value"] for r in rows
                     if (r["source_field"], r["match_type"]) in {("lead_source", "equals"), ("referrer", "contains")}}
    problems = []
    for channel in channels:
        c = re.escape(channel)
        for pattern in (
            # a case expression that yields the channel as a literal
            rf"\bcase\b(?:(?!\bend\b).)*?then\s+'{c}'(?:(?!\bend\b).)*?\bend\s+as\s+\w*channel\b",
            rf"'{c}'\s+as\s+\w*channel\b",
            rf"channel\s*(?:=|!=|<>)\s*'{c}'",
            rf"channel\s+(?:not\s+)?in\s*\([^)]*'{c}'",
        ):
            problems += [f"channel literal {channel!r}: {m.group(0)[:80]!r}"
                         for m in re.finditer(pattern, sql, re.IGNORECASE | re.DOTALL)]
    for value in mapped_values:
        problems += [f"mapped source value: {value!r}" for _ in re.finditer(rf"'%?{re.escape(value)}%?'", sql)]
    return problems


def test_the_seed_is_consistent():
    rows = seed_rows()
    assert rows and seed_problems(rows) == []


def test_the_seed_check_catches_a_second_internal_flag_and_a_duplicate():
    rows = seed_rows()
    internal = next(r for r in rows if r["is_internal"] == "true")
    bad = rows + [{**internal, "is_internal": "false", "source_value": internal["source_value"] + "_x"}, dict(rows[0])]
    problems = seed_problems(bad)
    assert any("has is_internal" in p for p in problems) and any("duplicate key" in p for p in problems)


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.sql")), ids=lambda p: str(p.relative_to(MODELS)))
def test_no_model_restates_a_channel(path):
    assert literal_problems(path.read_text(), seed_rows()) == []


def test_the_literal_check_catches_the_old_case_expressions():
    rows = seed_rows()
    internal = next(r["channel"] for r in rows if r["is_internal"] == "true")
    lead_source = next(r for r in rows if r["source_field"] == "lead_source")
    old = f"""
        case opportunity_lead_source
            when '{lead_source['source_value']}' then '{lead_source['channel']}'
            else lower(opportunity_lead_source)
        end as opportunity_channel,
        '{internal}' as channel
        where touchpoints.channel != '{internal}'
    """
    problems = literal_problems(old, rows)
    # the case expression (its channel and its source value), the literal channel, the comparison
    assert len(problems) == 4, problems
    # a stage or exclusion reason that happens to share a channel's name is not a channel
    assert literal_problems(f"case when excluded then '{internal}' end as not_lead_reason", rows) == []


def test_the_analyst_mart_tests_read_the_internal_channel_from_the_seed():
    text = (REPO / "tests" / "test_analyst_marts.py").read_text()
    assert "from governance.channels where is_internal" in text
    internal = {r["channel"] for r in seed_rows() if r["is_internal"] == "true"}
    for channel in internal:
        assert not re.search(rf"""channel"\]\s*(?:==|!=)\s*["']{re.escape(channel)}["']""", text)
