"""The thin path through every layer: landing CSV -> raw -> staging -> mart -> GX check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from orchestration.checks.suites import run_suite
from orchestration.definitions import build_definitions
from orchestration.materialize import materialize_all
from tests.conftest import BAD_LEAD_INSERT, assert_suite_names_the_bad_lead, copy_fixture_landing, make_settings

GX_CHECK = AssetCheckKey(AssetKey(["marts", "fct_leads"]), "gx_fct_leads")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _add_engagements(landing: Path) -> Path:
    """Give the fixture's two live leads the HubSpot side of their journey, so that they are
    leads under the lead definition (a qualifying engagement): Ann signs up for the
    newsletter, Bob requests a demo (a hand-raiser)."""
    contact = {
        "_fivetran_synced": "2026-06-04T10:00:00Z", "_fivetran_deleted": False,
        "property_company": None, "property_jobtitle": None, "property_phone": None,
        "property_country": None, "property_lifecyclestage": "subscriber",
        "property_hs_lead_status": None, "property_associatedcompanyid": None,
        "property_hs_analytics_source": "ORGANIC_SEARCH", "property_hs_calculated_merged_vids": None,
    }
    contacts = [
        {**contact, "id": 101, "property_email": "ann@acme.com", "property_firstname": "Ann",
         "property_lastname": "Lee", "property_createdate": "2026-05-30T09:00:00Z",
         "property_lastmodifieddate": "2026-05-30T09:00:00Z"},
        {**contact, "id": 102, "property_email": "bob@beta.io", "property_firstname": "Bob",
         "property_lastname": "Ray", "property_createdate": "2026-06-02T09:00:00Z",
         "property_lastmodifieddate": "2026-06-02T09:00:00Z"},
    ]
    forms = [
        {"conversion_id": "c-101", "contact_id": 101, "form_id": "f-newsletter",
         "timestamp": "2026-05-30T09:00:00Z", "page_id": "1", "page_url": "https://example.net/blog",
         "portal_id": 1, "title": "Newsletter signup", "_fivetran_synced": "2026-05-30T10:00:00Z"},
        {"conversion_id": "c-102", "contact_id": 102, "form_id": "f-demo",
         "timestamp": "2026-06-02T09:00:00Z", "page_id": "2", "page_url": "https://example.net/demo",
         "portal_id": 1, "title": "Request a demo", "_fivetran_synced": "2026-06-02T10:00:00Z"},
    ]
    for table, rows in (("contact", contacts), ("contact_form_submission", forms)):
        folder = landing / "hubspot" / table
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "2026-06-30.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return landing


@pytest.fixture(scope="module")
def materialized(tmp_path_factory, dbt_manifest):
    root = tmp_path_factory.mktemp("thin")
    settings = make_settings(root, _add_engagements(copy_fixture_landing(root / "landing")))
    defs = build_definitions(settings)
    with DagsterInstance.ephemeral() as instance:
        result, summary = materialize_all(defs, instance)
        yield settings, defs, result, summary


def test_run_succeeds_with_every_check_passing(materialized):
    _, _, result, summary = materialized
    assert summary.success, summary.failed_steps
    assert summary.checks_failed == []
    assert GX_CHECK.to_user_string() in summary.checks_passed
    # dbt tests arrive as asset checks too
    assert "marts/fct_leads:unique_fct_leads_person_id" in summary.checks_passed


def test_raw_layer_holds_every_exported_row(materialized):
    settings, *_ = materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql("select id, _landing_file from raw_salesforce.lead order by id").fetchall()
    assert rows == [("00Q1", "salesforce/lead/2026-06-30.csv"), ("00Q2", "salesforce/lead/2026-06-30.csv"), ("00Q3", "salesforce/lead/2026-06-30.csv")]


def test_mart_holds_the_expected_rows(materialized):
    settings, *_ = materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select lead_email_hash, funnel_stage, phase_number, funnel_stage_source_value, "
            "strftime(funnel_stage_entered_at, '%Y-%m-%d %H:%M'), is_mql, is_hand_raiser, "
            "handover_outcome, is_decision_sla_met, is_first_touch_overdue, definition_version "
            "from marts.fct_leads order by lead_email_hash"
        ).fetchall()
    # 00Q3 is soft-deleted in the export; the email of 00Q1 is trimmed and lowercased
    # before hashing (and matches Ann's HubSpot contact). A Salesforce lead has no status
    # history: its current status dates from its last modification. Ann's newsletter
    # signup makes her a lead but not an MQL; her Salesforce lead puts her in mql and,
    # untouched for more than the first-touch SLA, overdue. Bob's demo request makes him a
    # hand-raising MQL whom sales accepted (Working - Contacted) within the decision SLA.
    assert rows == sorted([
        (_md5("ann@acme.com"), "mql", 3, "Open - Not Contacted", "2026-06-02 10:00",
         False, False, None, False, True, 1),
        (_md5("bob@beta.io"), "sal", 4, "Working - Contacted", "2026-06-04 10:00",
         True, True, "accepted", True, False, 1),
    ])


def test_mart_exposes_no_raw_email(materialized):
    settings, *_ = materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        columns = [c[0] for c in con.sql("describe marts.fct_leads").fetchall()]
        values = con.sql("select * from marts.fct_leads").fetchall()
    assert "lead_email" not in columns
    assert not any("@" in str(v) for row in values for v in row)


def test_rerun_loads_nothing_twice(materialized, tmp_path):
    settings, defs, *_ = materialized
    make_settings(settings.warehouse_dir.parent, settings.landing_dir)
    with DagsterInstance.ephemeral() as instance:
        _, summary = materialize_all(defs, instance)
    assert summary.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw_salesforce.lead").fetchone()[0] == 3
        assert con.execute("select count(*) from marts.fct_leads").fetchone()[0] == 2


def test_gx_check_fails_on_a_bad_row_and_names_the_value(materialized, tmp_path):
    settings, *_ = materialized
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(settings.warehouse_path.read_bytes())
    with duckdb.connect(str(bad)) as con:
        con.execute(BAD_LEAD_INSERT)
    outcome = run_suite("fct_leads", bad, settings.expectations_dir)
    assert_suite_names_the_bad_lead(outcome)


def test_gx_check_fails_on_a_stage_outside_the_governed_funnel(materialized, tmp_path):
    settings, *_ = materialized
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(settings.warehouse_path.read_bytes())
    with duckdb.connect(str(bad)) as con:
        con.execute(
            "update marts.fct_leads set funnel_stage = 'prospect' "
            "where funnel_stage_source_value = 'Working - Contacted'"
        )
    outcome = run_suite("fct_leads", bad, settings.expectations_dir)
    assert not outcome.success
    # the stage no longer matches the mapping of its source value, and is outside the funnel
    assert [f["type"] for f in outcome.failed] == [
        "unexpected_rows_expectation", "expect_column_values_to_be_in_set"]
    failure = outcome.failed[1]
    assert failure["partial_unexpected_list"] == ["prospect"]
    # the allowed set came from the governed seed, not from the suite file
    assert outcome.parameters["funnel_stages"][0] == "visitor"


def test_unmapped_source_value_fails_the_run_and_names_the_value(tmp_path, dbt_manifest):
    landing = copy_fixture_landing(tmp_path / "landing")
    csv = landing / "salesforce" / "lead" / "2026-06-30.csv"
    header, first = csv.read_text().splitlines()[:2]
    unknown = first.replace("00Q1", "00Q9").replace("Open - Not Contacted", "Nurture - Custom")
    csv.write_text(csv.read_text() + unknown + "\n")
    settings = make_settings(tmp_path, landing)
    with DagsterInstance.ephemeral() as instance:
        _, summary = materialize_all(build_definitions(settings), instance)
    # the governed mapping lacks the value: the run fails before any stage event or mart
    # is built, and the error names the value and its source
    assert not summary.success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        unmapped = con.sql(
            "select source_system, source_object, source_field, source_value, message "
            "from intermediate.int_unmapped_stage_values"
        ).fetchall()
        marts = {t for (t,) in con.sql(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert unmapped == [(
        "salesforce", "lead", "status", "Nurture - Custom",
        'unmapped stage value "Nurture - Custom" in salesforce.lead.status: '
        "add it to seeds/source_stage_values.csv",
    )]
    assert "fct_leads" not in marts and "fct_stage_transitions" not in marts
