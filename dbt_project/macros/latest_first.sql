{#
    Rank the versions of a record, the newest first: a later export (or a re-sync) can
    carry a newer version of the same record, and staging keeps rank 1. `order_by` lists
    the columns that tell versions apart, most significant first; nulls rank last.
#}
{% macro latest_first(partition_by, order_by) -%}
    row_number() over (
        partition by {{ partition_by }}
        order by {% for column in order_by %}{{ column }} desc nulls last{% if not loop.last %}, {% endif %}{% endfor %}
    )
{%- endmacro %}

{#
    The rows of `relation` (a CTE) that are the latest version of their record by `key` (one
    column, never null in the relation), with version_number 1: the rows `latest_first` ranks
    first, found by ranking only the records that came more than once. In the big event
    streams (page views, email events) nearly every id comes once, and a window over every
    row with all its columns took half of their build and most of its memory; this takes a
    grouping of the ids and two joins (bench/README.md, stop 21: 40.7 s -> 20.2 s for the
    two under the profile's memory limit, the same rows).
#}
{% macro latest_versions(relation, key, order_by) -%}
    {%- set repeated_keys -%}
        (select {{ key }} from {{ relation }} group by {{ key }} having count(*) > 1)
    {%- endset -%}
    select {{ relation }}.*, 1 as version_number
    from {{ relation }}
    left join {{ repeated_keys }} as repeated_keys
        on repeated_keys.{{ key }} = {{ relation }}.{{ key }}
    where repeated_keys.{{ key }} is null

    union all

    select *
    from (
        select
            {{ relation }}.*,
            {{ latest_first(partition_by=relation ~ '.' ~ key, order_by=order_by) }} as version_number
        from {{ relation }}
        inner join {{ repeated_keys }} as repeated_keys
            on repeated_keys.{{ key }} = {{ relation }}.{{ key }}
    ) as ranked
    where version_number = 1
{%- endmacro %}
