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
        {{ time_in_stage_measures() }}
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
        {{ time_in_stage_typed_columns() }}

    from aggregated

)

select * from final
