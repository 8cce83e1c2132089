{#
    Every person-bearing source record -> exactly one person_id.

    Records are the nodes of a graph whose edges are the keys of int_person_match_keys
    (records sharing a key are the same person). Its connected components are found by
    label propagation: every record starts with its own key as label, and each pass gives
    every key the smallest label of its records, then every record the smallest label of
    its keys. After var('identity_resolution_passes') passes the label of a record is the
    smallest record key of its component, as long as no chain is longer than that; one
    more pass is run to prove it (is_label_converged, tested). Plain joins and group by:
    no recursive CTE, so every warehouse runs it.

    person_id: md5 of 'email:' and the smallest normalized email of the component, or of
    'record:' and the smallest record key when no record of the component has an email.
#}

with

identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

match_keys as (

    select * from {{ ref('int_person_match_keys') }}

),

{{ connected_components_ctes('person_record_key') }},

component_summary as (

    select
        components.component_key,
        min(identifiers.email) as min_email,
        count(*) as person_record_count
    from components
    inner join identifiers
        on identifiers.person_record_key = components.person_record_key
    group by components.component_key

),

final as (

    select

        ---------- ids
        identifiers.person_record_key,
        identifiers.source_system,
        identifiers.source_table,
        identifiers.source_record_id,
        {{ dbt.hash(
            "case when component_summary.min_email is not null then "
            ~ dbt.concat(["'email:'", 'component_summary.min_email'])
            ~ " else "
            ~ dbt.concat(["'record:'", 'components.component_key'])
            ~ " end"
        ) }} as person_id,

        ---------- numerics
        component_summary.person_record_count,

        ---------- booleans
        components.is_label_converged

    from identifiers
    inner join components
        on components.person_record_key = identifiers.person_record_key
    inner join component_summary
        on component_summary.component_key = components.component_key

)

select * from final
