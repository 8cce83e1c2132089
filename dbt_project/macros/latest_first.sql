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
