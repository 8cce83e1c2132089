"""Write, audit, publish: every expectation of every suite fails on a row that breaks it,
names itself and the offending rows, and stops the publish; a clean run publishes.

One clean company is materialized end to end through Dagster (ingestion, dbt build, every
GX suite, publish). Then, for every expectation, a copy of that warehouse gets one
violating change and a Dagster run of that suite's check plus the publish step: the check
must fail naming the expectation, the publish must not run, and the analysts' copy must
still be the clean run's.
"""

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, materialize

from orchestration.checks.assets import check_key
from orchestration.checks.suites import suite_files
from orchestration.definitions import build_definitions
from orchestration.publish.analyst_copy import PublishRefused, read_publication
from orchestration.publish.assets import PUBLISHED_GROUP
from tests.conftest import make_settings

Mutation = Callable[[duckdb.DuckDBPyConnection], object]


def _one(con, sql: str):
    rows = con.execute(sql).fetchall()
    assert rows, f"the clean company has no row for this case: {sql}"
    return rows[0][0]


def _copy_row(con, table: str, key: str, key_value, changes: dict[str, str]) -> None:
    """Insert a copy of one row of `table` with some columns replaced by SQL expressions."""
    columns = [r[0] for r in con.execute(f"select column_name from duckdb_columns() where "
                                         f"schema_name || '.' || table_name = '{table}' order by column_index").fetchall()]
    select = ", ".join(changes.get(c, c) for c in columns)
    con.execute(f"insert into {table} select {select} from {table} where {key} = ?", [key_value])


def _drop_not_null(con, table: str, column: str) -> None:
    # the marts' contracts already refuse a null here; the suite is the second line
    con.execute(f"alter table {table} alter column {column} drop not null")


def _lead(con, where: str = "true") -> str:
    return _one(con, f"select person_id from marts.fct_leads where {where} order by person_id limit 1")


def _set_lead(con, person_id: str, assignments: str) -> str:
    con.execute(f"update marts.fct_leads set {assignments} where person_id = ?", [person_id])
    return person_id


def _lead_case(where: str, assignments: str) -> Mutation:
    return lambda con: _set_lead(con, _lead(con, where), assignments)


def _add_free_email(con) -> str:
    person_id = _lead(con)
    domain = _one(con, "select match_value from governance.lead_exclusions where exclusion_type = 'free_email' limit 1")
    con.execute("update intermediate.int_person_profiles set email_domain = ? where person_id = ?", [domain, person_id])
    return person_id


def _delete_lead(con) -> str:
    person_id = _lead(con)
    con.execute("delete from marts.fct_leads where person_id = ?", [person_id])
    return person_id


def _duplicate_lead(con) -> str:
    person_id = _lead(con)
    _copy_row(con, "marts.fct_leads", "person_id", person_id, {})
    return person_id


def _non_mql_low_score(con) -> str:
    person_id = _lead(con, "not is_mql and not is_hand_raiser and score < 20")
    return _set_lead(con, person_id, "is_mql = true, mql_at = scored_as_of")


def _recycle_without_outcome(con) -> str:
    person_id = _lead(con, "is_handed_over and handover_started_at < scored_as_of - interval 30 day")
    return _set_lead(
        con, person_id,
        "handover_outcome = null, handover_outcome_at = null, is_decision_sla_met = false, is_decision_overdue = false",
    )


def _phase(con, assignments: str, phase_number: int) -> int:
    con.execute(f"update marts.dim_phase set {assignments} where phase_number = ?", [phase_number])
    return phase_number


def _extra_phase(con) -> int:
    _copy_row(con, "marts.dim_phase", "phase_number", 7, {"phase_number": "8"})
    return 8


def _stage_in_two_phases(con) -> str:
    _copy_row(con, "governance.funnel_stages", "funnel_stage", "mql", {"phase_number": "4"})
    return "mql"


def _unmapped_stage_value(con) -> str:
    value = _one(con, "select source_value from intermediate.int_stage_source_values where source_system = 'salesforce' "
                      "and source_field = 'stage_name' order by source_value limit 1")
    con.execute("delete from governance.source_stage_values where source_system = 'salesforce' "
                "and source_field = 'stage_name' and source_value = ?", [value])
    return value


def _transition(con, where: str, assignments: str) -> str:
    transition_id = _one(con, f"select stage_transition_id from marts.fct_stage_transitions where {where} "
                              "order by stage_transition_id limit 1")
    con.execute(f"update marts.fct_stage_transitions set {assignments} where stage_transition_id = ?", [transition_id])
    return transition_id


def _null_transition_time(con) -> str:
    _drop_not_null(con, "marts.fct_stage_transitions", "transitioned_at")
    return _transition(con, "true", "transitioned_at = null")


def _revenue_row(con, where: str, assignments: str) -> str:
    row_id = _one(con, f"select account_month_id from marts.fct_revenue where {where} order by account_month_id limit 1")
    con.execute(f"update marts.fct_revenue set {assignments} where account_month_id = ?", [row_id])
    return row_id


def _zero_won_amount(con) -> str:
    opportunity_id = _one(con, "select opportunity_id from marts.fct_opportunities where is_won order by 1 limit 1")
    con.execute("update marts.fct_opportunities set won_amount = 0 where opportunity_id = ?", [opportunity_id])
    return opportunity_id


def _continuity_break(con) -> str:
    return _revenue_row(
        con,
        "exists (select 1 from marts.fct_revenue as previous where previous.account_id = fct_revenue.account_id "
        "and previous.revenue_month = fct_revenue.revenue_month - interval 1 month)",
        "opening_arr = opening_arr + 10, closing_arr = closing_arr + 10",
    )


def _identity(con, sql: str, key_sql: str):
    key = _one(con, key_sql)
    con.execute(sql, [key])
    return key


PERSON_KEY = "select person_record_key from intermediate.int_person_identity_map order by 1 limit 1"
ACCOUNT_KEY = "select account_record_key from intermediate.int_account_identity_map order by 1 limit 1"


def _ghost_person(con) -> str:
    person_id = _one(con, "select person_id from marts.dim_person order by 1 limit 1")
    _copy_row(con, "marts.dim_person", "person_id", person_id, {"person_id": "'ghost-person'"})
    return "ghost-person"


def _null_person(con) -> str:
    _drop_not_null(con, "intermediate.int_person_identity_map", "person_id")
    return _identity(con, "update intermediate.int_person_identity_map set person_id = null where person_record_key = ?",
                     PERSON_KEY)


def _duplicate_identity(table: str, key: str, key_sql: str) -> Mutation:
    def mutate(con):
        value = _one(con, key_sql)
        _copy_row(con, table, key, value, {})
        return value
    return mutate


# (suite, the expectation's description, the change that breaks it). The change returns the
# key of the row it broke, which the reported offending rows must show (None: no single row).
CASES: list[tuple[str, str, Mutation]] = [
    ("fct_leads", "every lead's funnel stage is the stage the governed mapping",
     _lead_case("funnel_stage_source_value is not null and funnel_stage <> 'won'", "funnel_stage = 'won'")),
    ("fct_leads", "every lead sits in a funnel stage of the governed funnel",
     _lead_case("true", "funnel_stage = 'prospect'")),
    ("fct_leads", "every handover outcome is one of the governed handover outcomes",
     _lead_case("true", "handover_outcome = 'maybe'")),
    ("fct_leads", "every lead is computed under the lead definition version in force, which the governed",
     _lead_case("true", "definition_version = 99")),
    ("fct_leads", "one row per lead", _duplicate_lead),
    ("phase_mapping", "the seven phases of the revenue cycle", _extra_phase),
    ("phase_mapping", "each phase number once", lambda con: _phase(con, "phase_number = 1", 2)),
    ("phase_mapping", "phases are numbered 1 to 7", lambda con: _phase(con, "phase_number = 9", 7)),
    ("phase_mapping", "every phase has its buying-phase name",
     lambda con: (_drop_not_null(con, "marts.dim_phase", "buying_phase"), _phase(con, "buying_phase = null", 3))[1]),
    ("phase_mapping", "every phase has its marketing-process name",
     lambda con: (_drop_not_null(con, "marts.dim_phase", "marketing_phase"), _phase(con, "marketing_phase = null", 4))[1]),
    ("phase_mapping", "every phase has an owner",
     lambda con: (_drop_not_null(con, "marts.dim_phase", "phase_owner"), _phase(con, "phase_owner = null", 5))[1]),
    ("phase_mapping", "every funnel stage lies in exactly one phase", _stage_in_two_phases),
    ("phase_mapping", "every stage value in staging is in the governed mapping", _unmapped_stage_value),
    ("lead_definition", "every lead is computed under the definition version in force",
     _lead_case("true", "definition_version = 2")),
    ("lead_definition", "every lead is an identified person with a business email", _add_free_email),
    ("lead_definition", "every lead has the qualifying engagements", _lead_case("true", "lead_qualified_at = null")),
    ("lead_definition", "no person who satisfies the lead definition is missing", _delete_lead),
    ("scoring_mql", "scores stay within 0 and scoring.max_score", _lead_case("true", "score = 150")),
    ("scoring_mql", "fit points stay within 0 and scoring.max_score", _lead_case("true", "fit_points = -5")),
    ("scoring_mql", "every MQL reached the MQL threshold at its MQL moment", _non_mql_low_score),
    ("scoring_mql", "every MQL has its MQL date", _lead_case("is_mql", "mql_at = null")),
    ("scoring_mql", "every hand-raiser is an MQL",
     _lead_case("not is_mql and not is_hand_raiser", "is_hand_raiser = true")),
    ("handover", "acceptance, rejection and recycling only after",
     _lead_case("handover_outcome is not null", "handover_outcome_at = handover_started_at - interval 1 day")),
    ("handover", "the first-touch SLA flag agrees", _lead_case("first_touch_at is not null",
                                                              "is_first_touch_sla_met = not is_first_touch_sla_met")),
    ("handover", "the decision SLA flag agrees", _lead_case("handover_outcome_at is not null",
                                                           "is_decision_sla_met = not is_decision_sla_met")),
    ("handover", "every handed-over lead older than the decision SLA", _recycle_without_outcome),
    ("stage_order", "every transition goes into a governed funnel stage",
     lambda con: _transition(con, "true", "to_stage = 'prospect'")),
    ("stage_order", "transitions move forward through the funnel",
     lambda con: _transition(con, "from_stage = 'sqo' and to_stage = 'negotiation'",
                             "from_stage = 'negotiation', to_stage = 'sqo'")),
    ("stage_order", "no transition is dated in the future",
     lambda con: _transition(con, "true", "transitioned_at = current_timestamp + interval 400 day")),
    ("stage_order", "every transition has its time", _null_transition_time),
    ("revenue", "won opportunities have positive amounts", _zero_won_amount),
    # a reconciliation of totals: its offending row is the difference, not the changed row
    ("revenue", "bookings reconcile with the CRM", lambda con: (_revenue_row(con, "bookings_amount > 0",
                                                                             "bookings_amount = bookings_amount + 100"),
                                                                None)[1]),
    ("revenue", "ARR movements add up to the change in ARR",
     lambda con: _revenue_row(con, "closing_arr > 0", "new_arr = new_arr + 10")),
    ("revenue", "each month opens with the ARR the month before closed", _continuity_break),
    ("revenue", "ARR is never negative",
     lambda con: _revenue_row(con, "closing_arr = 0 and opening_arr = 0", "closing_arr = -5, churned_arr = 5")),
    ("identity", "each person source record appears once in the person map",
     _duplicate_identity("intermediate.int_person_identity_map", "person_record_key", PERSON_KEY)),
    ("identity", "each person source record has a conformed person", _null_person),
    ("identity", "no person source record is left out of the person map",
     lambda con: _identity(con, "delete from intermediate.int_person_identity_map where person_record_key = ?", PERSON_KEY)),
    ("identity", "each account source record appears once in the account map",
     _duplicate_identity("intermediate.int_account_identity_map", "account_record_key", ACCOUNT_KEY)),
    ("identity", "no account source record is left out of the account map",
     lambda con: _identity(con, "delete from intermediate.int_account_identity_map where account_record_key = ?",
                           ACCOUNT_KEY)),
    ("identity", "every conformed person in the marts exists in the identity map", _ghost_person),
]


@pytest.fixture(scope="module")
def clean_run(materialized_company):
    return materialized_company


def test_every_expectation_has_a_violating_case():
    covered = {(suite, description) for suite, description, _ in CASES}
    for suite in suite_files(make_settings(Path("/nonexistent")).expectations_dir):
        for description in suite.expectations:
            assert any(s == suite.name and description.startswith(d) for s, d in covered), (
                f"{suite.name}: no test breaks the expectation {description!r}"
            )


def test_a_clean_run_publishes_every_mart_after_its_audit(clean_run):
    settings, instance, run_id = clean_run
    publication = read_publication(settings.published_path)
    assert publication is not None and publication["run_id"] == run_id
    with duckdb.connect(str(settings.published_path), read_only=True) as published, \
            duckdb.connect(str(settings.warehouse_path), read_only=True) as working:
        marts = [r[0] for r in working.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()]
        assert marts
        for mart in marts:
            expected = working.execute(f"select count(*), sum(hash(t)) from marts.{mart} as t").fetchall()
            assert published.execute(f"select count(*), sum(hash(t)) from marts.{mart} as t").fetchall() == expected, mart
    # the data docs of the audit were built and linked from the check results
    assert (settings.warehouse_dir / "data_docs" / "index.html").exists()
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [check_key(s) for s in suite_files(settings.expectations_dir)])
    for record in records.values():
        assert record.event.asset_check_evaluation.passed
        assert "data_docs" in record.event.asset_check_evaluation.metadata


@pytest.mark.parametrize("suite,description,mutate", CASES, ids=[f"{s}:{d[:40]}" for s, d, _ in CASES])
def test_a_violating_row_fails_its_expectation_and_stops_the_publish(clean_run, tmp_path, suite, description, mutate):
    settings, instance, clean_run_id = clean_run
    case = dataclasses.replace(settings, warehouse_dir=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb")
    shutil.copy(settings.warehouse_path, case.warehouse_path)
    shutil.copy(settings.published_path, case.published_path)
    with duckdb.connect(str(case.warehouse_path)) as con:
        marker = mutate(con)

    defs = build_definitions(case)
    suite_file = next(s for s in suite_files(case.expectations_dir) if s.name == suite)
    published = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == PUBLISHED_GROUP]
    result = materialize(
        [*defs.assets, *defs.asset_checks],
        resources=defs.resources,
        instance=instance,
        selection=AssetSelection.checks(check_key(suite_file)) | AssetSelection.assets(*published),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    failures = evaluation.metadata["failures"].value
    failure = next((f for f in failures if f["expectation"].startswith(description)), None)
    assert failure is not None, f"{description!r} did not fail; failed: {[f['expectation'] for f in failures]}"
    offending = failure.get("unexpected_rows") or failure.get("partial_unexpected_list") or []
    assert offending or failure.get("observed_value") is not None, failure
    if failure.get("unexpected_rows") and marker is not None:
        assert str(marker) in str(failure["unexpected_rows"]), (marker, failure["unexpected_rows"])
    # the publish did not run, and analysts still see the clean run's copy
    assert not [e for e in result.get_asset_materialization_events() if e.asset_key.path[0] == PUBLISHED_GROUP]
    assert read_publication(case.published_path)["run_id"] == clean_run_id


def test_publishing_alone_refuses_while_the_audit_has_not_passed(clean_run, tmp_path):
    """Selecting only the publish step after a failed audit does not slip past it."""
    settings, instance, clean_run_id = clean_run
    case = dataclasses.replace(settings, warehouse_dir=tmp_path, warehouse_path=tmp_path / "warehouse.duckdb")
    shutil.copy(settings.warehouse_path, case.warehouse_path)
    shutil.copy(settings.published_path, case.published_path)
    with duckdb.connect(str(case.warehouse_path)) as con:
        _set_lead(con, _lead(con), "score = 150")
    defs = build_definitions(case)
    scoring = next(s for s in suite_files(case.expectations_dir) if s.name == "scoring_mql")
    published = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == PUBLISHED_GROUP]
    everything = [*defs.assets, *defs.asset_checks]
    audit = materialize(everything, resources=defs.resources, instance=instance, raise_on_error=False,
                        selection=AssetSelection.checks(check_key(scoring)))
    assert not audit.success
    alone = materialize(everything, resources=defs.resources, instance=instance, raise_on_error=False,
                        selection=AssetSelection.assets(*published))
    assert not alone.success
    errors = [e for e in alone.all_events if e.is_step_failure]
    assert errors and PublishRefused.__name__ in str(errors[0].event_specific_data)
    assert "gx_scoring_mql did not pass" in str(errors[0].event_specific_data)
    assert len(errors) == 1  # refused once, not retried: the audit does not pass by waiting
    assert read_publication(case.published_path)["run_id"] == clean_run_id
