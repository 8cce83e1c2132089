{#
    Connected components of a record graph by label propagation, as CTEs in plain SQL (no
    recursive CTE, so every adapter runs it). Records are nodes; records that share a
    match key are linked. Each pass moves the smallest record key of a component one
    step further along the links; one extra pass checks that the labels stopped moving
    (`is_label_converged`, which the identity maps test), so a graph that needs more
    passes than `identity_resolution_passes` fails the build instead of splitting people.

    Expects CTEs `identifiers` (one row per record_key) and `match_keys` (record_key,
    match_key) before it; emits CTEs ending with `components` (record_key,
    component_key, is_label_converged). Used by int_person_identity_map and
    int_account_identity_map.
#}
{% macro connected_components_ctes(record_key, passes=var('identity_resolution_passes')) %}
{%- set passes = passes | int %}
labels_0 as (

    select
        {{ record_key }},
        {{ record_key }} as component_key
    from identifiers

),

{% for i in range(1, passes + 2) %}
key_labels_{{ i }} as (

    select
        match_keys.match_key,
        min(labels_{{ i - 1 }}.component_key) as component_key
    from match_keys
    inner join labels_{{ i - 1 }}
        on labels_{{ i - 1 }}.{{ record_key }} = match_keys.{{ record_key }}
    group by match_keys.match_key

),

labels_{{ i }} as (

    select
        match_keys.{{ record_key }},
        min(key_labels_{{ i }}.component_key) as component_key
    from match_keys
    inner join key_labels_{{ i }}
        on key_labels_{{ i }}.match_key = match_keys.match_key
    group by match_keys.{{ record_key }}

),

{% endfor %}
components as (

    select
        labels_{{ passes }}.{{ record_key }},
        labels_{{ passes }}.component_key,
        labels_{{ passes }}.component_key = labels_{{ passes + 1 }}.component_key as is_label_converged
    from labels_{{ passes }}
    inner join labels_{{ passes + 1 }}
        on labels_{{ passes + 1 }}.{{ record_key }} = labels_{{ passes }}.{{ record_key }}

)
{% endmacro %}
