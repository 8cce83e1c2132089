{#
    dividend(expression): the left operand of a division that may involve decimals (a
    literal such as 86400.0 or 0.2 is one). DuckDB divides decimals in double precision and
    Postgres keeps at least 16 significant digits, but Spark rounds a quotient of decimals
    to a scale its operands' precisions decide (7 decimals for a bigint over 86400.0, 6 for
    a share of a sum), and a later cast to six decimals then rounds a second time. On Spark
    the dividend is a double, so the division is the one DuckDB does; elsewhere it is left
    as it is, and the compiled SQL does not change.
#}
{% macro dividend(expression) -%}
    {{ return(adapter.dispatch('dividend')(expression)) }}
{%- endmacro %}

{% macro default__dividend(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro spark__dividend(expression) -%}
    cast({{ expression }} as {{ type_double() }})
{%- endmacro %}
