{#
    One row per lead: a person who is a lead under the lead definition in force
    (int_leads), with its score and MQL (int_lead_scores), its handover to sales and SLA
    (int_lead_handovers) and the funnel stage it reached last (fct_stage_transitions).
    Personal data is hashed: the raw email stays in the intermediate layer.
#}

with

leads as (

    select * from {{ ref('int_leads') }}
    where is_lead

),

profiles as (

    select * from {{ ref('int_person_profiles') }}

),

scores as (

    select * from {{ ref('int_lead_scores') }}

),

handovers as (

    select * from {{ ref('int_lead_handovers') }}

),

transitions as (

    select * from {{ ref('fct_stage_transitions') }}
    where entity_type = 'person'

),

latest_stage_ranked as (

    select
        person_id,
        to_stage,
        stage_order,
        phase_number,
        source_system,
        source_object,
        source_field,
        source_value,
        transitioned_at,
        row_number() over (
            partition by person_id
            order by transitioned_at desc, stage_order desc
        ) as stage_rank
    from transitions

),

latest_stage as (

    select * from latest_stage_ranked
    where stage_rank = 1

),

final as (

    select

        ---------- ids
        leads.person_id,
        profiles.account_id,
        -- analysts get a stable hash, never the raw address
        {{ dbt.hash('profiles.email') }} as lead_email_hash,

        ---------- strings
        profiles.title_seniority,
        latest_stage.to_stage as funnel_stage,
        latest_stage.source_system as funnel_stage_source_system,
        {{ dbt.concat(['latest_stage.source_object', "'.'", 'latest_stage.source_field']) }} as funnel_stage_source_field,
        latest_stage.source_value as funnel_stage_source_value,
        handovers.handover_outcome,
        handovers.outcome_source_value as handover_outcome_source_value,

        ---------- numerics
        leads.definition_version,
        latest_stage.stage_order,
        latest_stage.phase_number,
        cast(scores.fit_points as {{ dbt.type_int() }}) as fit_points,
        cast(scores.engagement_points as {{ dbt.type_numeric() }}) as engagement_points,
        cast(scores.score as {{ dbt.type_numeric() }}) as score,
        cast(scores.engagement_count as {{ dbt.type_bigint() }}) as engagement_count,
        cast(handovers.hours_to_first_touch as {{ dbt.type_numeric() }}) as hours_to_first_touch,
        cast(handovers.hours_to_outcome as {{ dbt.type_numeric() }}) as hours_to_outcome,

        ---------- booleans
        scores.is_mql,
        scores.is_hand_raiser,
        leads.is_engaged_within_window,
        handovers.person_id is not null as is_handed_over,
        coalesce(handovers.is_first_touch_sla_met, false) as is_first_touch_sla_met,
        coalesce(handovers.is_decision_sla_met, false) as is_decision_sla_met,
        coalesce(handovers.is_first_touch_overdue, false) as is_first_touch_overdue,
        coalesce(handovers.is_decision_overdue, false) as is_decision_overdue,

        ---------- timestamps
        leads.lead_qualified_at,
        scores.scored_mql_at as mql_at,
        handovers.handover_started_at,
        handovers.first_touch_at,
        handovers.outcome_at as handover_outcome_at,
        latest_stage.transitioned_at as funnel_stage_entered_at,
        scores.scored_as_of

    from leads
    inner join scores
        on scores.person_id = leads.person_id
    left join profiles
        on profiles.person_id = leads.person_id
    left join handovers
        on handovers.person_id = leads.person_id
    left join latest_stage
        on latest_stage.person_id = leads.person_id

)

select * from final
