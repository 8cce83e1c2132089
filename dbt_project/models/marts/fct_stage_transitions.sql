{#
    One row per entry of a person or an opportunity into a funnel stage. An entity enters a
    stage at its first stage event for that stage (int_stage_events: the earliest of all
    sources' evidence); from_stage is the stage it entered before (null for its first).
    Opportunity stage events count for the opportunity and for the person behind it.

    A person enters the stages from lead on only if it is a lead under the lead definition
    in force (int_leads): HubSpot calls competitors and test records that fill a form
    'lead', the governed definition does not.

    The first evidence of a stage that comes after the entity entered a later stage is not
    an entry, unless the move is one of the governed backward moves (seed
    funnel_transition_exceptions: recycles, a churned customer onboarding again): the
    entity had passed or skipped that stage, and the evidence is a late record of it (a
    duplicate contact created afterwards and merged in, say, starts as a subscriber). The
    evidence itself stays in int_stage_events.
#}

{#- every column of int_stage_events but its own entity_type, which the entity's replaces
    (a second column of one name is ambiguous on Postgres) #}
{%- set event_columns = [
    'stage_event_id', 'person_id', 'opportunity_id', 'account_id', 'source_record_id',
    'funnel_stage', 'source_system', 'source_object', 'source_table', 'source_field',
    'source_value', 'stage_order', 'phase_number', 'occurred_at',
] %}

with

stage_events as (

    select * from {{ ref('int_stage_events') }}

),

leads as (

    select * from {{ ref('int_leads') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

transition_exceptions as (

    select * from {{ ref('funnel_transition_exceptions') }}

),

lead_stage as (

    select stage_order as lead_stage_order
    from funnel_stages
    where funnel_stage = 'lead'

),

entity_events as (

    select
        'person' as entity_type,
        stage_events.person_id as entity_id,
        {% for column in event_columns %}stage_events.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from stage_events
    cross join lead_stage
    left join leads
        on leads.person_id = stage_events.person_id
    where stage_events.person_id is not null
      and (stage_events.stage_order < lead_stage.lead_stage_order or coalesce(leads.is_lead, false))

    union all

    select
        'opportunity' as entity_type,
        stage_events.opportunity_id as entity_id,
        {% for column in event_columns %}stage_events.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from stage_events
    where stage_events.opportunity_id is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by entity_type, entity_id, funnel_stage
            order by occurred_at, source_system, source_table, source_value
        ) as event_rank
    from entity_events

),

entries as (

    select * from ranked
    where event_rank = 1

),

ordered as (

    select
        *,
        lag(funnel_stage) over (
            partition by entity_type, entity_id
            order by occurred_at, stage_order
        ) as previous_stage,
        max(stage_order) over (
            partition by entity_type, entity_id
            order by occurred_at, stage_order
            rows between unbounded preceding and 1 preceding
        ) as furthest_stage_order_before
    from entries

),

forward_entries as (

    -- an entry goes beyond every stage entered before it, or is a governed backward move
    select ordered.*
    from ordered
    left join transition_exceptions
        on transition_exceptions.from_stage = ordered.previous_stage
        and transition_exceptions.to_stage = ordered.funnel_stage
    where ordered.furthest_stage_order_before is null
        or ordered.stage_order > ordered.furthest_stage_order_before
        or transition_exceptions.to_stage is not null

),

sequenced as (

    select
        *,
        lag(funnel_stage) over (
            partition by entity_type, entity_id
            order by occurred_at, stage_order
        ) as from_stage
    from forward_entries

),

final as (

    select

        ---------- ids
        {{ dbt.hash(dbt.concat(['entity_type', "':'", 'entity_id', "':'", 'funnel_stage'])) }} as stage_transition_id,
        entity_id,
        person_id,
        opportunity_id,
        account_id,
        stage_event_id,

        ---------- strings
        entity_type,
        from_stage,
        funnel_stage as to_stage,
        source_system,
        source_object,
        source_table,
        source_field,
        source_value,

        ---------- numerics
        stage_order,
        phase_number,
        {{ var('current_lead_definition_version') }} as definition_version,

        ---------- timestamps
        occurred_at as transitioned_at

    from sequenced

)

select * from final
