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
        {{ time_in_stage_measures() }}
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
        {{ time_in_stage_typed_columns() }},

        ---------- dates
        entered_month

    from aggregated

)

select * from final
