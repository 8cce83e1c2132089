"""The thin path through every layer: landing CSV -> raw -> staging -> mart -> GX check."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from orchestration.checks.suites import run_suite
from orchestration.definitions import build_definitions
from orchestration.materialize import materialize_all
from tests.conftest import copy_fixture_landing, make_settings

GX_CHECK = AssetCheckKey(AssetKey(["marts", "fct_leads"]), "gx_fct_leads")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def materialized(tmp_path_factory, dbt_manifest):
    root = tmp_path_factory.mktemp("thin")
    settings = make_settings(root, copy_fixture_landing(root / "landing"))
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
    assert "marts/fct_leads:unique_fct_leads_lead_id" in summary.checks_passed


def test_raw_layer_holds_every_exported_row(materialized):
    settings, *_ = materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql("select id, _landing_file from raw_salesforce.lead order by id").fetchall()
    assert rows == [("00Q1", "salesforce/lead/2026-06-30.csv"), ("00Q2", "salesforce/lead/2026-06-30.csv"), ("00Q3", "salesforce/lead/2026-06-30.csv")]


def test_mart_holds_the_expected_rows(materialized):
    settings, *_ = materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select lead_id, lead_email_hash, lead_status, funnel_stage, phase_number, "
            "strftime(lead_created_at, '%Y-%m-%d %H:%M') from marts.fct_leads order by lead_id"
        ).fetchall()
    # 00Q3 is soft-deleted in the export; the email of 00Q1 is trimmed and lowercased
    # before hashing; its +02:00 creation time is kept in UTC.
    assert rows == [
        ("00Q1", _md5("ann@acme.com"), "Open - Not Contacted", "mql", 3, "2026-06-01 08:00"),
        ("00Q2", _md5("bob@beta.io"), "Working - Contacted", "sal", 4, "2026-06-03 10:00"),
    ]


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
        con.execute(
            "insert into marts.fct_leads (lead_id, lead_status, funnel_stage) "
            "values ('00QBAD', 'Nurture - Custom', null)"
        )
    outcome = run_suite("fct_leads", bad, settings.expectations_dir)
    assert not outcome.success
    assert [f["expectation"] for f in outcome.failed] == ["unexpected_rows_expectation"]
    assert outcome.failed[0]["unexpected_rows"] == [{"lead_id": "00QBAD", "lead_status": "Nurture - Custom"}]


def test_gx_check_fails_on_a_stage_outside_the_governed_funnel(materialized, tmp_path):
    settings, *_ = materialized
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(settings.warehouse_path.read_bytes())
    with duckdb.connect(str(bad)) as con:
        con.execute("update marts.fct_leads set funnel_stage = 'prospect' where lead_id = '00Q2'")
    outcome = run_suite("fct_leads", bad, settings.expectations_dir)
    assert not outcome.success
    failure = outcome.failed[0]
    assert failure["expectation"] == "expect_column_values_to_be_in_set"
    assert failure["partial_unexpected_list"] == ["prospect"]
    # the allowed set came from the governed seed, not from the suite file
    assert outcome.parameters["funnel_stages"][0] == "visitor"


def test_unmapped_source_value_fails_the_run_check(tmp_path, dbt_manifest):
    landing = copy_fixture_landing(tmp_path / "landing")
    csv = landing / "salesforce" / "lead" / "2026-06-30.csv"
    header, first = csv.read_text().splitlines()[:2]
    unknown = first.replace("00Q1", "00Q9").replace("Open - Not Contacted", "Nurture - Custom")
    csv.write_text(csv.read_text() + unknown + "\n")
    settings = make_settings(tmp_path, landing)
    with DagsterInstance.ephemeral() as instance:
        result, summary = materialize_all(build_definitions(settings), instance)
    assert summary.checks_failed == [GX_CHECK.to_user_string()]
    evaluation = next(e for e in result.get_asset_check_evaluations() if not e.passed)
    assert "Nurture - Custom" in str(evaluation.metadata["failures"].value)
