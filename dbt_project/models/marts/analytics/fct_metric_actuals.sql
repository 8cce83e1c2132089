{#
    The actual of every shared metric per month, computed in this one place: the goals
    (seed goals) are compared with these figures (fct_goals_vs_actuals), and any other
    report should read them here rather than count again. One row per (metric, month) over
    every month of dim_date, zeros included.

      metric             counts                                     stage it reports
      engaged_persons    persons entering engaged in the month      engaged
      mqls               persons entering mql                       mql
      sals               persons entering sal                       sal
      sqos               opportunities entering sqo                 sqo
      won_deals          opportunities closed won in the month      won
      bookings_amount    their amount (fct_opportunities.won_amount, the basis of
                         fct_revenue and fct_pipeline_by_source)    won
      churned_customers  accounts whose ARR fell from above zero
                         to zero in the month (fct_revenue)         churned
    Stage entries are fct_stage_transitions (the funnel the ground-truth tests check).
    The phase of a metric is the phase of its stage in the governed seed funnel_stages, so
    the goals' phase_number can be checked against it.
#}

{%- set stage_entry_metrics = [
    ('engaged_persons', 'person', 'engaged'),
    ('mqls', 'person', 'mql'),
    ('sals', 'person', 'sal'),
    ('sqos', 'opportunity', 'sqo'),
] %}

with

transitions as (

    select * from {{ ref('fct_stage_transitions') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

revenue as (

    select * from {{ ref('fct_revenue') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

metrics as (

    {% for metric, entity_type, stage in stage_entry_metrics %}
    select '{{ metric }}' as metric, '{{ entity_type }}' as entity_type, '{{ stage }}' as funnel_stage
    union all
    {% endfor %}
    select 'won_deals', 'opportunity', 'won'
    union all
    select 'bookings_amount', 'opportunity', 'won'
    union all
    select 'churned_customers', 'account', 'churned'

),

months as (

    select distinct month_start_date as metric_month
    from dates

),

stage_entry_actuals as (

    {% for metric, entity_type, stage in stage_entry_metrics %}
    select
        '{{ metric }}' as metric,
        cast({{ dbt.date_trunc('month', 'transitioned_at') }} as date) as metric_month,
        count(distinct entity_id) as actual_value
    from transitions
    where entity_type = '{{ entity_type }}'
        and to_stage = '{{ stage }}'
    group by cast({{ dbt.date_trunc('month', 'transitioned_at') }} as date)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

won_actuals as (

    select
        cast({{ dbt.date_trunc('month', 'closed_at') }} as date) as metric_month,
        count(*) as won_deals,
        sum(won_amount) as bookings_amount
    from opportunities
    where is_won
        and closed_at is not null
    group by cast({{ dbt.date_trunc('month', 'closed_at') }} as date)

),

churn_actuals as (

    select
        revenue_month as metric_month,
        count(distinct account_id) as churned_customers
    from revenue
    where opening_arr > 0
        and closing_arr = 0
    group by revenue_month

),

actuals as (

    select metric, metric_month, cast(actual_value as {{ dbt.type_numeric() }}) as actual_value
    from stage_entry_actuals
    union all
    select 'won_deals', metric_month, cast(won_deals as {{ dbt.type_numeric() }}) from won_actuals
    union all
    select 'bookings_amount', metric_month, cast(bookings_amount as {{ dbt.type_numeric() }}) from won_actuals
    union all
    select 'churned_customers', metric_month, cast(churned_customers as {{ dbt.type_numeric() }}) from churn_actuals

),

final as (

    select

        ---------- strings
        metrics.metric,
        metrics.entity_type,
        metrics.funnel_stage,

        ---------- numerics
        cast(funnel_stages.phase_number as {{ dbt.type_int() }}) as phase_number,
        cast(coalesce(actuals.actual_value, 0) as {{ dbt.type_numeric() }}) as actual_value,

        ---------- dates
        months.metric_month

    from metrics
    cross join months
    inner join funnel_stages
        on funnel_stages.funnel_stage = metrics.funnel_stage
    left join actuals
        on actuals.metric = metrics.metric
        and actuals.metric_month = months.metric_month

)

select * from final
