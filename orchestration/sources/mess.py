"""How messy the generated exports are: one rate per kind of mess."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class MessConfig:
    """Rates of each kind of mess. `MessConfig()` is realistic, `MessConfig.none()` is clean.

    - email_variation: share of person records (per system record) whose email is written
      with different case and/or surrounding spaces.
    - duplicate: share of persons (and accounts) that get a second record in a system;
      about 60% of those are merged (Salesforce `master_record_id` + `is_deleted`, HubSpot
      `property_hs_calculated_merged_vids` + `_fivetran_deleted`), the rest stay duplicates.
    - soft_delete: share of records (tables with a deleted flag) deleted at some point.
    - update_after_export: per record and per day after the initial export, the probability
      that an already exported record is edited again (a later file carries the new version).
    - late_arrival: share of event rows (web, email, form, property history) that reach the
      connector 1-5 days after they happened (so they can land in a later file).
    - out_of_order: share of rows in each file moved away from time order.
    - tz_offset: share of timestamp values in CSV / JSON written with a non-UTC offset
      (+02:00, -05:00, ...; same instant).
    - null_optional: share of values of optional columns written as null.
    - unknown_stage: share of stage values replaced by a value the governed mapping lacks.
    - malformed: share of CSV / JSON lines made unparseable (wrong column count, bad date,
      bad number, broken JSON, wrong JSON type). Each one is listed in the truth.
    """

    email_variation: float = 0.15
    duplicate: float = 0.03
    soft_delete: float = 0.01
    update_after_export: float = 0.002
    late_arrival: float = 0.01
    out_of_order: float = 0.02
    tz_offset: float = 0.10
    null_optional: float = 0.05
    unknown_stage: float = 0.003
    malformed: float = 0.0005

    @classmethod
    def none(cls) -> "MessConfig":
        return cls(**{f.name: 0.0 for f in fields(cls)})

    @classmethod
    def from_dict(cls, d: dict) -> "MessConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in d.items() if k in names})

    def as_dict(self) -> dict:
        return asdict(self)
