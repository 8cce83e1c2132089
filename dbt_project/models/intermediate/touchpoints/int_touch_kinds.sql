{#
    The kinds of touch that fct_touchpoints knows, each with the funnel stage it is evidence
    of (governed seed touch_kinds); its phase comes from funnel_stages -> phases.
#}

with

touch_kinds as (

    select * from {{ ref('touch_kinds') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

final as (

    select
        touch_kinds.touch_kind,
        touch_kinds.touch_source,
        touch_kinds.funnel_stage,
        funnel_stages.phase_number
    from touch_kinds
    left join funnel_stages
        on funnel_stages.funnel_stage = touch_kinds.funnel_stage

)

select * from final
