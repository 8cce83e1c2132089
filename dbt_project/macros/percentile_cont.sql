{#
    percentile_cont(expression, fraction): the continuous (linearly interpolated) percentile
    of a numeric expression, as an aggregate: percentile_cont('days', 0.5) is the median.
    dbt has no cross-database macro for it and the engines spell it three ways:
      default (Postgres, Snowflake, ...)  percentile_cont(p) within group (order by x)
      duckdb                              quantile_cont(x, p)
      spark                               percentile(x, p)  (exact, interpolated the same way)
    All three ignore nulls and return null for a group without values. The values are
    interpolated as doubles everywhere: Postgres has no percentile of a numeric (it casts to
    double), and DuckDB's of a decimal truncates to the decimal's scale, so without the cast
    the engines disagreed in the last decimal.
#}

{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by cast({{ expression }} as {{ type_double() }}))
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont(cast({{ expression }} as {{ type_double() }}), {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile(cast({{ expression }} as {{ type_double() }}), {{ fraction }})
{%- endmacro %}
