{#
    Schemas are named after their layer (staging, marts, governance, ...), not prefixed with
    the target schema, so analysts and Great Expectations see the same names on every target.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
