{#
    Multi-touch attribution of opportunities and bookings to touches, campaigns and channels:
    one row per (opportunity, marketing touch before it) with the weight of the touch under
    six models (first touch, last touch, linear, U-shaped, W-shaped, time decay; see
    int_attribution_touches), each summing to 1 per attributed opportunity, and the
    opportunity's amount and booking to multiply them by.
#}

with

attribution_touches as (

    select * from {{ ref('int_attribution_touches') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

final as (

    select

        ---------- ids
        attribution_touches.attribution_id,
        attribution_touches.opportunity_id,
        attribution_touches.touchpoint_id,
        attribution_touches.person_id,
        opportunities.account_id,
        attribution_touches.campaign_key,

        ---------- strings
        attribution_touches.channel,
        attribution_touches.touch_kind,

        ---------- numerics
        attribution_touches.phase_number,
        cast(attribution_touches.touch_number as {{ dbt.type_bigint() }}) as touch_number,
        cast(attribution_touches.touch_count as {{ dbt.type_bigint() }}) as touch_count,
        cast(attribution_touches.first_touch_weight as decimal(38, 12)) as first_touch_weight,
        cast(attribution_touches.last_touch_weight as decimal(38, 12)) as last_touch_weight,
        cast(attribution_touches.linear_weight as decimal(38, 12)) as linear_weight,
        cast(attribution_touches.u_shaped_weight as decimal(38, 12)) as u_shaped_weight,
        cast(attribution_touches.w_shaped_weight as decimal(38, 12)) as w_shaped_weight,
        cast(attribution_touches.time_decay_weight as decimal(38, 12)) as time_decay_weight,
        opportunities.opportunity_amount,
        opportunities.won_amount,

        ---------- booleans
        opportunities.is_won,

        ---------- timestamps
        attribution_touches.occurred_at,
        attribution_touches.opportunity_created_at

    from attribution_touches
    inner join opportunities
        on opportunities.opportunity_id = attribution_touches.opportunity_id

)

select * from final
