"""The code location loads, with the assets, checks and governance metadata expected."""

from __future__ import annotations

import subprocess
import sys
import time

from dagster import AssetCheckKey, AssetKey, Definitions


def _graph():
    from orchestration.definitions import defs

    return defs, defs.resolve_asset_graph()


def test_definitions_load(dbt_manifest):
    defs, graph = _graph()
    Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/salesforce/lead",
        "staging/stg_salesforce__leads",
        "marts/fct_leads",
        "governance/phases",
        "governance/funnel_stages",
        "governance/source_stage_values",
    } <= keys


def test_lineage_runs_from_landing_to_mart(dbt_manifest):
    from dagster import AssetSelection

    defs, graph = _graph()
    upstream = AssetSelection.assets(AssetKey(["marts", "fct_leads"])).upstream().resolve(graph)
    # landing files -> raw -> staging -> mart, and the governed definitions upstream of it
    assert {
        AssetKey(["raw", "salesforce", "lead"]),
        AssetKey(["staging", "stg_salesforce__leads"]),
        AssetKey(["governance", "source_stage_values"]),
    } <= upstream


def test_gx_check_guards_the_mart(dbt_manifest):
    _, graph = _graph()
    check = AssetCheckKey(AssetKey(["marts", "fct_leads"]), "gx_fct_leads")
    assert check in graph.asset_check_keys
    assert graph.get_check_spec(check).blocking


def test_groups_owners_and_kinds(dbt_manifest):
    _, graph = _graph()
    raw = graph.get(AssetKey(["raw", "salesforce", "lead"]))
    assert raw.group_name == "salesforce"
    assert raw.owners == ["team:sales"]
    # the default engine reads with DuckDB itself: no dlt in the kinds a reviewer reads
    assert set(raw.kinds) == {"duckdb"}
    mart = graph.get(AssetKey(["marts", "fct_leads"]))
    assert mart.group_name == "marts"
    assert "dbt" in mart.kinds
    assert mart.description
    seed = graph.get(AssetKey(["governance", "phases"]))
    assert seed.group_name == "governance"


def test_import_does_not_parse_dbt(dbt_manifest):
    """Importing the code location reads the prepared manifest; it never runs dbt parse."""
    manifest_mtime = dbt_manifest.stat().st_mtime_ns
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import orchestration.definitions"], check=True)
    elapsed = time.perf_counter() - started
    print(f"importing orchestration.definitions took {elapsed:.2f} s")
    assert dbt_manifest.stat().st_mtime_ns == manifest_mtime


_PARSE_IN_A_LOADED_CODE_LOCATION = """
import json, sys
import orchestration.definitions  # sets mashumaro's lazy_compilation before dbt-core loads
import mashumaro.config
from dbt.cli.main import dbtRunner
from orchestration.settings import Settings

assert mashumaro.config.BaseConfig.lazy_compilation
settings = Settings.from_env()
result = dbtRunner().invoke(["parse", "--quiet", "--no-partial-parse",
    "--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.dbt_profiles_dir),
    "--target", settings.dbt_target, "--target-path", sys.argv[1]])
assert result.success, result.exception
"""


def _without_timestamps(node):
    if isinstance(node, dict):
        return {k: _without_timestamps(v) for k, v in node.items()
                if k not in ("created_at", "generated_at", "invocation_id", "invocation_started_at", "run_started_at")}
    if isinstance(node, list):
        return [_without_timestamps(v) for v in node]
    return node


def test_dbt_classes_compiled_lazily_still_write_the_same_manifest(dbt_manifest, tmp_path):
    """The code location defers the compilation of dbt-core's mashumaro classes to their
    first use (orchestration/definitions.py). dbt's parse builds and serialises every kind of
    node through those classes: run in a process that loaded the code location, it writes
    the manifest `make prepare` wrote in a process of its own."""
    import json

    subprocess.run([sys.executable, "-c", _PARSE_IN_A_LOADED_CODE_LOCATION, str(tmp_path)], check=True)
    lazy = json.loads((tmp_path / "manifest.json").read_text())
    eager = json.loads(dbt_manifest.read_text())
    assert len(lazy["nodes"]) == len(eager["nodes"]) > 400
    assert _without_timestamps(lazy) == _without_timestamps(eager)


def test_the_code_location_loads_without_either_ingestion_engine(dbt_manifest):
    """dlt (and dagster-dlt) are imported by a run of the dlt engine, not by loading the code
    location: about 0.2 s of the import, which every Dagster process and run worker pays."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys, orchestration.definitions as d; d.defs.resolve_asset_graph(); "
         "print(sorted(m for m in ('dlt', 'dagster_dlt', 'orchestration.ingestion.dlt_engine', "
         "'orchestration.ingestion.native') if m in sys.modules))"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_the_dlt_engine_maps_its_resources_onto_the_same_raw_assets():
    import dlt
    from dagster_dlt.translator import DltResourceTranslatorData

    from orchestration.ingestion.assets import raw_asset_spec
    from orchestration.ingestion.dlt_engine import RawLayerTranslator
    from orchestration.ingestion.tables import tables_by_system

    translator = RawLayerTranslator("duckdb")
    for system, tables in tables_by_system().items():
        for table in tables:
            resource = dlt.resource(lambda: iter(()), name=f"{system}__{table.table}", table_name=table.table)
            spec = translator.get_asset_spec(DltResourceTranslatorData(resource=resource, pipeline=None))
            assert spec == raw_asset_spec(system, table.table, "duckdb", engine="dlt")
            assert set(spec.kinds) == {"dlt", "duckdb"}
            assert spec.key == AssetKey(["raw", system, table.table])
            assert spec.metadata["dagster/table_name"] == f"raw_{system}.{table.table}"


def test_missing_manifest_is_a_clear_error(tmp_path):
    import pytest

    from orchestration.dbt.assets import ManifestMissing, build_dbt_assets
    from dagster_dbt import DbtProject

    (tmp_path / "dbt_project.yml").write_text("name: empty\nversion: '1'\nprofile: none\n")
    project = DbtProject(project_dir=tmp_path, target_path="target")
    with pytest.raises(ManifestMissing, match="make prepare"):
        build_dbt_assets(project)


def test_every_warehouse_writer_shares_one_pool_of_size_one(dbt_manifest):
    """DuckDB allows one writer process per file: ingestion, dbt and checks share a pool."""
    import yaml

    from orchestration.settings import REPO_ROOT

    defs, _ = _graph()
    pools = {assets_def.node_def.name: assets_def.node_def.pool for assets_def in defs.assets}
    pools |= {check.node_def.name: check.node_def.pool for check in defs.asset_checks}
    assert pools and set(pools.values()) == {"duckdb_writers"}, pools
    instance = yaml.safe_load((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["telemetry"]["enabled"] is False


def test_every_asset_carries_governance_metadata(dbt_manifest):
    """What a reviewer reads in the UI without the code: description, owner, group, kinds;
    dbt models add their column schema and a link to their SQL."""
    teams = {"team:marketing", "team:sales", "team:customer_success", "team:revenue_operations", "team:data_platform"}
    _, graph = _graph()
    groups = set()
    for key in graph.materializable_asset_keys:
        node = graph.get(key)
        label = key.to_user_string()
        assert node.description, label
        assert node.owners and set(node.owners) <= teams, (label, node.owners)
        assert node.group_name and node.group_name != "default", label
        assert node.kinds, label
        groups.add(node.group_name)
        if "dbt" in node.kinds:
            assert "dagster/code_references" in node.metadata, label
            if key.path[0] != "governance":
                assert "dagster/column_schema" in node.metadata, label
    assert {"salesforce", "hubspot", "segment", "ads", "stripe", "product", "zendesk",
            "staging", "revenue_cycle", "marts", "published", "governance"} <= groups
    owners = {owner for key in graph.materializable_asset_keys for owner in graph.get(key).owners}
    assert owners == teams


def test_the_dbt_resource_asks_no_subprocess_for_its_version_and_builds_no_adapter(dbt_manifest, monkeypatch):
    """Before every dbt command dagster-dbt ran `dbt --version` (about 2 s) and built an
    in-process dbt adapter (about 1.1 s) that only its fetch_* methods use. The project's
    resource reads the version of this environment's dbt-core and skips the adapter; with
    another executable it still asks that executable, as dagster-dbt does."""
    from dbt.version import __version__
    from packaging import version

    import dagster_dbt.core.resource as dagster_dbt_resource
    from orchestration.dbt.resource import ProjectDbtCliResource, environment_dbt
    from orchestration.definitions import defs

    asked = []

    def check_output(command, *args, **kwargs):
        asked.append(command)
        return b"Core:\n  - installed: 9.8.7\n"

    monkeypatch.setattr(dagster_dbt_resource, "check_output", check_output)
    resource = defs.resources["dbt"]
    assert isinstance(resource, ProjectDbtCliResource)
    assert resource.dbt_executable == str(environment_dbt())
    assert resource._cli_version == version.parse(__version__)
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    assert asked == []
    other = ProjectDbtCliResource(project_dir=resource.project_dir, dbt_executable=sys.executable)
    assert other._cli_version == version.parse("9.8.7")
    assert asked == [[sys.executable, "--version"]]


def test_work_for_a_later_step_starts_only_in_runs_that_execute_it():
    """The dbt asset starts the GX step's import while dbt builds, and only when the run
    executes the GX step (`run_executes`): a run of dbt alone does not pay for it."""
    from dagster import DagsterInstance, asset, materialize

    from orchestration.dbt.assets import run_executes

    seen = []

    @asset
    def first(context):
        seen.append(run_executes(context, "second"))

    @asset(deps=[first])
    def second():
        return None

    with DagsterInstance.ephemeral() as instance:
        assert materialize([first, second], instance=instance).success
        assert materialize([first, second], instance=instance, selection=[first]).success
    assert seen == [True, False]
