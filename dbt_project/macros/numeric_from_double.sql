{#
    numeric_from_double(expression): a double as dbt's numeric type, rounded the same way on
    every engine. Postgres converts a double through its 15 significant digits, DuckDB from
    its binary value: a median of two 6-decimal values ends in 5 in the 7th decimal, which
    is 4999... in binary, and the engines rounded it apart. Through 9 decimals first, the
    tie is exact on both and rounds half away from zero on both.
#}
{% macro numeric_from_double(expression) -%}
    cast(cast({{ expression }} as decimal(38, 9)) as {{ dbt.type_numeric() }})
{%- endmacro %}
