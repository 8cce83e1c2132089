"""Every source table the generator writes: format, connector column names, keys.

The ingestion imports `SOURCE_TABLES` to learn each table's primary key, updated-at
column and deleted flag. Column names follow the Fivetran connectors (Salesforce,
HubSpot, Stripe, Zendesk; the ads table is shaped like dbt_ad_reporting's campaign
report), as a practical subset: the columns a revenue funnel needs, the primary key,
the updated-at column, the deleted flag where the connector has one, and every id that
links tables. Segment tables follow Segment's warehouse schema (with flat utm_* columns);
product usage is the company's own daily account usage export.

Column types (used for JSON typing and Parquet schemas): s string, i integer, f float,
b boolean, t timestamp (ISO 8601 string in CSV / JSON: UTC `Z` or an explicit offset),
d date (YYYY-MM-DD). A trailing `?` marks an optional column (may be null; the
`null_optional` mess blanks these).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SYSTEMS = ("salesforce", "hubspot", "segment", "ads", "stripe", "product", "zendesk")
FORMAT_EXT = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
SYSTEM_FORMAT = {
    "salesforce": "csv", "zendesk": "csv", "stripe": "csv",
    "hubspot": "jsonl", "segment": "jsonl",
    "ads": "parquet", "product": "parquet",
}


@dataclass(frozen=True)
class SourceTable:
    system: str
    table: str
    format: str                      # csv | jsonl | parquet
    columns: tuple[str, ...]         # ordered, exactly as written
    types: dict = field(compare=False)       # column -> s|i|f|b|t|d
    optional: frozenset = frozenset()        # columns that may be null
    primary_key: tuple[str, ...] = ("id",)
    updated_at: str = "_fivetran_synced"     # the column that orders versions of a row
    deleted_flag: str | None = None          # is_deleted / _fivetran_deleted or None
    event_time: str | None = None            # for event tables: when the event happened

    @property
    def ext(self) -> str:
        return FORMAT_EXT[self.format]

    @property
    def key(self) -> str:
        return f"{self.system}.{self.table}"

    def as_dict(self) -> dict:
        return {
            "system": self.system, "table": self.table, "format": self.format,
            "columns": list(self.columns), "types": dict(self.types),
            "primary_key": list(self.primary_key), "updated_at": self.updated_at,
            "deleted_flag": self.deleted_flag, "event_time": self.event_time,
        }


def _t(system: str, table: str, spec: str, pk=("id",), updated_at="_fivetran_synced",
       deleted_flag=None, event_time=None) -> SourceTable:
    cols, types, optional = [], {}, set()
    for item in spec.split():
        name, typ = item.split(":")
        if typ.endswith("?"):
            typ = typ[:-1]
            optional.add(name)
        cols.append(name)
        types[name] = typ
    return SourceTable(system, table, SYSTEM_FORMAT[system], tuple(cols), types,
                       frozenset(optional), tuple(pk), updated_at, deleted_flag, event_time)


_SF = dict(updated_at="last_modified_date", deleted_flag="is_deleted")

SOURCE_TABLES: list[SourceTable] = [
    # ---------------------------------------------------------------- Salesforce (CSV)
    _t("salesforce", "account",
       "id:s _fivetran_synced:t name:s type:s industry:s? number_of_employees:i? "
       "annual_revenue:f? billing_city:s? billing_country:s? website:s? account_source:s? "
       "owner_id:s parent_id:s master_record_id:s is_deleted:b created_date:t "
       "last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "contact",
       "id:s _fivetran_synced:t account_id:s first_name:s last_name:s name:s email:s "
       "title:s? phone:s? mailing_country:s? lead_source:s? owner_id:s master_record_id:s "
       "is_deleted:b created_date:t last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "lead",
       "id:s _fivetran_synced:t first_name:s last_name:s name:s email:s title:s? company:s "
       "website:s? industry:s? number_of_employees:i? country:s? phone:s? lead_source:s? "
       "status:s owner_id:s is_converted:b converted_date:d converted_account_id:s "
       "converted_contact_id:s converted_opportunity_id:s master_record_id:s is_deleted:b "
       "created_date:t last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "opportunity",
       "id:s _fivetran_synced:t account_id:s name:s type:s stage_name:s amount:f "
       "probability:f close_date:d forecast_category:s is_closed:b is_won:b lead_source:s? "
       "campaign_id:s owner_id:s next_step:s? is_deleted:b created_date:t "
       "last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "opportunity_history",
       "id:s _fivetran_synced:t opportunity_id:s created_by_id:s created_date:t stage_name:s "
       "amount:f probability:f close_date:d forecast_category:s expected_revenue:f "
       "is_deleted:b system_modstamp:t",
       updated_at="system_modstamp", deleted_flag="is_deleted", event_time="created_date"),
    _t("salesforce", "task",
       "id:s _fivetran_synced:t who_id:s what_id:s account_id:s owner_id:s subject:s type:s "
       "task_subtype:s status:s priority:s activity_date:d call_duration_in_seconds:i "
       "is_closed:b is_deleted:b created_date:t last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "event",
       "id:s _fivetran_synced:t who_id:s what_id:s account_id:s owner_id:s subject:s type:s "
       "event_subtype:s start_date_time:t end_date_time:t duration_in_minutes:i "
       "activity_date:d is_deleted:b created_date:t last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "campaign",
       "id:s _fivetran_synced:t name:s type:s status:s start_date:d end_date:d is_active:b "
       "budgeted_cost:f? actual_cost:f? owner_id:s is_deleted:b created_date:t "
       "last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "campaign_member",
       "id:s _fivetran_synced:t campaign_id:s lead_id:s contact_id:s status:s "
       "has_responded:b first_responded_date:d is_deleted:b created_date:t "
       "last_modified_date:t system_modstamp:t", **_SF),
    _t("salesforce", "user",
       "id:s _fivetran_synced:t _fivetran_deleted:b name:s first_name:s last_name:s email:s "
       "username:s title:s department:s manager_id:s is_active:b user_type:s "
       "created_date:t last_modified_date:t",
       updated_at="last_modified_date", deleted_flag="_fivetran_deleted"),
    # ---------------------------------------------------------------- HubSpot (JSON lines)
    _t("hubspot", "contact",
       "id:i _fivetran_synced:t _fivetran_deleted:b property_email:s property_firstname:s "
       "property_lastname:s property_company:s? property_jobtitle:s? property_phone:s? "
       "property_country:s? property_lifecyclestage:s property_hs_lead_status:s "
       "property_associatedcompanyid:i property_hs_analytics_source:s? "
       "property_hs_calculated_merged_vids:s property_createdate:t property_lastmodifieddate:t",
       updated_at="property_lastmodifieddate", deleted_flag="_fivetran_deleted"),
    _t("hubspot", "company",
       "id:i _fivetran_synced:t is_deleted:b property_name:s property_domain:s "
       "property_industry:s? property_numberofemployees:i? property_annualrevenue:f? "
       "property_country:s? property_city:s? property_createdate:t property_hs_lastmodifieddate:t",
       updated_at="property_hs_lastmodifieddate", deleted_flag="is_deleted"),
    _t("hubspot", "contact_property_history",
       "contact_id:i name:s value:s timestamp:t source:s source_id:s _fivetran_synced:t",
       pk=("contact_id", "name", "timestamp"), event_time="timestamp"),
    _t("hubspot", "email_campaign",
       "id:i _fivetran_synced:t app_id:i app_name:s content_id:i name:s subject:s type:s "
       "sub_type:s num_included:i num_queued:i"),
    _t("hubspot", "email_event",
       "id:s _fivetran_synced:t app_id:i created:t email_campaign_id:i portal_id:i "
       "recipient:s sent_by_id:s sent_by_created:t type:s filtered_event:b",
       event_time="created"),
    _t("hubspot", "contact_form_submission",
       "conversion_id:s contact_id:i form_id:s timestamp:t page_id:s page_url:s portal_id:i "
       "title:s _fivetran_synced:t", pk=("conversion_id",), event_time="timestamp"),
    # ---------------------------------------------------------------- Segment (JSON lines)
    _t("segment", "pages",
       "id:s anonymous_id:s user_id:s timestamp:t received_at:t url:s path:s title:s "
       "referrer:s utm_source:s utm_medium:s utm_campaign:s utm_term:s utm_content:s context_ip:s",
       updated_at="received_at", event_time="timestamp"),
    _t("segment", "identifies",
       "id:s anonymous_id:s user_id:s email:s name:s? company:s? timestamp:t received_at:t "
       "context_page_url:s context_page_referrer:s",
       updated_at="received_at", event_time="timestamp"),
    # ---------------------------------------------------------------- ads (Parquet)
    _t("ads", "campaign_spend",
       "date_day:d platform:s account_id:s campaign_id:s campaign_name:s spend:f clicks:i "
       "impressions:i utm_source:s utm_medium:s utm_campaign:s _fivetran_synced:t",
       pk=("date_day", "platform", "campaign_id")),
    # ---------------------------------------------------------------- Stripe (CSV)
    _t("stripe", "customer",
       "id:s _fivetran_synced:t email:s name:s description:s? created:t currency:s "
       "delinquent:b address_country:s? metadata:s is_deleted:b livemode:b",
       deleted_flag="is_deleted"),
    _t("stripe", "subscription",
       "id:s _fivetran_synced:t customer_id:s status:s quantity:i created:t start_date:t "
       "billing_cycle_anchor:t current_period_start:t current_period_end:t trial_start:t "
       "trial_end:t cancel_at_period_end:b canceled_at:t ended_at:t latest_invoice_id:s "
       "metadata:s livemode:b"),
    _t("stripe", "invoice",
       "id:s _fivetran_synced:t customer_id:s subscription_id:s number:s status:s "
       "billing_reason:s currency:s amount_due:i amount_paid:i amount_remaining:i subtotal:i "
       "tax:i total:i created:t due_date:t period_start:t period_end:t paid:b attempted:b "
       "attempt_count:i status_transitions_paid_at:t is_deleted:b livemode:b",
       deleted_flag="is_deleted"),
    # ---------------------------------------------------------------- product (Parquet)
    _t("product", "daily_usage",
       "account_id:s stripe_customer_id:s date_day:d active_users:i sessions:i "
       "reports_created:i dashboards_viewed:i integrations_synced:i api_calls:i updated_at:t",
       pk=("account_id", "date_day"), updated_at="updated_at"),
    # ---------------------------------------------------------------- Zendesk (CSV)
    _t("zendesk", "ticket",
       "id:i _fivetran_synced:t _fivetran_deleted:b created_at:t updated_at:t subject:s "
       "status:s priority:s? type:s? requester_id:i submitter_id:i assignee_id:i "
       "organization_id:i via_channel:s",
       updated_at="updated_at", deleted_flag="_fivetran_deleted"),
    _t("zendesk", "user",
       "id:i _fivetran_synced:t _fivetran_deleted:b name:s email:s organization_id:i role:s "
       "active:b phone:s? time_zone:s? locale:s created_at:t updated_at:t last_login_at:t",
       updated_at="updated_at", deleted_flag="_fivetran_deleted"),
    _t("zendesk", "organization",
       "id:i _fivetran_synced:t name:s external_id:s details:s? created_at:t updated_at:t",
       updated_at="updated_at"),
]

TABLES: dict[str, SourceTable] = {t.key: t for t in SOURCE_TABLES}


def get_table(system: str, table: str) -> SourceTable:
    return TABLES[f"{system}.{table}"]
