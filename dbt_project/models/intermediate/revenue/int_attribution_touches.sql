{#
    Multi-touch attribution of opportunities: for every opportunity with a contact person,
    that person's marketing touches (phase owner marketing in the governed seed phases; page
    views continued from our own site are not touches) up to the opportunity's creation,
    each with its weight under six models. Weights are normalized per opportunity, so they
    sum to 1 for every attributed opportunity under every model (int_attribution_weight_sums
    tests it):
      first_touch   1 on the earliest touch
      last_touch    1 on the latest touch before the opportunity
      linear        1 / n on every touch
      u_shaped      40% first, 40% lead creation (the first touch of phase 3 or later; the
                    last touch when there is none), 20% over the others
      w_shaped      30% first, 30% lead creation, 30% opportunity creation (the last touch),
                    10% over the others
      time_decay    2^(-days before the opportunity / half-life), half-life
                    var('attribution_half_life_days')
    A touch holding several roles gets the sum of their shares; a share with no touch to
    take it (no "others") is dropped before normalizing.
#}

{%- set half_life_days = var('attribution_half_life_days') %}

with

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

touchpoints as (

    select * from {{ ref('int_touchpoints') }}

),

touch_kinds as (

    select * from {{ ref('int_touch_kinds') }}

),

phases as (

    select * from {{ ref('phases') }}

),

opportunity_persons as (

    select
        leads.converted_opportunity_id as opportunity_id,
        min(person_identity_map.person_id) as person_id
    from leads
    inner join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table = 'lead'
        and person_identity_map.source_record_id = leads.lead_id
    where leads.converted_opportunity_id is not null
    group by leads.converted_opportunity_id

),

marketing_touches as (

    {{ marketing_touches() }}

),

opportunity_touches as (

    select
        opportunities.opportunity_id,
        opportunities.opportunity_created_at,
        marketing_touches.touchpoint_id,
        marketing_touches.person_id,
        marketing_touches.campaign_key,
        marketing_touches.channel,
        marketing_touches.touch_kind,
        marketing_touches.phase_number,
        marketing_touches.occurred_at,
        row_number() over (
            partition by opportunities.opportunity_id
            order by marketing_touches.occurred_at, marketing_touches.touchpoint_id
        ) as touch_number,
        count(*) over (partition by opportunities.opportunity_id) as touch_count
    from opportunities
    inner join opportunity_persons
        on opportunity_persons.opportunity_id = opportunities.opportunity_id
    inner join marketing_touches
        on marketing_touches.person_id = opportunity_persons.person_id
        and marketing_touches.occurred_at <= opportunities.opportunity_created_at

),

lead_touches as (

    -- the lead-creation touch: the first touch of phase 3 or later, else the last touch
    select
        opportunity_id,
        coalesce(min(case when phase_number >= 3 then touch_number end), max(touch_count)) as lead_touch_number
    from opportunity_touches
    group by opportunity_id

),

roles as (

    select
        opportunity_touches.*,
        case when touch_number = 1 then 1 else 0 end as is_first,
        case when touch_number = touch_count then 1 else 0 end as is_last,
        case when touch_number = lead_touches.lead_touch_number then 1 else 0 end as is_lead_creation
    from opportunity_touches
    inner join lead_touches
        on lead_touches.opportunity_id = opportunity_touches.opportunity_id

),

role_counts as (

    select
        *,
        sum(case when is_first = 0 and is_lead_creation = 0 then 1 else 0 end)
            over (partition by opportunity_id) as u_other_count,
        sum(case when is_first = 0 and is_lead_creation = 0 and is_last = 0 then 1 else 0 end)
            over (partition by opportunity_id) as w_other_count
    from roles

),

raw_weights as (

    select
        *,
        0.4 * is_first + 0.4 * is_lead_creation
        + case when is_first = 0 and is_lead_creation = 0 then {{ dividend('0.2') }} / u_other_count else 0 end as u_raw,
        0.3 * is_first + 0.3 * is_lead_creation + 0.3 * is_last
        + case when is_first = 0 and is_lead_creation = 0 and is_last = 0 then {{ dividend('0.1') }} / w_other_count else 0 end as w_raw,
        power(0.5, {{ dividend(dbt.datediff('occurred_at', 'opportunity_created_at', 'hour')) }} / (24.0 * {{ half_life_days }})) as decay_raw
    from role_counts

),

final as (

    select
        {{ dbt.concat(['opportunity_id', "':'", 'touchpoint_id']) }} as attribution_id,
        opportunity_id,
        touchpoint_id,
        person_id,
        campaign_key,
        channel,
        touch_kind,
        phase_number,
        touch_number,
        touch_count,
        occurred_at,
        opportunity_created_at,
        cast(is_first as {{ dbt.type_float() }}) as first_touch_weight,
        cast(is_last as {{ dbt.type_float() }}) as last_touch_weight,
        -- doubles on every engine (Postgres would keep exact numerics of 20 decimals)
        cast({{ dividend('1.0') }} / touch_count as {{ type_double() }}) as linear_weight,
        cast(u_raw / sum(u_raw) over (partition by opportunity_id) as {{ type_double() }}) as u_shaped_weight,
        cast(w_raw / sum(w_raw) over (partition by opportunity_id) as {{ type_double() }}) as w_shaped_weight,
        cast(decay_raw / sum(decay_raw) over (partition by opportunity_id) as {{ type_double() }}) as time_decay_weight
    from raw_weights

)

select * from final
