{#
    One row per calendar day over the company's history: from 1 January of the year of the
    earliest dated record (a page view, a campaign, an opportunity, an invoice) to 31
    December of the year of the latest one (invoice periods run into the future) or of
    today, whichever is later. Built with dbt's date_spine and cross-database date macros.
#}

{%- set bounds_sql -%}
    select
        min(first_at) as first_at,
        max(last_at) as last_at
    from (
        select min(page_viewed_at) as first_at, max(page_viewed_at) as last_at from {{ ref('stg_segment__pages') }}
        union all
        select min(opportunity_created_at), max(opportunity_created_at) from {{ ref('stg_salesforce__opportunities') }}
        union all
        select min(cast(campaign_start_date as {{ dbt.type_timestamp() }})), max(cast(campaign_start_date as {{ dbt.type_timestamp() }}))
        from {{ ref('stg_salesforce__campaigns') }}
        union all
        select min(invoice_created_at), max(invoice_period_ends_at) from {{ ref('stg_stripe__invoices') }}
    ) as dated
{%- endset -%}

{%- set first_year, last_year = 2020, modules.datetime.date.today().year -%}
{%- if execute -%}
    {%- set bounds = run_query(bounds_sql) -%}
    {%- if bounds and bounds.rows[0][0] is not none -%}
        {%- set first_year = bounds.rows[0][0].year -%}
        {%- set last_year = [bounds.rows[0][1].year, last_year] | max -%}
    {%- endif -%}
{%- endif %}

with

spine as (

    {{ dbt.date_spine(
        datepart='day',
        start_date="cast('" ~ first_year ~ "-01-01' as date)",
        end_date="cast('" ~ (last_year + 1) ~ "-01-01' as date)",
    ) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start_date,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year_number,
        cast(extract(quarter from date_day) as {{ dbt.type_int() }}) as quarter_number,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month_number,
        cast(extract(day from date_day) as {{ dbt.type_int() }}) as day_of_month,
        {{ dbt.datediff(dbt.date_trunc('week', 'date_day'), 'date_day', 'day') }} + 1 as day_of_week_iso,
        {{ dbt.datediff(dbt.date_trunc('week', 'date_day'), 'date_day', 'day') }} >= 5 as is_weekend,
        cast(date_day as date) = cast({{ dbt.last_day('date_day', 'month') }} as date) as is_month_end
    from spine

)

select * from final
