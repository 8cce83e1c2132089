"""Opportunities, revenue, touchpoints and the dimensions against the generator's truth.

Generates a company (default mess), ingests it, runs `dbt build` over fct_opportunities,
fct_revenue, fct_touchpoints, dim_campaign, dim_date, dim_phase and their parents (with all
their tests, among them the ARR identity on every fct_revenue row), then compares with the
truth what the evidence allows, printing each comparison (`pytest -s` shows them):
  - won and lost opportunities and when they closed (opportunity_stage_timeline.parquet);
  - bookings: fct_revenue = closed-won amounts of the CRM (the truth holds no amounts);
  - subscriptions that started paying, expanded, renewed and churned per month, against the
    person timeline's active / expanded / renewed / churned entries;
  - ARR movements add up month over month; the seven phases with both names.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from tests.conftest import build_company

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SELECT = [
    "+fct_opportunities", "+fct_revenue", "+fct_touchpoints", "+dim_campaign", "+dim_date", "+dim_phase",
    "+fct_attribution", "+int_attribution_weight_sums",
    # parents' relationship tests point at these
    "+dim_person", "+dim_account", "goals",
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("revenue")
    settings = build_company(root, scale=0.15, seed=42, select=SELECT)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    for name in ("opportunity_stage_timeline", "person_stage_timeline"):
        path = str(settings.truth_dir / f"{name}.parquet").replace("'", "''")
        con.execute(f"create temp view truth_{name} as select * from read_parquet('{path}')")
    yield con
    con.close()


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_won_and_lost_opportunities_equal_the_truth(warehouse):
    con = warehouse
    for outcome, stage in (("won", "Closed Won"), ("lost", "Closed Lost")):
        truth = dict(_rows(con, f"""
            select opportunity_id, min(entered_at) from truth_opportunity_stage_timeline
            where stage_name = '{stage}' group by 1"""))
        mart = dict(_rows(con, f"""
            select opportunity_id, cast({outcome}_at as timestamptz) from marts.fct_opportunities
            where is_{outcome}"""))
        late = [o for o in truth if o in mart and abs((mart[o] - truth[o]).total_seconds()) > 1]
        print(f"\n{outcome} opportunities: truth {len(truth)}, mart {len(mart)}, "
              f"in both {len(truth.keys() & mart.keys())}, close time differs {len(late)}")
        assert truth.keys() == mart.keys(), (sorted(truth.keys() - mart.keys()), sorted(mart.keys() - truth.keys()))
        assert not late, late[:5]


def test_bookings_reconcile_with_crm_closed_won(warehouse):
    con = warehouse
    crm, crm_deals = _rows(con, """
        select sum(opportunity_amount), count(*) from staging.stg_salesforce__opportunities where is_won""")[0]
    opps, = _rows(con, "select sum(won_amount) from marts.fct_opportunities")[0]
    booked, deals = _rows(con, "select sum(bookings_amount), sum(won_deal_count) from marts.fct_revenue")[0]
    print(f"\nbookings: CRM closed-won {crm} ({crm_deals} deals), fct_opportunities {opps}, fct_revenue {booked} ({deals} deals)")
    assert float(crm) == float(opps) == float(booked)
    assert crm_deals == deals


def test_subscription_movements_per_month_equal_the_truth(warehouse):
    con = warehouse
    mart = {
        (movement, str(month)): n
        for month, movement, n in _rows(con, """
            unpivot (
                select revenue_month,
                    sum(new_subscription_count) as active, sum(expansion_count) as expanded,
                    sum(renewal_count) as renewed, sum(churn_count) as churned
                from marts.fct_revenue group by revenue_month
            ) on active, expanded, renewed, churned into name movement value n""")
        if n
    }
    truth = {
        (stage, str(month)): n
        for stage, month, n in _rows(con, """
            select funnel_stage, cast(date_trunc('month', entered_at) as date), count(*)
            from truth_person_stage_timeline
            where funnel_stage in ('active', 'expanded', 'renewed', 'churned')
                and entered_at <= (select max(arr_event_at) from intermediate.int_subscription_arr_events)
            group by all""")
    }
    for stage in ("active", "expanded", "renewed", "churned"):
        t = sum(n for (s, _), n in truth.items() if s == stage)
        m = sum(n for (s, _), n in mart.items() if s == stage)
        print(f"\n{stage}: truth {t}, fct_revenue {m}", end="")
    diff = {k: (truth.get(k, 0), mart.get(k, 0)) for k in truth.keys() | mart.keys() if truth.get(k, 0) != mart.get(k, 0)}
    print(f"\nmonths that differ (truth, mart): {diff}")
    assert not diff


def test_arr_movements_add_up(warehouse):
    con = warehouse
    unbalanced, broken_chain = _rows(con, """
        select
            count(*) filter (where abs(opening_arr + new_arr + expansion_arr - contraction_arr - churned_arr - closing_arr) >= 0.01),
            count(*) filter (where abs(opening_arr - coalesce(previous_closing, 0)) >= 0.01)
        from (select *, lag(closing_arr) over (partition by account_id order by revenue_month) as previous_closing
              from marts.fct_revenue)""")[0]
    total = _rows(con, """
        select sum(new_arr), sum(expansion_arr), sum(contraction_arr), sum(churned_arr),
               sum(closing_arr) filter (where revenue_month = (select max(revenue_month) from marts.fct_revenue))
        from marts.fct_revenue""")[0]
    print(f"\nARR: new {total[0]}, expansion {total[1]}, contraction {total[2]}, churn {total[3]}, closing {total[4]}")
    assert unbalanced == 0 and broken_chain == 0
    assert abs(float(total[0] + total[1] - total[2] - total[3] - total[4])) < 0.01 * max(1, len(total))


def test_every_phase_has_both_names(warehouse):
    with open(SEEDS / "phases.csv") as fh:
        seed = {int(r["phase_number"]): (r["buying_phase"], r["marketing_phase"]) for r in csv.DictReader(fh)}
    mart = {n: (b, m) for n, b, m in _rows(warehouse, "select phase_number, buying_phase, marketing_phase from marts.dim_phase")}
    print(f"\ndim_phase: {mart}")
    assert sorted(mart) == list(range(1, 8))
    assert mart == seed
    assert all(b and m for b, m in mart.values())


def test_touchpoints_have_a_phase_and_a_person(warehouse):
    rows = _rows(warehouse, """
        select touch_kind, phase_number, count(*), count(person_id), count(account_id), count(campaign_key)
        from marts.fct_touchpoints group by all order by 1""")
    print("\ntouchpoints (kind, phase, rows, with person, with account, with campaign):")
    for r in rows:
        print("  ", r)
    assert rows and all(r[1] is not None for r in rows)
    total, with_person = sum(r[2] for r in rows), sum(r[3] for r in rows)
    assert with_person / total > 0.95


def test_expansion_arr_equals_the_generators_proration(warehouse):
    """A mid-term expansion is valued at the new seat count times the plan's ARR per seat (read
    off subscriptions that never changed seats). The generator bills an expansion as half a
    term of the added seats, so its true ARR change is amount * 2 * 12 / term_months."""
    rows = _rows(warehouse, """
        select e.subscription_id, e.arr_change, i.invoice_amount_due / 100.0 * 2 * 12 / e.term_months
        from intermediate.int_subscription_arr_events as e
        inner join staging.stg_stripe__invoices as i on i.invoice_id = e.arr_event_source_id
        where e.arr_event_type = 'update'""")
    print(f"\nexpansions (subscription, ARR change, true ARR change): {rows}")
    assert all(abs(float(ours) - float(true)) < 0.01 for _, ours, true in rows)


def test_attribution_weights_sum_to_one(warehouse):
    con = warehouse
    models = ("first_touch", "last_touch", "linear", "u_shaped", "w_shaped", "time_decay")
    worst = _rows(con, "select " + ", ".join(
        f"max(abs({m}_sum - 1))" for m in models) + " from (select opportunity_id, " + ", ".join(
        f"sum({m}_weight) as {m}_sum" for m in models) + " from marts.fct_attribution group by opportunity_id)")[0]
    attributed, won_attributed, with_person = _rows(con, """
        select count(distinct a.opportunity_id), count(distinct a.opportunity_id) filter (where a.is_won),
            (select count(*) from marts.fct_opportunities where person_id is not null)
        from marts.fct_attribution as a""")[0]
    print(f"\nattribution: {attributed} opportunities attributed ({won_attributed} won) of {with_person} with a "
          f"contact person; worst |sum - 1| per model: {dict(zip(models, worst))}")
    assert attributed > 0
    assert all(w is not None and float(w) < 1e-9 for w in worst)
