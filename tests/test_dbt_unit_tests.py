"""The dbt unit tests of the governed definitions pass, and each of them can fail.

A tiny clean company is generated and ingested (every raw table exists), then
`dbt build --empty` over the parents of every unit test creates each input relation with
its column types and no rows (dbt unit tests read those types), running every unit test
before its model. Then a copy of the project whose definitions are tampered with (MQL
threshold compared with > instead of >=, the hand-raiser rule dropped, SLA comparisons made
strict, decay and cap changed, the definition version ignored, ...) runs the unit tests
again: every unit test of _funnel__unit_tests.yml and _revenue__unit_tests.yml must fail,
named in dbt's results. (The tests that place their events relative to the governed vars
also pass under other values of those vars, e.g. `dbt test --select test_type:unit --vars
...`: they state the rule, not today's value. Not run here, to keep this module fast.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ingest, make_settings

REPO = Path(__file__).resolve().parents[1]
UNIT_TEST_FILES = [
    REPO / "dbt_project/models/intermediate/funnel/_funnel__unit_tests.yml",
    REPO / "dbt_project/models/intermediate/revenue/_revenue__unit_tests.yml",
    REPO / "dbt_project/models/marts/analytics/fct_stage_durations.yml",
    REPO / "dbt_project/models/staging/segment/stg_segment__pages.yml",
    REPO / "dbt_project/models/intermediate/touchpoints/_touchpoints__models.yml",
]
# at least this many unit tests in the whole project (18 of them in the files above)
MIN_UNIT_TESTS = 18

# (model file, pattern, replacement, unit tests it must make fail): a broken definition
MUTATIONS = [
    ("intermediate/funnel/int_lead_scores.sql",
     r"score\s*>=\s*\{\{\s*scoring\.mql_threshold\s*\}\}\s*or\s+is_hand_raiser",
     "score > {{ scoring.mql_threshold }}",
     ["int_lead_scores_mql_exactly_at_the_threshold", "int_lead_scores_hand_raiser_is_mql_whatever_the_score"]),
    ("intermediate/funnel/int_lead_scores.sql",
     r"\*\s*24\.0\s*\*\s*60\.0",
     "* 24.0 * 30.0",
     ["int_lead_scores_engagement_halves_every_half_life"]),
    ("intermediate/funnel/int_lead_scores.sql",
     r"\{\{\s*scoring\.max_score\s*\}\}",
     "{{ scoring.max_score }} + 1",
     ["int_lead_scores_caps_the_score_and_adds_fit_points"]),
    ("intermediate/funnel/int_lead_handovers.sql",
     r"<=(\s*\{\{\s*dbt\.dateadd\('hour',\s*handover\.first_touch_sla_hours)",
     r"<\1",
     ["int_lead_handovers_first_touch_sla_at_its_boundary"]),
    ("intermediate/funnel/int_lead_handovers.sql",
     r"<=(\s*\{\{\s*dbt\.dateadd\('hour',\s*handover\.decision_sla_hours)",
     r"<\1",
     ["int_lead_handovers_decision_sla_at_its_boundary"]),
    ("intermediate/funnel/int_leads.sql",
     r"definition_version\s*=\s*\{\{\s*var\('current_lead_definition_version'\)\s*\}\}",
     "definition_version = 1",
     ["int_leads_applies_the_definition_version_in_force"]),
    ("intermediate/funnel/int_leads.sql",
     r"exclusion_type\s*=\s*'internal'",
     "exclusion_type = 'internal_staff'",
     ["int_leads_excludes_what_lead_exclusions_lists"]),
    ("intermediate/revenue/int_attribution_touches.sql",
     r"\(24\.0\s*\*\s*\{\{\s*half_life_days\s*\}\}\)",
     "(12.0 * {{ half_life_days }})",
     ["int_attribution_touches_two_touches", "int_attribution_touches_three_touches"]),
    # the marketing-touch rule, which int_attribution_touches reads from its macro
    ("../macros/marketing_touches.sql",
     r"and\s+not\s+coalesce\(touchpoints\.is_internal,\s*false\)",
     "",
     ["int_attribution_touches_one_touch_takes_every_weight"]),
    ("intermediate/revenue/int_attribution_weight_sums.sql",
     r"and\s+abs\(time_decay_weight_sum\s*-\s*1\)\s*<\s*1e-9",
     "",
     ["int_attribution_weight_sums_flags_weights_not_summing_to_one"]),
    # the days in a stage cast straight from the double quotient, as before numeric_from_double
    ("marts/analytics/fct_stage_durations.sql",
     r"\{\{\s*numeric_from_double\((dividend\(.*\) ~ ' / 86400\.0')\)\s*\}\}",
     r"cast({{ \1 }} as {{ dbt.type_numeric() }})",
     ["fct_stage_durations_ties_round_half_away_from_zero"]),
    # the latest version of each record, ranking only the ids that came more than once: an id
    # sent twice no longer counts as repeated, so both of its versions stay
    ("../macros/latest_first.sql",
     r"having count\(\*\) > 1",
     "having count(*) > 2",
     ["stg_segment__pages_keeps_the_latest_version_of_each_page_view"]),
    # a page view's own utm_medium ahead of the seed's channel for it
    ("intermediate/touchpoints/int_touch_attributes.sql",
     r"utm_medium_channels\.channel,\s*attributes\.utm_medium,",
     "attributes.utm_medium, utm_medium_channels.channel,",
     ["int_touch_attributes_channels_come_from_the_seed"]),
    # the small sources' channel rows no longer read
    ("intermediate/touchpoints/int_touchpoints.sql",
     r"and source_object in \('contact_form_submission', 'campaign_member', 'task', 'event'\)",
     "and source_object in ('contact_form_submission')",
     ["int_touchpoints_small_sources_take_their_object_channel"]),
    # a campaign response keeps the key of a campaign deleted since
    ("intermediate/touchpoints/int_touchpoints.sql",
     r"case when campaigns\.campaign_id is not null\s*then (\{\{ dbt\.concat\(\[\"'salesforce:'\", )'campaigns\.campaign_id'\]\) \}\} end",
     r"\1'campaign_members.campaign_id']) }}",
     ["int_touchpoints_deleted_campaign_clears_the_campaign_key"]),
    # an empty referrer no longer counts as none
    ("intermediate/touchpoints/int_touch_events.sql",
     r"when page_referrer is null or page_referrer = '' then 'none'",
     "when page_referrer is null then 'none'",
     ["int_touch_events_referrer_kinds_and_email_kinds"]),
]

def _our_unit_tests() -> list[str]:
    return [t["name"] for path in UNIT_TEST_FILES for t in yaml.safe_load(path.read_text())["unit_tests"]]


def _dbt(settings, root: Path, name: str, project_dir: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    target = root / f"target_{name}"
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    run = subprocess.run(
        [
            sys.executable, "-m", "dbt.cli.main", *args,
            "--project-dir", str(project_dir),
            "--profiles-dir", str(settings.dbt_profiles_dir),
            "--target", settings.dbt_target,
            "--target-path", str(target),
            "--log-path", str(root / f"logs_{name}"),
        ],
        env=env, capture_output=True, text=True,
    )
    results_path = target / "run_results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"results": []}
    unit = {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"]
        for r in results["results"] if r["unique_id"].startswith("unit_test.")
    }
    return run, unit


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """A warehouse with every relation the unit tests read, built empty."""
    from orchestration.sources.generate import generate_company
    from orchestration.sources.mess import MessConfig

    root = tmp_path_factory.mktemp("unit")
    settings = make_settings(root)
    generate_company(settings.landing_dir, settings.truth_dir, scale=0.01, seed=5, mess=MessConfig.none())
    ingest(settings)
    build, unit = _dbt(
        settings, root, "build", REPO,
        "build", "--empty", "--select", "+test_type:unit", "--exclude-resource-type", "test",
    )
    return settings, root, build, unit


def test_unit_tests_pass(warehouse):
    _, _, build, unit = warehouse
    print(f"\n{len(unit)} unit tests: {sorted(unit.items())}")
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-2000:]
    assert len(unit) >= MIN_UNIT_TESTS
    assert set(_our_unit_tests()) <= set(unit)
    assert set(unit.values()) == {"pass"}


def test_every_unit_test_fails_when_a_definition_is_tampered_with(warehouse, tmp_path):
    settings, root, *_ = warehouse
    project = tmp_path / "tampered"
    project.mkdir()
    shutil.copy(REPO / "dbt_project.yml", project)
    shutil.copytree(REPO / "dbt_project", project / "dbt_project")
    shutil.copytree(REPO / "seeds", project / "seeds")
    models = project / "dbt_project" / "models"
    expected_failures = set()
    for model_file, pattern, replacement, tests in MUTATIONS:
        path = models / model_file
        sql, count = re.subn(pattern, replacement, path.read_text())
        # a definition rewritten since this test was written: update the pattern
        assert count >= 1, f"mutation target {pattern!r} not found in {model_file}"
        path.write_text(sql)
        expected_failures.update(tests)
    run, unit = _dbt(settings, root, "tampered", project, "test", "--select", "test_type:unit")
    failed = {name for name, status in unit.items() if status == "fail"}
    print(f"\nfailed under tampered definitions: {sorted(failed)}")
    assert run.returncode != 0
    assert set(_our_unit_tests()) == expected_failures
    assert expected_failures <= failed, sorted(expected_failures - failed)
    for name in expected_failures:
        assert f"Failure in unit_test {name} " in run.stdout

