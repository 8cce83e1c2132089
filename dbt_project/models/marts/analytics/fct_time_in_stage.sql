{#
    Time in stage per funnel stage: how many days persons and opportunities spend in each
    stage before they enter the next one (median, p90, mean), over the whole history. Built
    on fct_stage_durations; entries still in the stage are counted but have no duration yet,
    so they do not pull the percentiles down. fct_time_in_stage_monthly has the same figures
    per month of entry (percentiles cannot be added up from months, hence two models).
#}

with

durations as (

    select * from {{ ref('fct_stage_durations') }}

),

aggregated as (

    select
        entity_type,
        funnel_stage,
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
        cast(max_days_in_stage as {{ dbt.type_numeric() }}) as max_days_in_stage

    from aggregated

)

select * from final
