"""The analyst marts against independent recomputations from the conformed facts.

One small company is generated, ingested and built up to the analyst marts
(dbt_project/models/marts/analytics/) with all their tests. Each mart is then recomputed
here in Python from the facts it summarizes (fct_stage_transitions, fct_touchpoints,
fct_opportunities, fct_revenue, the ad spend) and the governed seeds as loaded in the
warehouse, and must match row for row: a join that duplicates or drops rows changes a
count and fails. The last test feeds bad rows (a goal for a metric nobody computes, a goal
filed under the wrong phase, a duplicated row) and requires the models' dbt tests to fail.

The company is generated with the default mess except `unknown_stage = 0` (unknown stage
values stop the build by design; tests/test_thin_path.py covers that).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections import Counter, defaultdict

import duckdb
import numpy as np
import pytest

from orchestration.sources.mess import MessConfig
from tests.conftest import build_company

SCALE = 0.1
ANALYST_MARTS = [
    "fct_stage_conversion",
    "fct_stage_durations",
    "fct_time_in_stage",
    "fct_time_in_stage_monthly",
    "fct_pipeline_by_source",
    "fct_cost_per_stage",
    "fct_metric_actuals",
    "fct_goals_vs_actuals",
]
# numeric(28,6) columns are compared with what Python computes in floating point
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyst_marts")
    mess = dataclasses.replace(MessConfig(), unknown_stage=0.0)
    # dim_campaign too, so that the relationships test of fct_cost_per_stage runs, and the
    # touchpoints the first touches are recomputed from
    select = [f"+{model}" for model in ANALYST_MARTS] + ["+dim_campaign", "+fct_touchpoints"]
    settings = build_company(root, scale=SCALE, seed=11, mess=mess, select=select)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield root, settings, con
    con.close()


def rows(con, sql: str) -> list[dict]:
    result = con.execute(sql)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def month_of(value) -> dt.date:
    return dt.date(value.year, value.month, 1)


# ---------------------------------------------------------------- independent inputs

@pytest.fixture(scope="module")
def seed_stages(company):
    _, _, con = company
    return [r["funnel_stage"] for r in rows(con, "select funnel_stage from governance.funnel_stages order by stage_order")]


@pytest.fixture(scope="module")
def next_stages(company):
    """stage -> the stage it converts to, as the seed funnel_stages says (exit stages: none)."""
    _, _, con = company
    return {r["funnel_stage"]: r["next_stage"] for r in rows(
        con, "select funnel_stage, next_stage from governance.funnel_stages where next_stage is not null")}


@pytest.fixture(scope="module")
def internal_channels(company):
    """The channels the seed channels flags as our own site's navigation (not marketing)."""
    _, _, con = company
    return {r["channel"] for r in rows(con, "select channel from governance.channels where is_internal")}


@pytest.fixture(scope="module")
def transitions(company):
    _, _, con = company
    return rows(con, """
        select entity_type, entity_id, person_id, to_stage, stage_order, transitioned_at
        from marts.fct_stage_transitions
    """)


@pytest.fixture(scope="module")
def first_touches(company, internal_channels):
    """person -> (channel, campaign_key) of the earliest marketing touch, recomputed from
    fct_touchpoints and the phase owners of dim_phase (the rule attribution uses: a touch
    in a marketing-owned phase, not a page view continued from our own site)."""
    _, _, con = company
    owners = {r["phase_number"]: r["phase_owner"] for r in rows(con, "select phase_number, phase_owner from marts.dim_phase")}
    best: dict[str, tuple] = {}
    for t in rows(con, "select touchpoint_id, person_id, channel, campaign_key, phase_number, occurred_at from marts.fct_touchpoints"):
        if t["person_id"] is None or t["channel"] in internal_channels or owners.get(t["phase_number"]) != "marketing":
            continue
        key = (t["occurred_at"], t["touchpoint_id"])
        if t["person_id"] not in best or key < best[t["person_id"]][0]:
            best[t["person_id"]] = (key, t["channel"], t["campaign_key"])
    return {person: (channel, campaign) for person, (_, channel, campaign) in best.items()}


# ---------------------------------------------------------------- conversion

def recount_conversion(transitions, next_stage, first_touches) -> dict:
    """(entity type, from-stage, cohort month, channel) -> (entered, converted): the cohort is
    the month of an entity's first entry into the from-stage; it converted when it entered
    the from-stage's next_stage of the seed at or after that entry."""
    entries = defaultdict(list)
    person = {}
    for t in transitions:
        entries[(t["entity_type"], t["entity_id"], t["to_stage"])].append(t["transitioned_at"])
        person[(t["entity_type"], t["entity_id"])] = t["person_id"]
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (entity_type, entity_id, stage), times in entries.items():
        to_stage = next_stage.get(stage)
        if to_stage is None:
            continue
        first = min(times)
        channel = first_touches.get(person[(entity_type, entity_id)], ("unknown", None))[0]
        key = (entity_type, stage, month_of(first), channel)
        counts[key][0] += 1
        counts[key][1] += any(later >= first for later in entries.get((entity_type, entity_id, to_stage), []))
    return {key: tuple(value) for key, value in counts.items()}


def mart_conversion(con, relation="marts.fct_stage_conversion") -> dict:
    return {
        (r["entity_type"], r["from_stage"], r["cohort_month"], r["channel"]): (r["entered_count"], r["converted_count"])
        for r in rows(con, f"select * from {relation}")
    }


def test_conversion_counts_equal_a_recount_from_the_transitions(company, transitions, next_stages, first_touches):
    _, _, con = company
    expected = recount_conversion(transitions, next_stages, first_touches)
    actual = mart_conversion(con)
    assert sum(n for n, _ in expected.values()) > 100, "too few stage entries to prove anything"
    assert sum(c for _, c in expected.values()) > 50
    assert len({key[3] for key in expected}) >= 4, "expected several first-touch channels"
    assert actual == expected


def test_conversion_pairs_follow_the_seed_and_rates_are_shares(company, next_stages):
    _, _, con = company
    adjacent = set(next_stages.items())
    result = rows(con, "select * from marts.fct_stage_conversion")
    pairs = {(r["from_stage"], r["to_stage"]) for r in result}
    assert pairs <= adjacent
    # every stage with a next stage that some entity entered has its pair (won -> onboarding too)
    entered = {r["from_stage"] for r in result}
    assert {pair for pair in adjacent if pair[0] in entered} == pairs
    # an exit stage (no next_stage in the seed) never appears as a from-stage
    assert not entered - set(next_stages)
    for r in result:
        assert 0 <= r["converted_count"] <= r["entered_count"]
        assert 0 <= r["conversion_rate"] <= 1
        assert abs(float(r["conversion_rate"]) - r["converted_count"] / r["entered_count"]) < TOLERANCE
        assert (r["median_days_to_convert"] is None) == (r["converted_count"] == 0)


def test_the_recount_catches_a_join_that_duplicates_rows(company, transitions, next_stages, first_touches):
    # the comparison above would fail on a mart whose join fanned out: simulate one (every
    # cohort row joined to a second match) and check that it no longer equals the recount
    _, _, con = company
    fanned_out = """(
        select entity_type, from_stage, cohort_month, channel,
               entered_count * 2 as entered_count, converted_count * 2 as converted_count
        from marts.fct_stage_conversion
    )"""
    assert mart_conversion(con, fanned_out) != recount_conversion(transitions, next_stages, first_touches)


# ---------------------------------------------------------------- time in stage

def recount_durations(transitions) -> list[tuple]:
    by_entity = defaultdict(list)
    for t in transitions:
        by_entity[(t["entity_type"], t["entity_id"])].append(t)
    stays = []
    for entries in by_entity.values():
        entries.sort(key=lambda t: (t["transitioned_at"], t["stage_order"]))
        for entry, following in zip(entries, entries[1:] + [None]):
            days = None if following is None else (following["transitioned_at"] - entry["transitioned_at"]).total_seconds() / 86400
            stays.append((entry["entity_type"], entry["to_stage"], month_of(entry["transitioned_at"]), days))
    return stays


def summarize(stays, key) -> dict:
    groups = defaultdict(list)
    for stay in stays:
        groups[key(stay)].append(stay[3])
    out = {}
    for k, values in groups.items():
        timed = [v for v in values if v is not None]
        out[k] = (
            len(values), len(timed),
            float(np.percentile(timed, 50)) if timed else None,
            float(np.percentile(timed, 90)) if timed else None,
        )
    return out


def close(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(float(a) - b) < TOLERANCE)


@pytest.mark.parametrize("relation,key,key_columns", [
    ("fct_time_in_stage", lambda s: (s[0], s[1]), ("entity_type", "funnel_stage")),
    ("fct_time_in_stage_monthly", lambda s: (s[0], s[1], s[2]), ("entity_type", "funnel_stage", "entered_month")),
])
def test_time_in_stage_equals_percentiles_recomputed_in_python(company, transitions, relation, key, key_columns):
    _, _, con = company
    expected = summarize(recount_durations(transitions), key)
    result = rows(con, f"select * from marts.{relation}")
    assert len(result) == len(expected)
    timed_groups = 0
    for r in result:
        n, exited, median, p90 = expected[tuple(r[c] for c in key_columns)]
        assert (r["entered_count"], r["exited_count"]) == (n, exited)
        assert r["entered_count"] == r["exited_count"] + r["still_in_stage_count"]
        assert close(r["median_days_in_stage"], median) and close(r["p90_days_in_stage"], p90), r
        if r["median_days_in_stage"] is not None:
            timed_groups += 1
            assert r["p90_days_in_stage"] >= r["median_days_in_stage"] >= 0
            assert r["max_days_in_stage"] >= r["p90_days_in_stage"]
    assert timed_groups >= 5


def test_stage_durations_has_one_row_per_transition_and_no_negative_stay(company, transitions):
    _, _, con = company
    (n, negative, open_with_duration), = con.execute("""
        select count(*),
               count(*) filter (where days_in_stage < 0),
               count(*) filter (where is_still_in_stage and days_in_stage is not null)
        from marts.fct_stage_durations
    """).fetchall()
    assert (n, negative, open_with_duration) == (len(transitions), 0, 0)


# ---------------------------------------------------------------- pipeline and bookings

def test_pipeline_by_source_equals_a_recount_of_the_opportunities(company):
    _, _, con = company
    opportunities = rows(con, "select * from marts.fct_opportunities")
    result = {(r["pipeline_month"], r["lead_source"]): r for r in rows(con, "select * from marts.fct_pipeline_by_source")}
    sources = {o["opportunity_lead_source"] or "unknown" for o in opportunities}
    months = sorted({m for m, _ in result})
    # dense: every source in every month between the first and the last opportunity event
    assert set(result) == {(m, s) for m in months for s in sources}
    assert months[0] == min(month_of(o["opportunity_created_at"]) for o in opportunities)
    for (month, source), r in result.items():
        mine = [o for o in opportunities if (o["opportunity_lead_source"] or "unknown") == source]
        month_end = dt.datetime.combine(
            dt.date(month.year + month.month // 12, month.month % 12 + 1, 1), dt.time())
        created = [o for o in mine if month_of(o["opportunity_created_at"]) == month]
        closed = [o for o in mine if o["closed_at"] is not None and month_of(o["closed_at"]) == month]
        won = [o for o in closed if o["is_won"]]
        lost = [o for o in closed if o["is_lost"]]
        still_open = [o for o in mine if o["opportunity_created_at"] < month_end
                      and (o["closed_at"] is None or o["closed_at"] >= month_end)]
        assert (r["created_count"], r["won_count"], r["lost_count"], r["open_count"]) == (
            len(created), len(won), len(lost), len(still_open)), (month, source)
        assert r["created_amount"] == sum(o["opportunity_amount"] or 0 for o in created)
        assert r["bookings_amount"] == sum(o["won_amount"] for o in won)
        assert r["open_amount"] == sum(o["opportunity_amount"] or 0 for o in still_open)
    assert sum(r["won_count"] for r in result.values()) == sum(o["is_won"] for o in opportunities) > 0


def test_bookings_reconcile_with_fct_revenue(company):
    _, _, con = company
    pipeline = dict(con.execute(
        "select pipeline_month, sum(bookings_amount) from marts.fct_pipeline_by_source group by 1").fetchall())
    revenue = dict(con.execute(
        "select revenue_month, sum(bookings_amount) from marts.fct_revenue group by 1 having sum(bookings_amount) > 0").fetchall())
    assert revenue and all(pipeline[month] == amount for month, amount in revenue.items())


# ---------------------------------------------------------------- cost per stage

def test_cost_per_stage_equals_spend_over_first_touch_entries(company, transitions, first_touches, seed_stages):
    _, _, con = company
    spend = Counter()
    for r in rows(con, "select ad_platform, campaign_id, spend_date, spend from staging.stg_ads__campaign_spend"):
        spend[(f"ads:{r['ad_platform']}:{r['campaign_id']}", month_of(r["spend_date"]))] += r["spend"] or 0
    ad_campaigns = {campaign for campaign, _ in spend}
    entered = defaultdict(set)
    for t in transitions:
        campaign = first_touches.get(t["person_id"], (None, None))[1]
        if campaign in ad_campaigns:
            entered[(campaign, month_of(t["transitioned_at"]), t["entity_type"], t["to_stage"])].add(t["entity_id"])
    entries = Counter({key: len(ids) for key, ids in entered.items()})
    result = rows(con, "select * from marts.fct_cost_per_stage")
    entity_types = {t["entity_type"] for t in transitions}
    campaign_months = set(spend) | {(c, m) for c, m, _, _ in entries}
    # one row per campaign month, entity type and seed stage: no fan-out, no gap
    assert Counter((r["campaign_key"], r["cost_month"]) for r in result) == Counter(
        {cm: len(entity_types) * len(seed_stages) for cm in campaign_months})
    assert sum(entries.values()) > 0, "no stage entry came from an ad campaign: the test proves nothing"
    for r in result:
        key = (r["campaign_key"], r["cost_month"])
        # money is exact (numeric from staging on): the sums agree to the cent and beyond
        assert r["spend"] == spend[key], key
        assert r["entered_count"] == entries[(*key, r["entity_type"], r["funnel_stage"])], r
        if r["entered_count"]:
            assert abs(float(r["cost_per_entry"]) - float(r["spend"]) / r["entered_count"]) < TOLERANCE
        else:
            assert r["cost_per_entry"] is None
    # spend counted once per campaign and month: summed over one stage it is the total spend
    (total,), = con.execute(
        "select sum(spend) from marts.fct_cost_per_stage where entity_type = 'person' and funnel_stage = 'mql'").fetchall()
    assert total == sum(spend.values())


# ---------------------------------------------------------------- goals against actuals

def independent_actuals(con, transitions) -> dict:
    """metric -> month -> actual, each computed here from the facts, not from the marts'
    metric layer. A goal metric missing here fails test_every_goal_has_its_actual."""
    def stage_entries(entity_type, stage):
        entered = defaultdict(set)
        for t in transitions:
            if t["entity_type"] == entity_type and t["to_stage"] == stage:
                entered[month_of(t["transitioned_at"])].add(t["entity_id"])
        return Counter({month: len(ids) for month, ids in entered.items()})

    won, bookings = Counter(), Counter()
    for o in rows(con, "select closed_at, won_amount from marts.fct_opportunities where is_won and closed_at is not null"):
        won[month_of(o["closed_at"])] += 1
        bookings[month_of(o["closed_at"])] += o["won_amount"]
    churned = Counter()
    for r in rows(con, "select revenue_month, opening_arr, closing_arr from marts.fct_revenue"):
        churned[r["revenue_month"]] += r["opening_arr"] > 0 and r["closing_arr"] == 0
    return {
        "engaged_persons": stage_entries("person", "engaged"),
        "mqls": stage_entries("person", "mql"),
        "sals": stage_entries("person", "sal"),
        "sqos": stage_entries("opportunity", "sqo"),
        "won_deals": won,
        "bookings_amount": bookings,
        "churned_customers": churned,
    }


def test_every_goal_has_its_actual(company, transitions):
    _, _, con = company
    goals = rows(con, "select goal_month, phase_number, metric, target from governance.goals")
    result = {(r["goal_month"], r["metric"]): r for r in rows(con, "select * from marts.fct_goals_vs_actuals")}
    assert len(result) == len(goals) and set(result) == {(g["goal_month"], g["metric"]) for g in goals}
    expected = independent_actuals(con, transitions)
    assert {g["metric"] for g in goals} <= set(expected)
    nonzero = 0
    for g in goals:
        r = result[(g["goal_month"], g["metric"])]
        actual = expected[g["metric"]][g["goal_month"]]
        assert r["actual_value"] == actual, (g, r["actual_value"], actual)
        assert r["phase_number"] == g["phase_number"] and r["is_phase_consistent"] is True
        assert float(r["target_value"]) == g["target"]
        assert r["variance_value"] == r["actual_value"] - r["target_value"]
        assert r["buying_phase"] and r["marketing_phase"]
        nonzero += actual > 0
    assert nonzero >= len(goals) // 3, "most goal months have no activity: the comparison proves little"


def failing_tests(con, manifest: dict, models: list[str]) -> set[str]:
    """Names of the dbt tests on `models` whose compiled query returns rows (what makes
    `dbt build` fail), run as dbt compiled them in the fixture's build."""
    attached = {f"model.revenue_cycle.{model}" for model in models}
    tests = [n for n in manifest["nodes"].values()
             if n["resource_type"] == "test" and n.get("attached_node") in attached]
    assert len(tests) >= 2 * len(models)
    return {t["name"] for t in tests if con.execute(t["compiled_code"]).fetchall()}


def test_rows_that_break_the_agreements_fail_the_models_tests(company):
    """Feed bad rows and require the models' own dbt tests to fail: a goal for a metric no
    one computes, a goal filed under a phase that is not its metric's (both through the
    goals seed table and a rebuild of fct_goals_vs_actuals from its compiled SQL), and a
    duplicated conversion row (what a fanning-out join would produce).

    The tests run as dbt compiled them for the fixture's build (target/manifest.json) in a
    copy of the warehouse: a second `dbt build` would spend most of the time budget on
    parsing the project again."""
    root, settings, con = company
    manifest = json.loads((root / "dbt_target" / "manifest.json").read_text())
    models = ["fct_goals_vs_actuals", "fct_stage_conversion"]
    assert failing_tests(con, manifest, models) == set()

    broken = root / "broken"
    broken.mkdir()
    # same file name: the compiled SQL names the catalog after it
    warehouse = broken / settings.warehouse_path.name
    shutil.copyfile(settings.warehouse_path, warehouse)
    goals_model = manifest["nodes"]["model.revenue_cycle.fct_goals_vs_actuals"]
    with duckdb.connect(str(warehouse)) as writer:
        writer.execute("""
            insert into governance.goals (goal_month, phase_number, metric, target) values
                (date '2025-07-01', 3, 'made_up_metric', 1),
                (date '2025-01-01', 2, 'mqls', 1)
        """)
        writer.execute(f"create or replace table {goals_model['relation_name']} as {goals_model['compiled_code']}")
        writer.execute("insert into marts.fct_stage_conversion select * from marts.fct_stage_conversion limit 1")
        failed = failing_tests(writer, manifest, models)
        bad = writer.execute("""
            select metric, actual_value is null, is_phase_consistent
            from marts.fct_goals_vs_actuals
            where metric = 'made_up_metric' or goal_month = date '2025-01-01'
            order by metric
        """).fetchall()
    assert bad == [("made_up_metric", True, None), ("mqls", False, False)]
    assert failed == {
        "not_null_fct_goals_vs_actuals_actual_value",
        "accepted_values_fct_goals_vs_actuals_is_phase_consistent__False__True",
        "unique_combination_of_columns_fct_stage_conversion_entity_type__from_stage__cohort_month__channel",
    }
