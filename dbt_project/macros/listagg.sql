{#
    dbt-spark's listagg drops the order (collect_list, with a warning), so a list such as
    dim_person.source_systems would come out in whatever order the shuffle left it. Spark 4
    has the SQL standard's `listagg(x, d) within group (order by ...)`, which is dbt's default
    spelling: the same ordered list as DuckDB's string_agg and Postgres's.
    Spark sorts nulls first in ascending order where DuckDB and Postgres sort them last:
    order by a column without nulls (every caller does).
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not implemented on Spark") }}
    {%- endif -%}
    {{ dbt.default__listagg(measure, delimiter_text, order_by_clause, none) }}
{%- endmacro %}
