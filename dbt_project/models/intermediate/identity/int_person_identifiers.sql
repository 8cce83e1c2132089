{#
    Every person-bearing source record, one row per (source system, source table, source
    record id), with the keys identity resolution matches on. Records merged away in their
    source (Salesforce master_record_id, HubSpot merged vids) are listed too, so that their
    old ids still resolve; they carry the id of the record they were merged into.
    Records soft-deleted in their source (and not merged) are listed as well, flagged
    is_deleted_record: a deletion does not undo what the person did while the record was
    live (its property history, its lead conversion), so the record keeps its person.
#}

with

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

salesforce_contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

salesforce_merged_records as (

    select * from {{ ref('stg_salesforce__merged_records') }}

),

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

hubspot_contacts_with_deleted as (

    select * from {{ ref('base_hubspot__contacts') }}

),

salesforce_leads_with_deleted as (

    select * from {{ ref('base_salesforce__leads') }}

),

salesforce_contacts_with_deleted as (

    select * from {{ ref('base_salesforce__contacts') }}

),

hubspot_contact_merges as (

    select * from {{ ref('stg_hubspot__contact_merges') }}

),

segment_identifies as (

    select * from {{ ref('stg_segment__identifies') }}

),

segment_pages as (

    select * from {{ ref('stg_segment__pages') }}

),

stripe_customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

zendesk_users as (

    select * from {{ ref('stg_zendesk__users') }}

),

-- Segment: every anonymous id and every user id of the pages and identifies is a record

segment_sightings as (

    select
        anonymous_id,
        user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as company_name,
        page_viewed_at as seen_at
    from segment_pages

    union all

    select
        anonymous_id,
        user_id,
        identify_email as email,
        identify_company_name as company_name,
        identified_at as seen_at
    from segment_identifies

),

segment_anonymous_ids as (

    select
        'segment' as source_system,
        'anonymous_id' as source_table,
        anonymous_id as source_record_id,
        min(email) as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        min(company_name) as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        min(seen_at) as first_seen_at
    from segment_sightings
    where anonymous_id is not null
    group by anonymous_id

),

segment_user_ids as (

    select
        'segment' as source_system,
        'user_id' as source_table,
        user_id as source_record_id,
        min(email) as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        min(company_name) as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        min(seen_at) as first_seen_at
    from segment_sightings
    where user_id is not null
    group by user_id

),

-- Salesforce: leads, contacts, and the leads and contacts merged into a master record

salesforce_lead_records as (

    select
        'salesforce' as source_system,
        'lead' as source_table,
        lead_id as source_record_id,
        lead_email as email,
        converted_account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        lead_company_name as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        lead_created_at as first_seen_at
    from salesforce_leads

),

salesforce_contact_records as (

    select
        'salesforce' as source_system,
        'contact' as source_table,
        contact_id as source_record_id,
        contact_email as email,
        account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        cast(null as {{ dbt.type_string() }}) as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        contact_created_at as first_seen_at
    from salesforce_contacts

),

salesforce_merged_person_records as (

    select
        'salesforce' as source_system,
        record_type as source_table,
        merged_record_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        cast(null as {{ dbt.type_string() }}) as company_name,
        merged_into_record_id,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at
    from salesforce_merged_records
    where record_type in ('lead', 'contact')

),

-- HubSpot: live contacts and the vids merged into them

hubspot_contact_records as (

    select
        'hubspot' as source_system,
        'contact' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        contact_email as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(company_id as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        contact_company_name as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        contact_created_at as first_seen_at
    from hubspot_contacts

),

hubspot_merged_contact_records as (

    select
        'hubspot' as source_system,
        'contact' as source_table,
        cast(merged_contact_id as {{ dbt.type_string() }}) as source_record_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        cast(null as {{ dbt.type_string() }}) as company_name,
        cast(merged_into_contact_id as {{ dbt.type_string() }}) as merged_into_record_id,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at
    from hubspot_contact_merges
    -- a vid listed as merged that is still a live contact is kept as the live record
    where merged_contact_id not in (select contact_id from hubspot_contacts)

),

-- soft-deleted in their source, not merged: still the person they were

salesforce_deleted_lead_records as (

    select
        'salesforce' as source_system,
        'lead' as source_table,
        lead_id as source_record_id,
        lead_email as email,
        converted_account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        lead_company_name as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        lead_created_at as first_seen_at
    from salesforce_leads_with_deleted
    where is_deleted
        and merged_into_lead_id is null

),

salesforce_deleted_contact_records as (

    select
        'salesforce' as source_system,
        'contact' as source_table,
        contact_id as source_record_id,
        contact_email as email,
        account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        cast(null as {{ dbt.type_string() }}) as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        contact_created_at as first_seen_at
    from salesforce_contacts_with_deleted
    where is_deleted
        and merged_into_contact_id is null

),

hubspot_deleted_contact_records as (

    select
        'hubspot' as source_system,
        'contact' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        contact_email as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(company_id as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        contact_company_name as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        contact_created_at as first_seen_at
    from hubspot_contacts_with_deleted
    where is_deleted
        -- a contact merged into another is listed above, with the contact it went into
        and contact_id not in (select merged_contact_id from hubspot_contact_merges)

),

-- billing and support

stripe_customer_records as (

    select
        'stripe' as source_system,
        'customer' as source_table,
        customer_id as source_record_id,
        customer_email as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(null as {{ dbt.type_string() }}) as zendesk_organization_id,
        customer_id as stripe_customer_id,
        customer_name as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        customer_created_at as first_seen_at
    from stripe_customers

),

zendesk_user_records as (

    -- end users only: agents and admins are our own support staff, not buyers
    select
        'zendesk' as source_system,
        'user' as source_table,
        cast(user_id as {{ dbt.type_string() }}) as source_record_id,
        user_email as email,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as hubspot_company_id,
        cast(organization_id as {{ dbt.type_string() }}) as zendesk_organization_id,
        cast(null as {{ dbt.type_string() }}) as stripe_customer_id,
        cast(null as {{ dbt.type_string() }}) as company_name,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        user_created_at as first_seen_at
    from zendesk_users
    where coalesce(user_role, 'end-user') not in ('agent', 'admin')

),

live_records as (

    select * from salesforce_lead_records
    union all
    select * from salesforce_contact_records
    union all
    select * from salesforce_merged_person_records
    union all
    select * from hubspot_contact_records
    union all
    select * from hubspot_merged_contact_records
    union all
    select * from segment_anonymous_ids
    union all
    select * from segment_user_ids
    union all
    select * from stripe_customer_records
    union all
    select * from zendesk_user_records

),

deleted_records as (

    select * from salesforce_deleted_lead_records
    union all
    select * from salesforce_deleted_contact_records
    union all
    select * from hubspot_deleted_contact_records

),

unioned as (

    select live_records.*, false as is_deleted_record from live_records
    union all
    select deleted_records.*, true as is_deleted_record from deleted_records

),

final as (

    select

        ---------- ids
        {{ dbt.concat(['source_system', "':'", 'source_table', "':'", 'source_record_id']) }} as person_record_key,
        source_system,
        source_table,
        source_record_id,
        merged_into_record_id,
        salesforce_account_id,
        hubspot_company_id,
        zendesk_organization_id,
        stripe_customer_id,

        ---------- strings
        email,
        nullif({{ dbt.split_part('email', "'@'", 2) }}, '') as email_domain,
        company_name,

        ---------- booleans
        merged_into_record_id is not null as is_merged_record,
        is_deleted_record,

        ---------- timestamps
        first_seen_at

    from unioned

)

select * from final
