{#
    Every dated value of every stage-carrying source field, before the governed mapping is
    applied: one row per (source record, field, value, time), with the funnel stage the
    governed seed source_stage_values gives the value (null when the seed does not list
    it: int_unmapped_stage_values lists it and its test every_stage_value_is_mapped fails
    the build naming the value and its source). A field carries a stage when
    the seed source_stage_values lists it (system, object, field); this model reads the
    fields below, and int_unmapped_stage_values compares their values with the seed.

      hubspot     contact      lifecyclestage, hs_lead_status   every change (property history)
                                                                and the contact's current value
      salesforce  lead         status                           the lead's current status, at its
                                                                last modification (no lead history)
      salesforce  opportunity  stage_name                       every stage change (opportunity
                                                                history) and the current stage
      stripe      subscription status                           trial start (trialing), billing
                                                                start after the trial (active),
                                                                and the current status
      stripe      invoice      billing_reason                   every invoice, at the start of its
                                                                period; the first subscription_cycle
                                                                invoice opens the first paid period
                                                                (active, above) and is left out, each
                                                                later one renews the subscription
      segment     pages        type                             the first page view of each
                                                                anonymous id: a Segment page call
                                                                (call type 'page'), the visit

    Each row carries the person (through int_person_identity_map) or the opportunity it
    moves. Records soft-deleted in their source keep their history here (a Salesforce lead
    deleted after its conversion was still converted): the identity map keeps their person.
#}

with

property_history as (

    select * from {{ ref('stg_hubspot__contact_property_history') }}

),

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

leads as (

    -- with the soft-deleted ones: their statuses and conversions happened
    select * from {{ ref('base_salesforce__leads') }}

),

opportunity_history as (

    select * from {{ ref('stg_salesforce__opportunity_history') }}

),

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

pages as (

    select * from {{ ref('stg_segment__pages') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

source_stage_values as (

    select * from {{ ref('source_stage_values') }}

),

stage_fields as (

    -- the fields that carry a stage, as the governed mapping lists them
    select distinct source_system, source_object, source_field
    from source_stage_values

),

hubspot_values as (

    select
        'hubspot' as source_system,
        'contact' as source_object,
        'contact_property_history' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        property_name as source_field,
        property_value as source_value,
        property_changed_at as occurred_at
    from property_history
    where property_value is not null

    union all

    select
        'hubspot' as source_system,
        'contact' as source_object,
        'contact' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        'lifecyclestage' as source_field,
        contact_lifecycle_stage as source_value,
        contact_modified_at as occurred_at
    from contacts
    where contact_lifecycle_stage is not null

    union all

    select
        'hubspot' as source_system,
        'contact' as source_object,
        'contact' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        'hs_lead_status' as source_field,
        contact_lead_status as source_value,
        contact_modified_at as occurred_at
    from contacts
    where contact_lead_status is not null

),

lead_values as (

    select
        'salesforce' as source_system,
        'lead' as source_object,
        'lead' as source_table,
        lead_id as source_record_id,
        'status' as source_field,
        lead_status as source_value,
        lead_modified_at as occurred_at
    from leads
    where lead_status is not null

),

person_values as (

    select
        person_identity_map.person_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        source_values.*
    from (
        select * from hubspot_values
        union all
        select * from lead_values
    ) as source_values
    left join person_identity_map
        on person_identity_map.source_system = source_values.source_system
        and person_identity_map.source_table = source_values.source_object
        and person_identity_map.source_record_id = source_values.source_record_id

),

subscription_values as (

    select
        subscription_id,
        customer_id,
        'trialing' as source_value,
        'subscription.trial_start' as source_table,
        trial_started_at as occurred_at
    from subscriptions
    where trial_started_at is not null

    union all

    -- billing starts once the trial is over: the subscription's first paid period
    select
        subscription_id,
        customer_id,
        'active' as source_value,
        'subscription.billing_cycle_anchor' as source_table,
        subscription_billing_cycle_anchor_at as occurred_at
    from subscriptions
    where subscription_billing_cycle_anchor_at is not null
      and subscription_billing_cycle_anchor_at <= coalesce(subscription_ended_at, subscription_synced_at)
      and subscription_status <> 'trialing'

    union all

    select
        subscription_id,
        customer_id,
        subscription_status as source_value,
        'subscription' as source_table,
        coalesce(subscription_canceled_at, subscription_ended_at, current_period_started_at, subscription_created_at) as occurred_at
    from subscriptions
    where subscription_status is not null

),

invoice_values as (

    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.invoice_billing_reason as source_value,
        coalesce(invoices.invoice_period_started_at, invoices.invoice_created_at) as occurred_at
    from invoices
    left join subscriptions
        on subscriptions.subscription_id = invoices.subscription_id
    where invoices.invoice_billing_reason is not null
      -- the cycle invoice of the first paid period is the billing start (active), not a
      -- renewal: only a cycle that starts after the billing cycle anchor renews
      and not (
          invoices.invoice_billing_reason = 'subscription_cycle'
          and coalesce(invoices.invoice_period_started_at, invoices.invoice_created_at)
              <= coalesce(subscriptions.subscription_billing_cycle_anchor_at, invoices.invoice_created_at)
      )

),

invoice_stage_values as (

    select
        person_identity_map.person_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        'stripe' as source_system,
        'invoice' as source_object,
        'invoice' as source_table,
        invoice_values.invoice_id as source_record_id,
        'billing_reason' as source_field,
        invoice_values.source_value,
        invoice_values.occurred_at
    from invoice_values
    left join person_identity_map
        on person_identity_map.source_system = 'stripe'
        and person_identity_map.source_table = 'customer'
        and person_identity_map.source_record_id = invoice_values.customer_id

),

first_page_views as (

    -- a visitor enters the funnel at the first page view of each of its anonymous ids
    select
        page_view_id,
        anonymous_id,
        user_id,
        page_viewed_at,
        row_number() over (
            partition by coalesce(anonymous_id, user_id)
            order by page_viewed_at, page_view_id
        ) as page_view_rank
    from pages
    where coalesce(anonymous_id, user_id) is not null

),

page_values as (

    select
        coalesce(anonymous_ids.person_id, user_ids.person_id) as person_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        'segment' as source_system,
        'pages' as source_object,
        'pages' as source_table,
        first_page_views.page_view_id as source_record_id,
        -- Segment's call type: every row of the pages table is a page call
        'type' as source_field,
        'page' as source_value,
        first_page_views.page_viewed_at as occurred_at
    from first_page_views
    left join person_identity_map as anonymous_ids
        on anonymous_ids.source_system = 'segment'
        and anonymous_ids.source_table = 'anonymous_id'
        and anonymous_ids.source_record_id = first_page_views.anonymous_id
    left join person_identity_map as user_ids
        on user_ids.source_system = 'segment'
        and user_ids.source_table = 'user_id'
        and user_ids.source_record_id = first_page_views.user_id
    where first_page_views.page_view_rank = 1

),

stripe_values as (

    select
        person_identity_map.person_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        'stripe' as source_system,
        'subscription' as source_object,
        subscription_values.source_table,
        subscription_values.subscription_id as source_record_id,
        'status' as source_field,
        subscription_values.source_value,
        subscription_values.occurred_at
    from subscription_values
    left join person_identity_map
        on person_identity_map.source_system = 'stripe'
        and person_identity_map.source_table = 'customer'
        and person_identity_map.source_record_id = subscription_values.customer_id

),

opportunity_persons as (

    -- the person behind an opportunity: the lead that was converted into it
    select
        leads.converted_opportunity_id as opportunity_id,
        min(person_identity_map.person_id) as person_id
    from leads
    inner join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table = 'lead'
        and person_identity_map.source_record_id = leads.lead_id
    where leads.converted_opportunity_id is not null
    group by leads.converted_opportunity_id

),

opportunity_stage_values as (

    select
        opportunity_id,
        'opportunity_history' as source_table,
        opportunity_history_id as source_record_id,
        opportunity_stage_name as source_value,
        opportunity_history_created_at as occurred_at
    from opportunity_history
    where opportunity_stage_name is not null

    union all

    select
        opportunity_id,
        'opportunity' as source_table,
        opportunity_id as source_record_id,
        opportunity_stage_name as source_value,
        opportunity_modified_at as occurred_at
    from opportunities
    where opportunity_stage_name is not null

),

opportunity_values as (

    select
        opportunity_persons.person_id,
        opportunity_stage_values.opportunity_id,
        'salesforce' as source_system,
        'opportunity' as source_object,
        opportunity_stage_values.source_table,
        opportunity_stage_values.source_record_id,
        'stage_name' as source_field,
        opportunity_stage_values.source_value,
        opportunity_stage_values.occurred_at
    from opportunity_stage_values
    left join opportunity_persons
        on opportunity_persons.opportunity_id = opportunity_stage_values.opportunity_id

),

all_values as (

    select * from person_values
    union all
    select * from stripe_values
    union all
    select * from invoice_stage_values
    union all
    select * from page_values
    union all
    select * from opportunity_values

),

opportunity_accounts as (

    select
        opportunities.opportunity_id,
        account_identity_map.account_id
    from opportunities
    left join account_identity_map
        on account_identity_map.source_system = 'salesforce'
        and account_identity_map.source_table = 'account'
        and account_identity_map.source_record_id = opportunities.account_id

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

final as (

    select

        ---------- ids
        {{ dbt.hash(dbt.concat([
            'all_values.source_system', "':'", 'all_values.source_table', "':'",
            'all_values.source_record_id', "':'", 'all_values.source_field', "':'",
            'all_values.source_value', "':'", dbt.safe_cast('all_values.occurred_at', dbt.type_string())
        ])) }} as stage_source_value_id,
        all_values.person_id,
        all_values.opportunity_id,
        coalesce(opportunity_accounts.account_id, person_accounts.account_id) as account_id,
        all_values.source_record_id,

        ---------- strings
        case when all_values.opportunity_id is null then 'person' else 'opportunity' end as entity_type,
        all_values.source_system,
        all_values.source_object,
        all_values.source_table,
        all_values.source_field,
        all_values.source_value,
        -- null when the governed mapping does not list the value: a test fails on it
        source_stage_values.funnel_stage,

        ---------- timestamps
        all_values.occurred_at

    from all_values
    inner join stage_fields
        on stage_fields.source_system = all_values.source_system
        and stage_fields.source_object = all_values.source_object
        and stage_fields.source_field = all_values.source_field
    left join source_stage_values
        on source_stage_values.source_system = all_values.source_system
        and source_stage_values.source_object = all_values.source_object
        and source_stage_values.source_field = all_values.source_field
        and source_stage_values.source_value = all_values.source_value
    left join opportunity_accounts
        on opportunity_accounts.opportunity_id = all_values.opportunity_id
    left join person_accounts
        on person_accounts.person_id = all_values.person_id
    where all_values.occurred_at is not null

)

select * from final
