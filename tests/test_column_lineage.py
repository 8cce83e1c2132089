"""The single-scope column lineage (orchestration/dbt/lineage.py) equals dagster-dbt's own,
model by model, on a materialized company; and a model it cannot trace goes to dagster-dbt."""

import json
import time

import duckdb
import pytest


@pytest.fixture(scope="module")
def traced_company(materialized_company, dbt_manifest):
    """What the dbt op of the company's run had: manifest, compiled SQL, warehouse columns."""
    from orchestration.dbt.assets import dbt_project
    from orchestration.dbt.metadata import warehouse_columns
    from orchestration.dbt.translator import RevenueCycleTranslator

    settings, _, run_id = materialized_company
    # dagster-dbt compiles each run into target/<op>-<run id[:7]>-<uuid>
    runs = [p for p in settings.dbt_target_dir.glob(f"*-{run_id[:7]}-*") if (p / "compiled").is_dir()]
    assert len(runs) == 1, runs
    manifest = json.loads(dbt_manifest.read_text())
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        columns = warehouse_columns(con)
    models = [
        props for props in manifest["nodes"].values()
        if props["resource_type"] == "model"
        and (runs[0] / "compiled" / props["package_name"] / props["original_file_path"]).exists()
    ]
    return dict(manifest=manifest, target_path=runs[0], columns=columns, models=models,
                translator=RevenueCycleTranslator(), project=dbt_project(settings))


def _outcome(trace, props, company):
    """A model's lineage (columns in order, each with its deps in order), or the error it raised."""
    from orchestration.dbt.metadata import lineage_inputs

    own, parents = lineage_inputs(props, company["manifest"], company["columns"])
    try:
        lineage = trace(props, company["manifest"], own, parents, company["target_path"],
                        company["translator"], company["project"])
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return [(column, list(deps)) for column, deps in lineage.deps_by_column.items()]


def test_single_scope_lineage_equals_dagster_dbt_for_every_model(traced_company):
    from orchestration.dbt.lineage import UnoptimizableModel, trace_model
    from orchestration.dbt.metadata import dagster_dbt_lineage

    def single_scope(props, manifest, own, parents, target_path, translator, project):
        try:
            return trace_model(columns=own, parents=parents, props=props, manifest=manifest,
                               translator=translator, target_path=target_path, project=project)
        except UnoptimizableModel as error:  # dagster-dbt raises the cause itself
            raise error.__cause__ from None

    seconds = {}
    outcomes = {}
    for name, trace in [("dagster-dbt", dagster_dbt_lineage), ("single scope", single_scope)]:
        started = time.process_time()
        outcomes[name] = {p["unique_id"]: _outcome(trace, p, traced_company) for p in traced_company["models"]}
        seconds[name] = time.process_time() - started
    reference, fast = outcomes["dagster-dbt"], outcomes["single scope"]
    print(f"column lineage of {len(reference)} models: dagster-dbt {seconds['dagster-dbt']:.2f} CPU-s, "
          f"single scope {seconds['single scope']:.2f} CPU-s")

    different = [unique_id for unique_id in reference if reference[unique_id] != fast[unique_id]]
    assert not different, {u: (reference[u], fast[u]) for u in different[:3]}
    # not equal by being empty: most models trace to columns of their parents (not all: a
    # date spine's columns come from a generated series)
    with_deps = [u for u, lineage in reference.items() if not isinstance(lineage, str) and any(d for _, d in lineage)]
    assert len(with_deps) > len(reference) / 2, reference


def test_a_model_the_single_scope_cannot_trace_gets_dagster_dbts_lineage(traced_company, monkeypatch):
    import orchestration.dbt.lineage
    from orchestration.dbt.metadata import dagster_dbt_lineage, lineage_inputs, trace_lineage

    outcomes = ((p, _outcome(dagster_dbt_lineage, p, traced_company)) for p in traced_company["models"])
    props, expected = next((p, o) for p, o in outcomes if not isinstance(o, str) and any(deps for _, deps in o))

    def refuse(*args, **kwargs):
        raise ValueError("cannot walk this statement")

    monkeypatch.setattr(orchestration.dbt.lineage, "lineage", refuse)
    own, parents = lineage_inputs(props, traced_company["manifest"], traced_company["columns"])
    with pytest.raises(ValueError, match="cannot walk"):
        orchestration.dbt.lineage.trace_model(
            columns=own, parents=parents, props=props, manifest=traced_company["manifest"],
            translator=traced_company["translator"], target_path=traced_company["target_path"],
            project=traced_company["project"],
        )
    assert _outcome(trace_lineage, props, traced_company) == expected
