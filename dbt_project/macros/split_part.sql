{#
    dbt-postgres's split_part compares the part number with 0 to choose its negative-index
    path, so it refuses a column (`'>=' not supported between str and int`). Postgres's own
    split_part takes any integer expression (cast: dbt's generate_series numbers its rows
    with power(), a double on Postgres); only a negative literal needs dbt's helper.
    A macro of the root project named like the adapter's takes its place in dispatch.
#}
{% macro postgres__split_part(string_text, delimiter_text, part_number) %}
  {% if part_number is number and part_number < 0 %}
    {{ dbt._split_part_negative(string_text, delimiter_text, part_number) }}
  {% elif part_number is number %}
    {{ dbt.default__split_part(string_text, delimiter_text, part_number) }}
  {% else %}
    {{ dbt.default__split_part(string_text, delimiter_text, 'cast(' ~ part_number ~ ' as ' ~ dbt.type_int() ~ ')') }}
  {% endif %}
{% endmacro %}

{#
    dbt-spark's split_part splits on a regular expression built from the delimiter and
    indexes the array, which fails under ANSI mode past the last part and compares the part
    number with 0 like dbt-postgres's. Spark's own split_part has Postgres's and DuckDB's
    meaning: a literal delimiter, '' past the last part, null in null out.
#}
{% macro spark__split_part(string_text, delimiter_text, part_number) %}
    split_part({{ string_text }}, {{ delimiter_text }}, cast({{ part_number }} as {{ dbt.type_int() }}))
{% endmacro %}
