{#
    One row per conformed account (identity resolution: int_account_identity_map), its
    firmographics taken from the best source that has each one:
      name, industry, size, country: Salesforce account, then HubSpot company, then Stripe
      customer, then Zendesk organization; domain: HubSpot company (its domain field), then
      the Salesforce website, then a Stripe customer's business email domain.
    Within one source the live record seen first wins (a duplicate is younger).
#}

{%- set systems = ['salesforce', 'hubspot', 'stripe', 'zendesk', 'product'] %}
{%- set crm_first = "case source_system when 'salesforce' then 1 when 'hubspot' then 2 when 'stripe' then 3 when 'zendesk' then 4 else 5 end" %}
{%- set domain_first = "case source_system when 'hubspot' then 1 when 'salesforce' then 2 when 'stripe' then 3 else 4 end" %}
{%- set attributes = [
    ('account_name', 'account_name', crm_first),
    ('account_domain', 'account_domain', domain_first),
    ('account_industry', 'industry', crm_first),
    ('account_employee_count', 'employee_count', crm_first),
    ('account_country', 'country', crm_first),
] %}

with

account_identifiers as (

    select * from {{ ref('int_account_identifiers') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

account_records as (

    select
        account_identity_map.account_id,
        account_identifiers.*
    from account_identity_map
    inner join account_identifiers
        on account_identifiers.account_record_key = account_identity_map.account_record_key

),

{% for output_column, source_column, priority in attributes %}
ranked_{{ output_column }} as (

    select
        account_id,
        {{ source_column }} as {{ output_column }},
        row_number() over (
            partition by account_id
            order by
                {{ priority }},
                first_seen_at nulls last,
                account_record_key
        ) as source_rank
    from account_records
    where {{ source_column }} is not null

),

best_{{ output_column }} as (

    select account_id, {{ output_column }}
    from ranked_{{ output_column }}
    where source_rank = 1

),

{% endfor %}
account_systems as (

    select distinct
        account_id,
        source_system
    from account_records

),

system_lists as (

    select
        account_id,
        {{ dbt.listagg('source_system', "', '", 'order by source_system') }} as source_systems
    from account_systems
    group by account_id

),

accounts as (

    select
        account_id,
        -- the live Salesforce account (a merged-away id is never the one shown)
        min(case
            when source_system = 'salesforce' and source_table = 'account' and not is_merged_record
                then source_record_id
        end) as salesforce_account_id,
        count(*) as source_record_count,
        {%- for system in systems %}
        max(case when source_system = '{{ system }}' then 1 else 0 end) = 1 as is_in_{{ system }},
        {%- endfor %}
        min(first_seen_at) as first_seen_at
    from account_records
    group by account_id

),

final as (

    select

        ---------- ids
        accounts.account_id,
        accounts.salesforce_account_id,

        ---------- strings
        {%- for output_column, source_column, priority in attributes %}
        {%- if output_column != 'account_employee_count' %}
        best_{{ output_column }}.{{ output_column }},
        {%- endif %}
        {%- endfor %}
        system_lists.source_systems,

        ---------- numerics
        best_account_employee_count.account_employee_count,
        accounts.source_record_count,

        ---------- booleans
        {%- for system in systems %}
        accounts.is_in_{{ system }},
        {%- endfor %}

        ---------- timestamps
        accounts.first_seen_at

    from accounts
    inner join system_lists
        on system_lists.account_id = accounts.account_id
    {%- for output_column, source_column, priority in attributes %}
    left join best_{{ output_column }}
        on best_{{ output_column }}.account_id = accounts.account_id
    {%- endfor %}

)

select * from final
