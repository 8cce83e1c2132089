"""Source-system vocabularies, as the systems themselves have them.

The generator simulates the source systems on its own terms: these are the raw values a
connector delivers, NOT the warehouse's governed mapping (which lives in a dbt seed that
this package never reads), so a wrong governed mapping is caught by the tests.
"""
from __future__ import annotations

# HubSpot contact property `lifecyclestage` (internal values).
HUBSPOT_LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
    "opportunity", "customer", "evangelist", "other",
)
# HubSpot contact property `hs_lead_status` (internal values).
HUBSPOT_LEAD_STATUSES = (
    "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING",
)
# Salesforce Lead.Status picklist (the standard four plus a custom recycle value).
SALESFORCE_LEAD_STATUSES = (
    "Open - Not Contacted", "Working - Contacted", "Closed - Converted",
    "Closed - Not Converted", "Recycled",
)
# Salesforce Opportunity.StageName picklist (standard sales process), in order.
SALESFORCE_OPPORTUNITY_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
    "Negotiation/Review", "Closed Won", "Closed Lost",
)
SALESFORCE_STAGE_PROBABILITY = {
    "Prospecting": 10, "Qualification": 10, "Needs Analysis": 20, "Value Proposition": 50,
    "Id. Decision Makers": 60, "Perception Analysis": 70, "Proposal/Price Quote": 75,
    "Negotiation/Review": 90, "Closed Won": 100, "Closed Lost": 0,
}
SALESFORCE_FORECAST_CATEGORY = {
    "Prospecting": "Pipeline", "Qualification": "Pipeline", "Needs Analysis": "Pipeline",
    "Value Proposition": "Pipeline", "Id. Decision Makers": "Pipeline",
    "Perception Analysis": "BestCase", "Proposal/Price Quote": "BestCase",
    "Negotiation/Review": "Forecast", "Closed Won": "Closed", "Closed Lost": "Omitted",
}
SALESFORCE_ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Former Customer", "Competitor")
SALESFORCE_OPPORTUNITY_TYPES = ("New Business", "Existing Business")
# Stripe subscription.status.
STRIPE_SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "canceled", "unpaid", "incomplete")
STRIPE_INVOICE_STATUSES = ("draft", "open", "paid", "void", "uncollectible")
STRIPE_BILLING_REASONS = ("subscription_create", "subscription_cycle", "subscription_update", "manual")
# HubSpot email_event.type values the generator emits.
HUBSPOT_EMAIL_EVENT_TYPES = ("SENT", "DELIVERED", "OPEN", "CLICK", "BOUNCE")
# Zendesk ticket.status.
ZENDESK_TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")

# Values that real portals carry but no governed mapping lists: injected at the
# `unknown_stage` mess rate so the warehouse must name them instead of nulling them.
UNKNOWN_STAGE_VALUES = {
    ("hubspot", "contact", "property_lifecyclestage"): ("1043998812", "partner"),
    ("hubspot", "contact", "property_hs_lead_status"): ("NURTURE_CUSTOM", "RECYCLED_Q3"),
    ("hubspot", "contact_property_history", "value"): ("NURTURE_CUSTOM", "1043998812"),
    ("salesforce", "lead", "status"): ("Nurture", "Open - Re-engaged"),
    ("salesforce", "opportunity", "stage_name"): ("Discovery", "Closed Lost - Duplicate"),
    ("salesforce", "opportunity_history", "stage_name"): ("Discovery",),
    ("stripe", "subscription", "status"): ("paused",),
}
