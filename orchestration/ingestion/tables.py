"""The source tables Dagster ingests, with what the raw layer needs to know of each."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SourceTable:
    """One table of one source system as it arrives in the landing zone."""

    system: str
    table: str
    file_format: str  # csv | jsonl | parquet
    primary_key: tuple[str, ...]

    @property
    def dataset(self) -> str:
        return f"raw_{self.system}"

    @property
    def resource_name(self) -> str:
        return f"{self.system}__{self.table}"


INGESTED_TABLES: tuple[SourceTable, ...] = (
    SourceTable("salesforce", "lead", "csv", ("id",)),
)


def tables_by_system(tables=INGESTED_TABLES) -> dict[str, list[SourceTable]]:
    grouped: dict[str, list[SourceTable]] = {}
    for table in tables:
        grouped.setdefault(table.system, []).append(table)
    return grouped
