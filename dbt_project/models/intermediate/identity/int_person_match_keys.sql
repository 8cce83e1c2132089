{#
    The keys that tie person records together, one row per (record, key). Two records that
    share a key are the same person; int_person_identity_map closes this over chains.
      record:<key>            every record, so that one that matches nothing stays itself
      email:<email>           normalized email equality, across every system
      salesforce_id:<id>      a lead or contact id: the record itself, the master it was
                              merged into, the contact a lead was converted to
      hubspot_contact:<vid>   a HubSpot contact and the vids merged into it
      segment_user:<user id>  a Segment user id and every anonymous id seen with it
#}

with

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

segment_identifies as (

    select * from {{ ref('stg_segment__identifies') }}

),

segment_pages as (

    select * from {{ ref('stg_segment__pages') }}

),

salesforce_leads as (

    select * from {{ ref('base_salesforce__leads') }}

),

record_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'record:'", 'person_record_key']) }} as match_key,
        'record' as match_rule
    from identifiers

),

email_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'email:'", 'email']) }} as match_key,
        'email' as match_rule
    from identifiers
    where email is not null

),

salesforce_own_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'salesforce_id:'", 'source_record_id']) }} as match_key,
        'salesforce_merge' as match_rule
    from identifiers
    where source_system = 'salesforce'

),

salesforce_master_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'salesforce_id:'", 'merged_into_record_id']) }} as match_key,
        'salesforce_merge' as match_rule
    from identifiers
    where source_system = 'salesforce'
        and merged_into_record_id is not null

),

lead_conversion_keys as (

    select
        {{ dbt.concat(["'salesforce:lead:'", 'lead_id']) }} as person_record_key,
        {{ dbt.concat(["'salesforce_id:'", 'converted_contact_id']) }} as match_key,
        'lead_conversion' as match_rule
    from salesforce_leads
    where converted_contact_id is not null

),

hubspot_own_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'hubspot_contact:'", 'source_record_id']) }} as match_key,
        'hubspot_merge' as match_rule
    from identifiers
    where source_system = 'hubspot'
        and source_table = 'contact'

),

hubspot_survivor_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'hubspot_contact:'", 'merged_into_record_id']) }} as match_key,
        'hubspot_merge' as match_rule
    from identifiers
    where source_system = 'hubspot'
        and source_table = 'contact'
        and merged_into_record_id is not null

),

segment_user_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'segment_user:'", 'source_record_id']) }} as match_key,
        'segment_identity' as match_rule
    from identifiers
    where source_system = 'segment'
        and source_table = 'user_id'

),

segment_links as (

    -- every (anonymous id, user id) pair a page view or an identify call was seen with
    select anonymous_id, user_id from segment_pages
    where anonymous_id is not null and user_id is not null
    union
    select anonymous_id, user_id from segment_identifies
    where anonymous_id is not null and user_id is not null

),

segment_anonymous_user_keys as (

    select
        {{ dbt.concat(["'segment:anonymous_id:'", 'anonymous_id']) }} as person_record_key,
        {{ dbt.concat(["'segment_user:'", 'user_id']) }} as match_key,
        'segment_identity' as match_rule
    from segment_links

),

segment_emails as (

    -- every email an identify call tied to an anonymous id or a user id
    select
        {{ dbt.concat(["'segment:anonymous_id:'", 'anonymous_id']) }} as person_record_key,
        identify_email as email
    from segment_identifies
    where anonymous_id is not null and identify_email is not null
    union
    select
        {{ dbt.concat(["'segment:user_id:'", 'user_id']) }} as person_record_key,
        identify_email as email
    from segment_identifies
    where user_id is not null and identify_email is not null

),

segment_email_keys as (

    select
        person_record_key,
        {{ dbt.concat(["'email:'", 'email']) }} as match_key,
        'email' as match_rule
    from segment_emails

),

unioned as (

    select * from record_keys
    union all
    select * from email_keys
    union all
    select * from salesforce_own_keys
    union all
    select * from salesforce_master_keys
    union all
    select * from lead_conversion_keys
    union all
    select * from hubspot_own_keys
    union all
    select * from hubspot_survivor_keys
    union all
    select * from segment_user_keys
    union all
    select * from segment_anonymous_user_keys
    union all
    select * from segment_email_keys

),

final as (

    select
        person_record_key,
        match_key,
        min(match_rule) as match_rule
    from unioned
    group by person_record_key, match_key

)

select * from final
