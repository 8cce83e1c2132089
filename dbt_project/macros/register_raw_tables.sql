{#
    On Spark the loader writes the raw layer as parquet folders (orchestration/spark/raw_export.py);
    this registers each source table over its folder at the start of a run, so staging reads
    `raw_<system>.<table>` as on every other target. Dropping such an external table keeps its
    files; recreating it picks up a column the loader added since. Other adapters: nothing.
#}
{% macro register_raw_tables() %}
    {{ return(adapter.dispatch('register_raw_tables')()) }}
{% endmacro %}

{% macro default__register_raw_tables() %}
    {% do return('') %}
{% endmacro %}

{% macro spark__register_raw_tables() %}
    {% if execute %}
        {% set raw_folder = env_var('SPARK_DIR') ~ '/raw' %}
        {% set schemas = [] %}
        {% for source in graph.sources.values() %}
            {% if source.schema not in schemas %}
                {% do schemas.append(source.schema) %}
                {% do run_query('create schema if not exists ' ~ source.schema) %}
            {% endif %}
            {% set relation = source.schema ~ '.' ~ source.identifier %}
            {% do run_query('drop table if exists ' ~ relation) %}
            {% do run_query("create table " ~ relation ~ " using parquet location '"
                ~ raw_folder ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'") %}
        {% endfor %}
    {% endif %}
    {% do return('') %}
{% endmacro %}
