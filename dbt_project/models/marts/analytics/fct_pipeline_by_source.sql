{#
    Pipeline and bookings by source, per month: one row per (month, lead source) from the
    month of the first opportunity to the month of the last opportunity event, so an
    analyst can chart every source over the same months (zeros included).

      source     the opportunity's Salesforce lead source and its conformed channel
                 (fct_opportunities); 'unknown' when the CRM has none
      created    opportunities created in the month and their amount: pipeline created
      won        opportunities closed won in the month and their amount: bookings (the
                 same basis as fct_revenue.bookings_amount, so the two reconcile)
      lost       opportunities closed lost in the month and their amount
      open       opportunities open at the month's end (created by then, not closed by
                 then) and their amount: the pipeline snapshot at month end
    Amounts are the opportunities' current amounts (the CRM's amount history is not kept
    per stage).
#}

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

sourced as (

    select
        opportunity_id,
        coalesce(opportunity_lead_source, 'unknown') as lead_source,
        coalesce(opportunity_channel, 'unknown') as channel,
        opportunity_amount,
        won_amount,
        is_won,
        is_lost,
        opportunity_created_at,
        closed_at,
        cast({{ dbt.date_trunc('month', 'opportunity_created_at') }} as date) as created_month,
        cast({{ dbt.date_trunc('month', 'closed_at') }} as date) as closed_month
    from opportunities

),

month_bounds as (

    select
        min(first_month) as first_month,
        max(last_month) as last_month
    from (
        select min(created_month) as first_month, max(created_month) as last_month from sourced
        union all
        select min(closed_month), max(closed_month) from sourced
    ) as bounds

),

months as (

    select distinct
        dates.month_start_date as pipeline_month,
        cast({{ dbt.dateadd('month', 1, 'dates.month_start_date') }} as {{ dbt.type_timestamp() }}) as next_month_start
    from dates
    cross join month_bounds
    where dates.month_start_date >= month_bounds.first_month
        and dates.month_start_date <= month_bounds.last_month

),

sources as (

    select distinct
        lead_source,
        channel
    from sourced

),

source_months as (

    select
        months.pipeline_month,
        months.next_month_start,
        sources.lead_source,
        sources.channel
    from months
    cross join sources

),

created as (

    select
        created_month as pipeline_month,
        lead_source,
        count(*) as created_count,
        sum(opportunity_amount) as created_amount
    from sourced
    group by created_month, lead_source

),

closed as (

    select
        closed_month as pipeline_month,
        lead_source,
        sum(case when is_won then 1 else 0 end) as won_count,
        sum(case when is_won then won_amount else 0 end) as bookings_amount,
        sum(case when is_lost then 1 else 0 end) as lost_count,
        sum(case when is_lost then opportunity_amount else 0 end) as lost_amount
    from sourced
    where closed_at is not null
    group by closed_month, lead_source

),

open_at_month_end as (

    select
        source_months.pipeline_month,
        source_months.lead_source,
        count(*) as open_count,
        sum(sourced.opportunity_amount) as open_amount
    from source_months
    inner join sourced
        on sourced.lead_source = source_months.lead_source
        and sourced.opportunity_created_at < source_months.next_month_start
        and (sourced.closed_at is null or sourced.closed_at >= source_months.next_month_start)
    group by source_months.pipeline_month, source_months.lead_source

),

joined as (

    select
        source_months.pipeline_month,
        source_months.lead_source,
        source_months.channel,
        coalesce(created.created_count, 0) as created_count,
        coalesce(created.created_amount, 0) as created_amount,
        coalesce(closed.won_count, 0) as won_count,
        coalesce(closed.bookings_amount, 0) as bookings_amount,
        coalesce(closed.lost_count, 0) as lost_count,
        coalesce(closed.lost_amount, 0) as lost_amount,
        coalesce(open_at_month_end.open_count, 0) as open_count,
        coalesce(open_at_month_end.open_amount, 0) as open_amount
    from source_months
    left join created
        on created.pipeline_month = source_months.pipeline_month
        and created.lead_source = source_months.lead_source
    left join closed
        on closed.pipeline_month = source_months.pipeline_month
        and closed.lead_source = source_months.lead_source
    left join open_at_month_end
        on open_at_month_end.pipeline_month = source_months.pipeline_month
        and open_at_month_end.lead_source = source_months.lead_source

),

final as (

    select

        ---------- strings
        lead_source,
        channel,

        ---------- numerics
        cast(created_count as {{ dbt.type_bigint() }}) as created_count,
        cast(created_amount as {{ dbt.type_numeric() }}) as created_amount,
        cast(won_count as {{ dbt.type_bigint() }}) as won_count,
        cast(bookings_amount as {{ dbt.type_numeric() }}) as bookings_amount,
        cast(lost_count as {{ dbt.type_bigint() }}) as lost_count,
        cast(lost_amount as {{ dbt.type_numeric() }}) as lost_amount,
        cast(open_count as {{ dbt.type_bigint() }}) as open_count,
        cast(open_amount as {{ dbt.type_numeric() }}) as open_amount,
        cast(
            case when won_count + lost_count > 0 then 1.0 * won_count / (won_count + lost_count) end
            as {{ dbt.type_numeric() }}
        ) as win_rate,

        ---------- dates
        pipeline_month

    from joined

)

select * from final
