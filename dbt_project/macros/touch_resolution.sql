{#
    How int_touchpoints resolves the two big touch streams (page views, email events) without
    resolving every past event on every run.

    A stream event's person and account depend only on its identifiers (user id, anonymous
    id, recipient email), its campaign and channel only on its attribute inputs (touch kind,
    utm_*, referrer, email campaign and type). Many events share them: at 10M touch events,
    3.4M person touches carry ~550K identifier tuples and a few thousand attribute tuples.
    int_touch_identities and int_touch_attributes resolve each tuple once per run, keyed by
    the keys below; int_touchpoints stores each event's two keys with what they resolved to.
    An incremental run first (refresh_touchpoints) sets anew what the keys that resolve
    differently now resolved to, and deletes the events of new landing files and the small
    sources' rows; then it adds the events of those files and the small sources. A full
    rebuild gives the same rows (tests/test_operations.py checks it after a daily run).
#}

{#- The events of int_touch_events that are a person's own touch: every page view; an email
    open or click that HubSpot did not filter (sends, deliveries and bounces are ours). -#}
{% macro is_person_touch_event(relation) -%}
    ({{ relation }}.touch_kind = 'page_view'
        or ({{ relation }}.touch_kind in ('email_open', 'email_click') and not {{ relation }}.is_filtered_event))
{%- endmacro %}

{#- The identifiers a stream event's person is resolved by: output column -> expression. -#}
{% macro touch_identity_inputs(relation) -%}
    {{ return({
        'user_id': relation ~ '.user_id',
        'anonymous_id': relation ~ '.anonymous_id',
        'recipient_email': relation ~ '.recipient_email',
    }) }}
{%- endmacro %}

{#- What a stream event's campaign and channel are resolved from: output column ->
    expression. A page's path and an internal referrer's URL change neither, so they are
    left out (they would multiply the tuples). -#}
{% macro touch_attribute_inputs(relation) -%}
    {{ return({
        'touch_kind': relation ~ '.touch_kind',
        'email_campaign_id': relation ~ '.email_campaign_id',
        'email_event_type': "case when " ~ relation ~ ".touch_kind <> 'page_view' then " ~ relation ~ ".touch_detail end",
        'utm_source': relation ~ '.utm_source',
        'utm_medium': relation ~ '.utm_medium',
        'utm_campaign': relation ~ '.utm_campaign',
        'referrer_kind': relation ~ '.referrer_kind',
        'page_referrer': "case when " ~ relation ~ ".referrer_kind = 'other' then " ~ relation ~ ".page_referrer end",
    }) }}
{%- endmacro %}

{#- The distinct tuples of `inputs` (a dict from the macros above, over `relation`) among the
    person touches of `relation`, each input as its output column: the body of the CTE
    that int_touch_identities and int_touch_attributes resolve. -#}
{% macro person_touch_tuples(relation, inputs) -%}
    select
        {%- for column, expression in inputs.items() %}
        {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    where {{ is_person_touch_event(relation) }}
    group by {{ inputs.values() | join(', ') }}
{%- endmacro %}

{#- One key for a tuple of values (expressions): the md5 of the values, each prefixed with its
    length and a null spelled `~`, so that no two tuples share the text that is hashed. -#}
{% macro resolution_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- set value = dbt.safe_cast(expression, dbt.type_string()) -%}
        {%- do parts.append("coalesce(" ~ dbt.concat([dbt.safe_cast(dbt.length(value), dbt.type_string()), "':'", value]) ~ ", '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- What an incremental run of int_touchpoints does before it adds rows (its pre-hooks, one
    statement each): `step` is one of
      new_events     delete the events of landing files not seen here: their newer versions
                     (or nothing, if no longer a person's touch) come back with the new rows
      small_sources  delete the form submissions, campaign members, tasks and meetings: small,
                     re-derived whole (a record deleted in its source leaves)
      identities     set the person and account of the touches whose identity resolves
                     differently now (an identity merge)
      attributes     set the campaign, channel and internal flag of the touches whose
                     attributes resolve differently now (a new campaign, a changed mapping)
    An update rewrites only the touches that changed, a few thousand a day, where deleting
    and adding them back would mean finding them among all events. -#}
{% macro refresh_touchpoints(step) -%}
    {%- if is_incremental() -%}
    {%- if step == 'new_events' -%}
    delete from {{ this }}
    where touchpoint_id in (
        select touchpoint_id
        from {{ ref('int_touch_events') }}
        where landing_file not in {{ seen_landing_files() }}
    )
    {%- elif step == 'small_sources' -%}
    delete from {{ this }} where landing_file is null
    {%- elif step in ('identities', 'attributes') -%}
    {%- set resolutions, key, outputs = (ref('int_touch_identities'), 'identity_key', ['person_id', 'account_id'])
        if step == 'identities'
        else (ref('int_touch_attributes'), 'attribute_key', ['campaign_key', 'channel', 'is_internal']) -%}
    update {{ this }} as touchpoints
    set {% for output in outputs %}{{ output }} = resolutions.{{ output }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ resolutions }} as resolutions
    where resolutions.{{ key }} = touchpoints.{{ key }}
        and ({% for output in outputs %}resolutions.{{ output }} is distinct from touchpoints.{{ output }}{% if not loop.last %} or {% endif %}{% endfor %})
    {%- else -%}
    {{ exceptions.raise_compiler_error("refresh_touchpoints: unknown step '" ~ step ~ "'") }}
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The output columns of `inputs` (a dict from the macros above) in `relation`, in order:
    the key of a resolved tuple is computed from these, and equals the key computed from the
    inputs' expressions over an event. -#}
{% macro columns_of(relation, inputs) -%}
    {%- set columns = [] -%}
    {%- for column in inputs.keys() %}{% do columns.append(relation ~ '.' ~ column) %}{% endfor -%}
    {{ return(columns) }}
{%- endmacro %}
