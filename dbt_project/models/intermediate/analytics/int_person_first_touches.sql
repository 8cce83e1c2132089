{#
    The first marketing touch of every person who has one: the channel and campaign that
    brought the person in. The analyst marts group by it (conversion by channel, cost per
    stage by ad campaign), so it is computed here once.

    A marketing touch is what attribution counts as one (int_attribution_touches): the rule
    is the macro marketing_touches. Ties at the same instant go to the smallest
    touchpoint_id, so the choice is stable.
#}

with

touchpoints as (

    select * from {{ ref('int_touchpoints') }}

),

touch_kinds as (

    select * from {{ ref('int_touch_kinds') }}

),

phases as (

    select * from {{ ref('phases') }}

),

marketing_touches as (

    {{ marketing_touches() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id
            order by occurred_at, touchpoint_id
        ) as touch_number,
        count(*) over (partition by person_id) as marketing_touch_count
    from marketing_touches

),

final as (

    select

        ---------- ids
        person_id,
        touchpoint_id as first_touchpoint_id,
        campaign_key as first_touch_campaign_key,

        ---------- strings
        touch_kind as first_touch_kind,
        channel as first_touch_channel,
        utm_source as first_touch_utm_source,
        utm_medium as first_touch_utm_medium,
        utm_campaign as first_touch_utm_campaign,

        ---------- numerics
        phase_number as first_touch_phase_number,
        marketing_touch_count,

        ---------- timestamps
        occurred_at as first_touch_at

    from ranked
    where touch_number = 1

)

select * from final
