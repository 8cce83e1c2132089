{#
    dbt-postgres's datediff of days is a difference of dates, an integer; DuckDB's
    date_diff is a bigint, and the mart contracts say bigint. A macro of the root project
    named like the adapter's takes its place in dispatch and keeps dbt's SQL inside.
#}
{% macro postgres__datediff(first_date, second_date, datepart) -%}
    cast({{ dbt.postgres__datediff(first_date, second_date, datepart) }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{#
    dbt-spark's datediff of hours, minutes and seconds rounds the elapsed time up or down;
    DuckDB and Postgres count the unit's boundaries crossed (date_diff, date_part), so 10:59
    to 11:01 is one hour on those and zero on dbt-spark. Truncating both ends to the unit
    counts boundaries on Spark too; days, months and years are boundaries already. The
    result is a bigint as on DuckDB, and null in, null out.
#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds_per = {'hour': 3600, 'minute': 60, 'second': 1} -%}
    {%- if datepart == 'day' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- elif datepart in seconds_per -%}
        ((unix_seconds(date_trunc('{{ datepart }}', cast({{ second_date }} as timestamp)))
          - unix_seconds(date_trunc('{{ datepart }}', cast({{ first_date }} as timestamp)))) div {{ seconds_per[datepart] }})
    {%- elif datepart == 'month' -%}
        cast((year({{ second_date }}) - year({{ first_date }})) * 12 + month({{ second_date }}) - month({{ first_date }}) as bigint)
    {%- elif datepart == 'year' -%}
        cast(year({{ second_date }}) - year({{ first_date }}) as bigint)
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff by " ~ datepart ~ " is not implemented on Spark") }}
    {%- endif -%}
{%- endmacro %}
