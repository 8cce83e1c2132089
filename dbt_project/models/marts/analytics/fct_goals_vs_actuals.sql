{#
    Goals against actuals per phase and month: one row per row of the governed seed goals
    (goal_month, metric), with the actual of the metric in that month from
    fct_metric_actuals (the one place actuals are computed) and the phase's names from
    dim_phase. A goal whose metric fct_metric_actuals does not compute, or whose month lies
    outside dim_date, has no actual: the not_null test on actual_value fails the build and
    the row names the metric. A goal filed under another phase than its metric's stage
    fails the test on is_phase_consistent.

    Attainment is actual / target; for a metric where less is better (churned_customers)
    read it the other way round.
#}

with

goals as (

    select * from {{ ref('goals') }}

),

actuals as (

    select * from {{ ref('fct_metric_actuals') }}

),

phases as (

    select * from {{ ref('dim_phase') }}

),

final as (

    select

        ---------- ids
        {{ dbt.concat(['goals.metric', "':'", dbt.safe_cast('goals.goal_month', dbt.type_string())]) }} as goal_id,

        ---------- strings
        goals.metric,
        phases.buying_phase,
        phases.marketing_phase,
        phases.phase_owner,
        actuals.funnel_stage,

        ---------- numerics
        cast(goals.phase_number as {{ dbt.type_int() }}) as phase_number,
        cast(goals.target as {{ dbt.type_numeric() }}) as target_value,
        actuals.actual_value,
        cast(actuals.actual_value - goals.target as {{ dbt.type_numeric() }}) as variance_value,
        cast(case when goals.target != 0 then actuals.actual_value / goals.target end as {{ dbt.type_numeric() }}) as attainment,

        ---------- booleans
        -- null when the metric has no actual (the not_null test on actual_value names that case)
        case when actuals.metric is not null then actuals.phase_number = goals.phase_number end as is_phase_consistent,

        ---------- dates
        cast(goals.goal_month as date) as goal_month

    from goals
    left join actuals
        on actuals.metric = goals.metric
        and actuals.metric_month = goals.goal_month
    left join phases
        on phases.phase_number = goals.phase_number

)

select * from final
