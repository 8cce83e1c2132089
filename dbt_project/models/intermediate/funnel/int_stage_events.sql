{#
    Every dated source event that moves a person or an opportunity into a funnel stage:
    the stage-carrying source values of int_stage_source_values that the governed seed
    source_stage_values maps to a funnel stage, with the stage's order and phase. A value
    the seed does not list is not an event here: it is listed in int_unmapped_stage_values
    and the test every_stage_value_is_mapped fails the build naming it.
#}

-- runs after the unmapped-value check, so that a failed check stops the funnel here
-- depends_on: {{ ref('int_unmapped_stage_values') }}

with

source_values as (

    select * from {{ ref('int_stage_source_values') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

final as (

    select

        ---------- ids
        source_values.stage_source_value_id as stage_event_id,
        source_values.person_id,
        source_values.opportunity_id,
        source_values.account_id,
        source_values.source_record_id,

        ---------- strings
        source_values.entity_type,
        source_values.funnel_stage,
        source_values.source_system,
        source_values.source_object,
        source_values.source_table,
        source_values.source_field,
        source_values.source_value,

        ---------- numerics
        funnel_stages.stage_order,
        funnel_stages.phase_number,

        ---------- timestamps
        source_values.occurred_at

    from source_values
    inner join funnel_stages
        on funnel_stages.funnel_stage = source_values.funnel_stage

)

select * from final
