{#
    Time in stage per funnel stage and month of entry: how many days the persons and
    opportunities that entered a stage in a month spent in it before they entered the next
    one (median, p90, mean). Built on fct_stage_durations; entries still in the stage are
    counted but have no duration yet (recent months have more of them). fct_time_in_stage
    has the same figures over the whole history (percentiles cannot be added up from
    months, hence two models).
#}

with

durations as (

    select * from {{ ref('fct_stage_durations') }}

),

aggregated as (

    select
        entity_type,
        funnel_stage,
        entered_month,
        stage_order,
        phase_number,
        count(*) as entered_count,
        count(days_in_stage) as exited_count,
        sum(case when is_still_in_stage then 1 else 0 end) as still_in_stage_count,
        {{ percentile_cont('days_in_stage', 0.5) }} as median_days_in_stage,
        {{ percentile_cont('days_in_stage', 0.9) }} as p90_days_in_stage,
        avg(days_in_stage) as avg_days_in_stage,
        max(days_in_stage) as max_days_in_stage
    from durations
    group by
        entity_type,
        funnel_stage,
        entered_month,
        stage_order,
        phase_number

),

final as (

    select

        ---------- strings
        entity_type,
        funnel_stage,

        ---------- numerics
        cast(stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(phase_number as {{ dbt.type_int() }}) as phase_number,
        cast(entered_count as {{ dbt.type_bigint() }}) as entered_count,
        cast(exited_count as {{ dbt.type_bigint() }}) as exited_count,
        cast(still_in_stage_count as {{ dbt.type_bigint() }}) as still_in_stage_count,
        cast(median_days_in_stage as {{ dbt.type_numeric() }}) as median_days_in_stage,
        cast(p90_days_in_stage as {{ dbt.type_numeric() }}) as p90_days_in_stage,
        cast(avg_days_in_stage as {{ dbt.type_numeric() }}) as avg_days_in_stage,
        cast(max_days_in_stage as {{ dbt.type_numeric() }}) as max_days_in_stage,

        ---------- dates
        entered_month

    from aggregated

)

select * from final
