{#
    The account of each person, one row per person_id that any of its records ties to an
    account. A person's records can point at accounts in several ways; the most reliable
    link wins (link_priority 1 first):
      1 salesforce_crm     the Salesforce account of a contact, or a converted lead's account
      2 stripe_customer    the Stripe customer the person is the billing contact of
      3 zendesk_org        the Zendesk organization of a support end user
      4 hubspot_company    the HubSpot company associated with the contact
      5 email_domain       an account with the domain of the person's business email
    Ties at one priority go to the smallest account_id, so the choice is deterministic.
#}


with

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

account_match_keys as (

    select * from {{ ref('int_account_match_keys') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

account_keys as (

    -- every account key -> its account (all records sharing a key are one account)
    select distinct
        account_match_keys.match_key,
        account_identity_map.account_id
    from account_match_keys
    inner join account_identity_map
        on account_identity_map.account_record_key = account_match_keys.account_record_key

),

person_records as (

    select
        person_identity_map.person_id,
        person_identifiers.*
    from person_identifiers
    inner join person_identity_map
        on person_identity_map.person_record_key = person_identifiers.person_record_key

),

candidate_links as (

    select
        person_id,
        {{ dbt.concat(["'salesforce_account:'", 'salesforce_account_id']) }} as match_key,
        1 as link_priority,
        'salesforce_crm' as link_source
    from person_records
    where salesforce_account_id is not null

    union all

    select
        person_id,
        {{ dbt.concat(["'record:stripe:customer:'", 'stripe_customer_id']) }} as match_key,
        2 as link_priority,
        'stripe_customer' as link_source
    from person_records
    where stripe_customer_id is not null

    union all

    select
        person_id,
        {{ dbt.concat(["'record:zendesk:organization:'", 'zendesk_organization_id']) }} as match_key,
        3 as link_priority,
        'zendesk_org' as link_source
    from person_records
    where zendesk_organization_id is not null

    union all

    select
        person_id,
        {{ dbt.concat(["'record:hubspot:company:'", 'hubspot_company_id']) }} as match_key,
        4 as link_priority,
        'hubspot_company' as link_source
    from person_records
    where hubspot_company_id is not null

    union all

    select
        person_id,
        {{ dbt.concat(["'domain:'", 'email_domain']) }} as match_key,
        5 as link_priority,
        'email_domain' as link_source
    from person_records
    where email_domain is not null
        and email_domain not in (
            -- consumer and test mailboxes say nothing about a company (governed seed)
            select match_value from {{ ref('lead_exclusions') }} where exclusion_type in ('free_email', 'test') and match_on = 'email_domain'
        )

),

resolved_links as (

    select
        candidate_links.person_id,
        account_keys.account_id,
        candidate_links.link_priority,
        candidate_links.link_source,
        row_number() over (
            partition by candidate_links.person_id
            order by candidate_links.link_priority, account_keys.account_id
        ) as link_rank
    from candidate_links
    inner join account_keys
        on account_keys.match_key = candidate_links.match_key

),

final as (

    select
        person_id,
        account_id,
        link_source as account_link_source
    from resolved_links
    where link_rank = 1

)

select * from final
