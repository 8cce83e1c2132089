"""How dbt nodes appear in Dagster: keys per layer, groups, owners, kinds and tags.

Descriptions, column schemas (with each column's dbt tags, e.g. `pii`) and code references
come from the dbt YAML through dagster-dbt; this translator adds who owns what and marks
the models that hold personal data, so a reviewer can filter the graph on `pii`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetKey, MetadataValue
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.ingestion.assets import raw_asset_key
from orchestration.ingestion.tables import SYSTEM_OWNERS

# layer folder (or resource type) -> (Dagster group, owner)
_LAYERS: dict[str, tuple[str, str]] = {
    "staging": ("staging", "team:data_platform"),
    "intermediate": ("revenue_cycle", "team:revenue_operations"),
    "marts": ("marts", "team:revenue_operations"),
    "seed": ("governance", "team:revenue_operations"),
}

PII_TAG = "pii"
LAYER_TAG = "revenue_cycle/layer"


def _layer(props: Mapping[str, Any]) -> str:
    if props["resource_type"] == "seed":
        return "seed"
    parts = props.get("fqn", [])
    return parts[1] if len(parts) > 2 else "marts"


def _source_system(props: Mapping[str, Any]) -> str | None:
    """staging/<system>/...: the source system a staging model reads."""
    parts = props.get("fqn", [])
    if _layer(props) == "staging" and len(parts) > 3 and parts[2] in SYSTEM_OWNERS:
        return parts[2]
    return None


def pii_columns(props: Mapping[str, Any]) -> list[str]:
    """Columns the YAML marks as personal data (`tags: [pii]` or `meta: {pii: true}`)."""
    return [
        name
        for name, column in (props.get("columns") or {}).items()
        if PII_TAG in (column.get("tags") or []) or (column.get("meta") or {}).get(PII_TAG) is True
    ]


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

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str]:
        owner = _LAYERS.get(_layer(dbt_resource_props), _LAYERS["marts"])[1]
        system = _source_system(dbt_resource_props)
        # a staging model answers to the team that owns its source system, and to the
        # platform team that maintains the model
        return [SYSTEM_OWNERS[system], owner] if system else [owner]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = {**super().get_tags(dbt_resource_props), LAYER_TAG: _layer(dbt_resource_props)}
        if pii_columns(dbt_resource_props):
            tags[PII_TAG] = ""
        return tags

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        pii = pii_columns(dbt_resource_props)
        if pii:
            metadata["pii_columns"] = MetadataValue.json(pii)
        return metadata
