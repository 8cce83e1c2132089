{#
    marketing_touches(): the touches that marketing is credited with, the one rule that
    attribution (int_attribution_touches) and first touch (int_person_first_touches) both
    count: a touch whose kind lies in a phase that marketing owns (seeds touch_kinds ->
    funnel_stages -> phases), not a page view continued from our own site
    (int_touchpoints.is_internal, from the seed channels), and with a person.

    The body of a CTE of the calling model, which imports int_touchpoints, int_touch_kinds
    and the seed phases as the CTEs `touchpoints`, `touch_kinds` and `phases` (so that a
    model's unit tests give those inputs); every touchpoint column plus phase_number.
#}
{% macro marketing_touches() -%}
    select
        touchpoints.*,
        touch_kinds.phase_number
    from touchpoints
    inner join touch_kinds
        on touch_kinds.touch_kind = touchpoints.touch_kind
    inner join phases
        on phases.phase_number = touch_kinds.phase_number
    where phases.owner = 'marketing'
        -- internal navigation is not a marketing touch (seed channels, is_internal)
        and not coalesce(touchpoints.is_internal, false)
        and touchpoints.person_id is not null
{%- endmacro %}
