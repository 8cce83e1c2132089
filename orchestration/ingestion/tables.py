"""The source tables Dagster ingests: the landing contract, with an owner per system."""

from __future__ import annotations

from collections.abc import Iterable

from orchestration.sources.schemas import SOURCE_TABLES, SourceTable

# Which team answers for each source system's data (Dagster asset owners).
SYSTEM_OWNERS: dict[str, str] = {
    "salesforce": "team:sales",
    "hubspot": "team:marketing",
    "segment": "team:marketing",
    "ads": "team:marketing",
    "stripe": "team:customer_success",
    "product": "team:customer_success",
    "zendesk": "team:customer_success",
}

SYSTEM_DESCRIPTIONS: dict[str, str] = {
    "salesforce": "Salesforce CRM export",
    "hubspot": "HubSpot marketing-automation export",
    "segment": "Segment web-analytics events",
    "ads": "ad platforms' daily campaign spend",
    "stripe": "Stripe billing export",
    "product": "product usage per account and day",
    "zendesk": "Zendesk support export",
}


def tables_by_system(tables: Iterable[SourceTable] = SOURCE_TABLES) -> dict[str, list[SourceTable]]:
    """The source contract (orchestration.sources.schemas), grouped per source system."""
    grouped: dict[str, list[SourceTable]] = {}
    for table in tables:
        grouped.setdefault(table.system, []).append(table)
    return grouped
