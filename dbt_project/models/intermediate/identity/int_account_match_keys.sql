{#
    The keys that tie account records together, one row per (record, key). Two records
    that share a key are the same account; int_account_identity_map closes this over chains.
      record:<key>                 every record, so that one that matches nothing stays itself
      salesforce_account:<id>      a Salesforce account, the master it was merged into, and
                                   every record that names it (Zendesk external_id, product
                                   account_id, Stripe metadata or description)
      domain:<domain>              the normalized web domain (Salesforce website, HubSpot
                                   domain, a Stripe customer's business email domain)
      name:<normalized name>       the fallback: only records without a domain, and records
                                   whose name is not shared by two different domains, so a
                                   name never joins two companies that the domains tell apart
#}

with

identifiers as (

    select * from {{ ref('int_account_identifiers') }}

),

name_domains as (

    select
        normalized_account_name,
        count(distinct account_domain) as domain_count
    from identifiers
    where normalized_account_name is not null
    group by normalized_account_name

),

record_keys as (

    select
        account_record_key,
        {{ dbt.concat(["'record:'", 'account_record_key']) }} as match_key,
        'record' as match_rule
    from identifiers

),

salesforce_keys as (

    select
        account_record_key,
        {{ dbt.concat(["'salesforce_account:'", 'salesforce_account_id']) }} as match_key,
        'salesforce_id' as match_rule
    from identifiers
    where salesforce_account_id is not null

),

salesforce_master_keys as (

    select
        account_record_key,
        {{ dbt.concat(["'salesforce_account:'", 'merged_into_record_id']) }} as match_key,
        'salesforce_merge' as match_rule
    from identifiers
    where merged_into_record_id is not null

),

domain_keys as (

    select
        account_record_key,
        {{ dbt.concat(["'domain:'", 'account_domain']) }} as match_key,
        'domain' as match_rule
    from identifiers
    where account_domain is not null

),

name_keys as (

    select
        identifiers.account_record_key,
        {{ dbt.concat(["'name:'", 'identifiers.normalized_account_name']) }} as match_key,
        'name' as match_rule
    from identifiers
    inner join name_domains
        on name_domains.normalized_account_name = identifiers.normalized_account_name
    where identifiers.account_domain is null
        or name_domains.domain_count <= 1

),

unioned as (

    select * from record_keys
    union all
    select * from salesforce_keys
    union all
    select * from salesforce_master_keys
    union all
    select * from domain_keys
    union all
    select * from name_keys

),

final as (

    select
        account_record_key,
        match_key,
        min(match_rule) as match_rule
    from unioned
    group by account_record_key, match_key

)

select * from final
