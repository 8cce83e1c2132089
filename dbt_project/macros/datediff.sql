{#
    dbt-postgres's datediff of days is a difference of dates, an integer; DuckDB's
    date_diff is a bigint, and the mart contracts say bigint. A macro of the root project
    named like the adapter's takes its place in dispatch and keeps dbt's SQL inside.
#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
    cast({{ dbt.postgres__datediff(first_date, second_date, datepart) }} as {{ dbt.type_bigint() }})
{%- endmacro %}
