{#
    The seeds' column_types (seeds/*.yml) are written in the SQL standard's spelling that
    DuckDB and Postgres take; Spark's parser refuses `varchar` without a length and has no
    `double precision`. These two dbt-spark macros create and fill a seed's table with the
    column types in Spark's spelling.
#}
{% macro spark__create_csv_table(model, agate_table) %}
    {{ return(dbt.spark__create_csv_table(seed_with_spark_types(model), agate_table)) }}
{% endmacro %}

{#
    dbt-spark's session connection pastes the seed's values into its insert as Python
    text: an empty cell becomes the string 'None' (funnel_stages.next_stage of the last
    stages) and a quote inside a value breaks the statement. The values here are SQL
    literals instead (null, true, numbers, escaped strings), so no bindings are needed,
    which the Thrift connection accepts as well.
#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_types = seed_with_spark_types(model)['config']['column_types'] %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_types.get(agate_table.column_names[loop.index0], adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_seed_literal(value) }} as {{ type }}){%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.first %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro seed_with_spark_types(model) %}
    {% set spark_spelling = {'varchar': 'string', 'text': 'string', 'double precision': 'double'} %}
    {% set column_types = {} %}
    {% for column, type in model['config'].get('column_types', {}).items() %}
        {% do column_types.update({column: spark_spelling.get(type | lower | trim, type)}) %}
    {% endfor %}
    {% set config = {} %}
    {% do config.update(model['config']) %}
    {% do config.update({'column_types': column_types}) %}
    {% set spark_model = {} %}
    {% do spark_model.update(model) %}
    {% do spark_model.update({'config': config}) %}
    {{ return(spark_model) }}
{% endmacro %}
