"""How dbt nodes appear in Dagster: keys per layer, groups, owners and kinds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.ingestion.assets import raw_asset_key

# layer folder (or resource type) -> (Dagster group, owner)
_LAYERS: dict[str, tuple[str, str]] = {
    "staging": ("staging", "team:data_platform"),
    "intermediate": ("revenue_cycle", "team:revenue_operations"),
    "marts": ("marts", "team:revenue_operations"),
    "seed": ("governance", "team:revenue_operations"),
}


def _layer(props: Mapping[str, Any]) -> str:
    if props["resource_type"] == "seed":
        return "seed"
    parts = props.get("fqn", [])
    return parts[1] if len(parts) > 2 else "marts"


class RevenueCycleTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        group, _ = _LAYERS.get(_layer(dbt_resource_props), _LAYERS["marts"])
        return AssetKey([group, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return _LAYERS.get(_layer(dbt_resource_props), _LAYERS["marts"])[0]

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return [_LAYERS.get(_layer(dbt_resource_props), _LAYERS["marts"])[1]]
