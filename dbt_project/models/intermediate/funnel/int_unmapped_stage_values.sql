{#
    Stage values that a source sends and the governed mapping (seed source_stage_values)
    does not list: one row per (system, object, field, value), with where and how often it
    was seen, and a message that names it. Its test every_stage_value_is_mapped
    (not_null on funnel_stage, null here by construction) fails on any row, and its
    post-hook writes each message to the dbt log, so the run names the value and its
    source. int_stage_events depends on this model, so a failure skips every stage event
    and mart downstream: nothing is published with an unmapped stage. The fix is a
    decision of the mapping's owners (a new row in the seed), never a default stage.
#}

{{ config(post_hook=[
    "{% if execute %}{% for row in run_query('select message, occurrences from ' ~ this ~ ' order by message') %}{{ log('ERROR ' ~ row[0] ~ ' (' ~ row[1] ~ ' rows)', info=True) }}{% endfor %}{% endif %}select 1"
]) }}

with

source_values as (

    select * from {{ ref('int_stage_source_values') }}

),

unmapped as (

    select * from source_values
    where funnel_stage is null

),

final as (

    select

        ---------- ids
        {{ dbt.hash(dbt.concat([
            'source_system', "':'", 'source_object', "':'", 'source_field', "':'", 'source_value'
        ])) }} as unmapped_stage_value_id,

        ---------- strings
        source_system,
        source_object,
        source_field,
        source_value,
        -- null by construction: the mapping gives these values no stage
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        {{ dbt.concat([
            "'unmapped stage value '", "'\"'", 'source_value', "'\"'",
            "' in '", 'source_system', "'.'", 'source_object', "'.'", 'source_field',
            "': add it to seeds/source_stage_values.csv'"
        ]) }} as message,
        min(source_table) as first_source_table,
        min(source_record_id) as example_source_record_id,

        ---------- numerics
        count(*) as occurrences,

        ---------- timestamps
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at

    from unmapped
    group by source_system, source_object, source_field, source_value

)

select * from final
