{#
    Every marketing and sales interaction of a person (int_touchpoints), with its phase: the
    touch kind names the funnel stage it is evidence of (int_touch_kinds), and the governed
    seeds place that stage in its phase. A touch kind without a stage fails the not_null test
    on phase_number.
#}

with

touchpoints as (

    select * from {{ ref('int_touchpoints') }}

),

touch_kinds as (

    select * from {{ ref('int_touch_kinds') }}

),

final as (

    select

        ---------- ids
        touchpoints.touchpoint_id,
        touchpoints.person_id,
        touchpoints.account_id,
        touchpoints.campaign_key,
        touchpoints.source_record_id,

        ---------- strings
        touchpoints.touch_kind,
        touch_kinds.touch_source,
        touchpoints.channel,
        touchpoints.utm_source,
        touchpoints.utm_medium,
        touchpoints.utm_campaign,
        touchpoints.touch_detail,
        touch_kinds.funnel_stage,

        ---------- numerics
        touch_kinds.phase_number,

        ---------- dates
        cast(touchpoints.occurred_at as date) as occurred_date,

        ---------- timestamps
        touchpoints.occurred_at

    from touchpoints
    left join touch_kinds
        on touch_kinds.touch_kind = touchpoints.touch_kind

)

select * from final
