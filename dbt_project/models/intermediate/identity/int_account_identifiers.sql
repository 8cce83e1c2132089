{#
    Every account-bearing source record, one row per (source system, source table, source
    record id), with the keys identity resolution matches on: the Salesforce account id it
    is or points at, a normalized web domain and a normalized company name, plus the
    firmographics dim_account picks from. Salesforce accounts merged into a master are
    listed too, so that their old ids still resolve.
#}

{%- set suffixes = var('identity_company_name_suffixes') %}

with

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

salesforce_merged_records as (

    select * from {{ ref('stg_salesforce__merged_records') }}

),

hubspot_companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

stripe_customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

zendesk_organizations as (

    select * from {{ ref('stg_zendesk__organizations') }}

),

product_daily_usage as (

    select * from {{ ref('stg_product__daily_usage') }}

),

salesforce_account_records as (

    select
        'salesforce' as source_system,
        'account' as source_table,
        account_id as source_record_id,
        account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        account_website as raw_domain,
        account_name,
        account_industry as industry,
        account_employee_count as employee_count,
        account_billing_country as country,
        account_created_at as first_seen_at
    from salesforce_accounts

),

salesforce_merged_account_records as (

    select
        'salesforce' as source_system,
        'account' as source_table,
        merged_record_id as source_record_id,
        merged_record_id as salesforce_account_id,
        merged_into_record_id,
        cast(null as {{ dbt.type_string() }}) as raw_domain,
        cast(null as {{ dbt.type_string() }}) as account_name,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as employee_count,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_timestamp() }}) as first_seen_at
    from salesforce_merged_records
    where record_type = 'account'

),

hubspot_company_records as (

    select
        'hubspot' as source_system,
        'company' as source_table,
        cast(company_id as {{ dbt.type_string() }}) as source_record_id,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        company_domain as raw_domain,
        company_name as account_name,
        company_industry as industry,
        company_employee_count as employee_count,
        company_country as country,
        company_created_at as first_seen_at
    from hubspot_companies

),

stripe_customer_parsed as (

    -- the Salesforce account id sits in the metadata JSON ({"salesforce_account_id": "..."})
    -- or in the description ("Account <id>"); string functions keep this portable
    select
        *,
        nullif(trim({{ dbt.split_part(
            dbt.split_part(
                "replace(coalesce(customer_metadata, ''), ' ', '')",
                "'\"salesforce_account_id\":\"'",
                2
            ),
            "'\"'",
            1
        ) }}), '') as metadata_salesforce_account_id,
        case
            when customer_description like 'Account %'
                then nullif(trim({{ dbt.split_part('customer_description', "' '", 2) }}), '')
        end as description_salesforce_account_id,
        nullif({{ dbt.split_part('customer_email', "'@'", 2) }}, '') as customer_email_domain
    from stripe_customers

),

stripe_customer_records as (

    select
        'stripe' as source_system,
        'customer' as source_table,
        customer_id as source_record_id,
        coalesce(metadata_salesforce_account_id, description_salesforce_account_id) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        case
            when customer_email_domain not in (
            -- consumer and test mailboxes say nothing about a company (governed seed)
            select match_value from {{ ref('lead_exclusions') }} where exclusion_type in ('free_email', 'test') and match_on = 'email_domain'
        ) then customer_email_domain
        end as raw_domain,
        customer_name as account_name,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as employee_count,
        customer_address_country as country,
        customer_created_at as first_seen_at
    from stripe_customer_parsed

),

zendesk_organization_records as (

    select
        'zendesk' as source_system,
        'organization' as source_table,
        cast(organization_id as {{ dbt.type_string() }}) as source_record_id,
        nullif(trim(organization_external_id), '') as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        cast(null as {{ dbt.type_string() }}) as raw_domain,
        organization_name as account_name,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as employee_count,
        cast(null as {{ dbt.type_string() }}) as country,
        organization_created_at as first_seen_at
    from zendesk_organizations

),

product_account_records as (

    select
        'product' as source_system,
        'daily_usage' as source_table,
        account_id as source_record_id,
        account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as merged_into_record_id,
        cast(null as {{ dbt.type_string() }}) as raw_domain,
        cast(null as {{ dbt.type_string() }}) as account_name,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as employee_count,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(min(usage_date) as {{ dbt.type_timestamp() }}) as first_seen_at
    from product_daily_usage
    where account_id is not null
    group by account_id

),

unioned as (

    select * from salesforce_account_records
    union all
    select * from salesforce_merged_account_records
    union all
    select * from hubspot_company_records
    union all
    select * from stripe_customer_records
    union all
    select * from zendesk_organization_records
    union all
    select * from product_account_records

),

domain_steps as (

    -- "https://www.Example.com/about" -> "example.com"
    select
        *,
        {{ dbt.split_part(
            "replace(replace(lower(trim(raw_domain)), 'https://', ''), 'http://', '')",
            "'/'",
            1
        ) }} as domain_host,
        replace(replace(lower(trim(account_name)), '.', ''), ',', '') as name_cleaned
    from unioned

),

normalized as (

    select
        *,
        nullif(
            case
                when domain_host like 'www.%'
                    then {{ dbt.right('domain_host', dbt.length('domain_host') ~ ' - 4') }}
                else domain_host
            end,
            ''
        ) as account_domain,
        nullif(trim(
            case
                {%- for suffix in suffixes %}
                when name_cleaned like '% {{ suffix }}'
                    then left(name_cleaned, {{ dbt.length('name_cleaned') }} - {{ suffix | length + 1 }})
                {%- endfor %}
                else name_cleaned
            end
        ), '') as normalized_account_name
    from domain_steps

),

final as (

    select

        ---------- ids
        {{ dbt.concat(['source_system', "':'", 'source_table', "':'", 'source_record_id']) }} as account_record_key,
        source_system,
        source_table,
        source_record_id,
        salesforce_account_id,
        merged_into_record_id,

        ---------- strings
        account_domain,
        account_name,
        normalized_account_name,
        industry,
        country,

        ---------- numerics
        employee_count,

        ---------- booleans
        merged_into_record_id is not null as is_merged_record,

        ---------- timestamps
        first_seen_at

    from normalized

)

select * from final
