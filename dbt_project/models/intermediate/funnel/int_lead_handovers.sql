{#
    The marketing-to-sales handover (mql -> sal), one row per person handed over: every
    person with an mql stage event (int_stage_events) or a scored MQL (int_lead_scores).

      handover_started_at   the first mql stage event (the moment a source system handed the
                            person to sales), else the scored MQL moment
      first_touch_at        the first Salesforce task or meeting with the person's lead or
                            contact at or after the handover started
      outcome               the first status change after the handover that the seed
                            handover_statuses names (accepted, rejected or recycled), with
                            its time and source value
      SLA                   first touch within var('handover').first_touch_sla_hours, outcome
                            within var('handover').decision_sla_hours of the handover start;
                            a step not taken yet is overdue once its SLA has passed at
                            handed_over_as_of (the latest event the warehouse holds)
#}

{%- set handover = var('handover') %}

with

stage_events as (

    select * from {{ ref('int_stage_events') }}

),

source_values as (

    select * from {{ ref('int_stage_source_values') }}

),

scores as (

    select * from {{ ref('int_lead_scores') }}

),

handover_statuses as (

    select * from {{ ref('handover_statuses') }}

),

tasks as (

    select * from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select * from {{ ref('stg_salesforce__events') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

as_of as (

    select max(occurred_at) as handed_over_as_of from source_values

),

stage_mqls as (

    select
        person_id,
        min(occurred_at) as stage_mql_at
    from stage_events
    where person_id is not null
      and funnel_stage = 'mql'
    group by person_id

),

handovers as (

    select
        coalesce(stage_mqls.person_id, scores.person_id) as person_id,
        coalesce(stage_mqls.stage_mql_at, scores.scored_mql_at) as handover_started_at
    from stage_mqls
    full outer join (select * from scores where is_mql) as scores
        on scores.person_id = stage_mqls.person_id

),

sales_touches as (

    select
        task_who_id as who_id,
        task_created_at as touched_at
    from tasks

    union all

    select
        event_who_id as who_id,
        event_started_at as touched_at
    from events

),

person_touches as (

    select
        person_identity_map.person_id,
        sales_touches.touched_at
    from sales_touches
    inner join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table in ('lead', 'contact')
        and person_identity_map.source_record_id = sales_touches.who_id
    where sales_touches.touched_at is not null

),

first_touches as (

    select
        handovers.person_id,
        min(person_touches.touched_at) as first_touch_at
    from handovers
    inner join person_touches
        on person_touches.person_id = handovers.person_id
        and person_touches.touched_at >= handovers.handover_started_at
    group by handovers.person_id

),

outcomes_ranked as (

    select
        handovers.person_id,
        handover_statuses.handover_outcome,
        source_values.source_system,
        source_values.source_value,
        source_values.occurred_at,
        row_number() over (
            partition by handovers.person_id
            order by source_values.occurred_at, source_values.source_system, source_values.source_value
        ) as outcome_rank
    from handovers
    inner join source_values
        on source_values.person_id = handovers.person_id
        and source_values.occurred_at >= handovers.handover_started_at
    inner join handover_statuses
        on handover_statuses.source_system = source_values.source_system
        and handover_statuses.source_object = source_values.source_object
        and handover_statuses.source_field = source_values.source_field
        and handover_statuses.source_value = source_values.source_value

),

outcomes as (

    select * from outcomes_ranked
    where outcome_rank = 1

),

final as (

    select

        ---------- ids
        handovers.person_id,

        ---------- strings
        outcomes.handover_outcome,
        outcomes.source_system as outcome_source_system,
        outcomes.source_value as outcome_source_value,

        ---------- numerics
        {{ dbt.datediff('handovers.handover_started_at', 'first_touches.first_touch_at', 'minute') }} / 60.0
            as hours_to_first_touch,
        {{ dbt.datediff('handovers.handover_started_at', 'outcomes.occurred_at', 'minute') }} / 60.0
            as hours_to_outcome,

        ---------- booleans
        first_touches.first_touch_at is not null
            and first_touches.first_touch_at
                <= {{ dbt.dateadd('hour', handover.first_touch_sla_hours, 'handovers.handover_started_at') }}
            as is_first_touch_sla_met,
        outcomes.occurred_at is not null
            and outcomes.occurred_at
                <= {{ dbt.dateadd('hour', handover.decision_sla_hours, 'handovers.handover_started_at') }}
            as is_decision_sla_met,
        -- a decision implies a touch: only an undecided, untouched handover is overdue
        first_touches.first_touch_at is null
            and outcomes.occurred_at is null
            and as_of.handed_over_as_of
                > {{ dbt.dateadd('hour', handover.first_touch_sla_hours, 'handovers.handover_started_at') }}
            as is_first_touch_overdue,
        outcomes.occurred_at is null
            and as_of.handed_over_as_of
                > {{ dbt.dateadd('hour', handover.decision_sla_hours, 'handovers.handover_started_at') }}
            as is_decision_overdue,

        ---------- timestamps
        handovers.handover_started_at,
        first_touches.first_touch_at,
        outcomes.occurred_at as outcome_at,
        as_of.handed_over_as_of

    from handovers
    cross join as_of
    left join first_touches
        on first_touches.person_id = handovers.person_id
    left join outcomes
        on outcomes.person_id = handovers.person_id

)

select * from final
