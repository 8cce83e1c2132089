{#
    Time in stage, entry by entry: one row per row of fct_stage_transitions (a person or an
    opportunity entering a funnel stage), with the moment it entered its next stage (the
    next transition in the order fct_stage_transitions sequences them: by time, then stage
    order) and the days in between. An entity that has not entered another stage yet is
    still in the stage: its exit and duration are null, never zero. fct_time_in_stage and
    fct_time_in_stage_monthly summarize it; analysts can cut it any other way.
#}

with

transitions as (

    select * from {{ ref('fct_stage_transitions') }}

),

sequenced as (

    select
        stage_transition_id,
        entity_type,
        entity_id,
        person_id,
        opportunity_id,
        to_stage as funnel_stage,
        stage_order,
        phase_number,
        transitioned_at as entered_at,
        lead(transitioned_at) over (
            partition by entity_type, entity_id
            order by transitioned_at, stage_order
        ) as exited_at,
        lead(to_stage) over (
            partition by entity_type, entity_id
            order by transitioned_at, stage_order
        ) as next_stage
    from transitions

),

final as (

    select

        ---------- ids
        stage_transition_id,
        entity_id,
        person_id,
        opportunity_id,

        ---------- strings
        entity_type,
        funnel_stage,
        next_stage,

        ---------- numerics
        cast(stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(phase_number as {{ dbt.type_int() }}) as phase_number,
        -- a duration of a multiple of 27 seconds ends in 5 in the 7th decimal: rounded the
        -- same way on every engine only through numeric_from_double
        {{ numeric_from_double(dividend(dbt.datediff('entered_at', 'exited_at', 'second')) ~ ' / 86400.0') }} as days_in_stage,

        ---------- booleans
        exited_at is null as is_still_in_stage,

        ---------- dates
        cast({{ dbt.date_trunc('month', 'entered_at') }} as date) as entered_month,

        ---------- timestamps
        entered_at,
        exited_at

    from sequenced

)

select * from final
