"""The funnel against the generator's ground truth.

Generates a company, ingests it, runs `dbt build` over the funnel (staging -> identity ->
intermediate/funnel -> fct_stage_transitions, fct_leads, with their tests), then compares
the persons reaching each funnel stage per month with funnel_counts_monthly.csv: a person
counts once per stage, in the month of its first entry into the stage (the truth counts
the same way; a customer who renews twice is one renewed person, in the month of the first
renewal). The comparison is printed (`pytest -s` shows it).

Every stage of the governed funnel (seed funnel_stages) must equal the truth in every
month. The evidence for each stage is the governed mapping (seed source_stage_values),
e.g. visitor is the first Segment page call of an anonymous id, renewed a Stripe
subscription_cycle invoice after the first paid period; the truth's visitors are every
person who visited, identified or not, and so are the warehouse's (an anonymous id that
never identifies stays a person of its own).

The company is generated with the default mess except `unknown_stage = 0`: unknown stage
values are an error by design (the test every_stage_value_is_mapped fails the build and
names them; tests/test_thin_path.py proves it), so a company that carries them cannot
build. Every other kind of mess stays on: email variants, duplicates and merges,
soft-deleted records (their history still counts: the identity map keeps their person),
late and out-of-order rows, timezone offsets, nulls, malformed rows.

Known limits, not met by this company (the test would name them if they were): a stage
whose only evidence row was quarantined as malformed, or arrived after the last export
day, cannot be seen by the warehouse. KNOWN_GAPS lists such differences, with the reason,
when a company has them; it is empty for this one. Seen on other companies (scale 1.0,
seed 42): sal 2026-06 one short (the hs_lead_status CONNECTED row of the accepted person
is a malformed line, quarantined, and the Salesforce lead status moved on to Closed -
Converted before the export); lead 2026-01 one over (a competitor whose Salesforce
account lost its website to null_optional and whose HubSpot company was soft-deleted,
so nothing ties the person to the account typed Competitor). Seeds 7 and 11 at scale
0.3 are exact in every month, like this one.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from orchestration.sources.mess import MessConfig
from tests.conftest import build_company

SCALE = 0.3
SEED = 42
# the governed funnel, read from its seed (the one place it is defined)
with open(Path(__file__).parents[1] / "seeds" / "funnel_stages.csv", newline="") as _fh:
    STAGES = [r["funnel_stage"] for r in sorted(csv.DictReader(_fh), key=lambda r: int(r["stage_order"]))]

# (stage, month) -> (truth, warehouse, reason): differences that the data cannot resolve.
KNOWN_GAPS: dict[tuple[str, str], tuple[int, int, str]] = {}


@pytest.fixture(scope="module")
def funnel(tmp_path_factory):
    root = tmp_path_factory.mktemp("funnel")
    mess = dataclasses.replace(MessConfig(), unknown_stage=0.0)
    # the funnel and its upstream
    settings = build_company(
        root, scale=SCALE, seed=SEED, mess=mess,
        select=["+fct_stage_transitions", "+fct_leads", "+dim_person", "+dim_account"],
    )
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    yield settings, con
    con.close()


def _truth_counts(truth_dir) -> Counter:
    counts = Counter()
    with open(truth_dir / "funnel_counts_monthly.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            counts[(row["month"][:7], row["funnel_stage"])] = int(row["persons"])
    return counts


def _warehouse_counts(con) -> Counter:
    rows = con.execute(
        """
        with first_entries as (
            select person_id, to_stage, min(transitioned_at) as first_entered_at
            from marts.fct_stage_transitions
            where entity_type = 'person'
            group by person_id, to_stage
        )
        select strftime(date_trunc('month', first_entered_at), '%Y-%m'), to_stage, count(*)
        from first_entries
        group by 1, 2
        """
    ).fetchall()
    return Counter({(month, stage): n for month, stage, n in rows})


@pytest.fixture(scope="module")
def comparison(funnel):
    settings, con = funnel
    truth, warehouse = _truth_counts(settings.truth_dir), _warehouse_counts(con)
    months = sorted({m for m, _ in truth} | {m for m, _ in warehouse})
    out = {"_truth_stages": {s for _, s in truth}}
    print(f"\npersons reaching each stage per month: truth vs warehouse (scale {SCALE}, seed {SEED})")
    print(f"{'stage':12s} {'truth':>6s} {'wh':>6s}  months that differ (month truth/wh)")
    for stage in STAGES:
        per_month = {m: (truth[(m, stage)], warehouse[(m, stage)]) for m in months}
        diff = {m: tw for m, tw in per_month.items() if tw[0] != tw[1]}
        total_t = sum(t for t, _ in per_month.values())
        total_w = sum(w for _, w in per_month.values())
        out[stage] = (total_t, total_w, diff)
        shown = " ".join(f"{m} {t}/{w}" for m, (t, w) in diff.items())
        print(f"{stage:12s} {total_t:6d} {total_w:6d}  {'exact' if not diff else shown}")
    return out


def test_the_truth_has_no_stage_outside_the_governed_funnel(comparison):
    assert comparison["_truth_stages"] <= set(STAGES)


def test_every_stage_equals_the_truth_in_every_month(comparison):
    unexplained = {}
    for stage in STAGES:
        _, _, diff = comparison[stage]
        for month, (t, w) in diff.items():
            gap = KNOWN_GAPS.get((stage, month))
            if gap is None or gap[:2] != (t, w):
                unexplained[(stage, month)] = (t, w)
    assert unexplained == {}, f"(stage, month): (truth, warehouse) that differ: {unexplained}"
    # and every known gap is still there (else it is stale: remove it)
    for key, (t, w, reason) in KNOWN_GAPS.items():
        stage, month = key
        assert comparison[stage][2].get(month) == (t, w), f"stale known gap {key}: {reason}"


@pytest.mark.parametrize("stage", STAGES)
def test_the_company_reaches_every_stage(comparison, stage):
    # a stage the company never reaches would make its exactness prove nothing
    assert comparison[stage][0] > 0, f"the generated company has no {stage} entries"


def test_visitors_include_persons_who_never_identified(funnel):
    """The truth counts every visitor, identified or not: so does the warehouse, through the
    persons that are only an anonymous Segment id."""
    _, con = funnel
    anonymous_only, = con.execute(
        """
        select count(distinct transitions.person_id)
        from marts.fct_stage_transitions as transitions
        where transitions.entity_type = 'person' and transitions.to_stage = 'visitor'
          and not exists (
              select 1 from intermediate.int_person_identity_map as m
              where m.person_id = transitions.person_id
                and not (m.source_system = 'segment' and m.source_table = 'anonymous_id'))
        """
    ).fetchall()[0]
    assert anonymous_only > 0


def test_fct_leads_has_one_row_per_lead_under_the_current_definition(funnel):
    _, con = funnel
    leads, persons, versions, raw = con.execute(
        """
        select count(*), count(distinct person_id), count(distinct definition_version),
               count(*) filter (where lead_email_hash like '%@%')
        from marts.fct_leads
        """
    ).fetchall()[0]
    assert leads > 0 and leads == persons and versions == 1 and raw == 0
    # every handed-over MQL has an outcome or is flagged overdue once its SLA passed
    stuck = con.execute(
        """
        select count(*) from marts.fct_leads
        where is_handed_over and handover_outcome is null and not is_decision_overdue
          and handover_started_at < scored_as_of - interval 7 day
        """
    ).fetchall()[0][0]
    assert stuck == 0
