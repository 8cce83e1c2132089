{#
    type_double(): an 8-byte floating-point type on every adapter. dbt's type_float() is a
    4-byte FLOAT on DuckDB, and a quotient of decimals is a double on DuckDB but an exact
    numeric of up to 20 decimals on Postgres: a cast to this type makes the engines agree.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
