"""Every model and seed, and every column of every relation they build, is documented."""

import json

import duckdb


def test_every_model_seed_and_column_is_documented(materialized_company, dbt_manifest):
    settings, _, _ = materialized_company
    manifest = json.loads(dbt_manifest.read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")]
    assert len(nodes) > 60
    undocumented = [n["name"] for n in nodes if not n["description"].strip()]
    assert not undocumented, f"models or seeds without a description: {undocumented}"
    missing = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for node in nodes:
            documented = {c["name"] for c in node["columns"].values() if c.get("description", "").strip()}
            built = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", [node["schema"], node["alias"] or node["name"]]).fetchall()]
            assert built, f"{node['name']} was not built in {node['schema']}"
            if undocumented_columns := [c for c in built if c not in documented]:
                missing[node["name"]] = undocumented_columns
    assert not missing, f"columns without a description: {missing}"
