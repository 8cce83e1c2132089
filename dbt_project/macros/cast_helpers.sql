{#
    Typing helpers for staging. Raw columns arrive as the export wrote them (often text);
    these turn them into types the same way on every adapter. A value that does not parse
    becomes null where the adapter has a non-failing cast (DuckDB try_cast, Spark
    try_cast); elsewhere the ingestion has already quarantined rows that must not load.
#}

{% macro normalize_email(column) -%}
    nullif(lower(trim(cast({{ column }} as {{ dbt.type_string() }}))), '')
{%- endmacro %}

{% macro cast_boolean(column) -%}
    case
        when lower(trim(cast({{ column }} as {{ dbt.type_string() }}))) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim(cast({{ column }} as {{ dbt.type_string() }}))) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{# Timestamps: exports carry ISO 8601 with or without an offset; the warehouse keeps UTC. #}
{% macro cast_timestamp(column) -%}
    {{ return(adapter.dispatch('cast_timestamp')(column)) }}
{%- endmacro %}

{% macro default__cast_timestamp(column) -%}
    cast(cast(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__cast_timestamp(column) -%}
    cast(timezone('UTC', try_cast(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') as timestamptz)) as {{ dbt.type_timestamp() }})
{%- endmacro %}

{# Spark has no timestamp with time zone: casting an ISO 8601 string with an offset gives the
   instant, shown in the session time zone, which the Spark profile must set to UTC
   (spark.sql.session.timeZone). try_cast keeps the null-if-unparseable promise under ANSI mode. #}
{% macro spark__cast_timestamp(column) -%}
    try_cast(nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '') as {{ dbt.type_timestamp() }})
{%- endmacro %}

{# dbt-spark's safe_cast is a plain cast, which fails the whole query on one malformed value
   under ANSI mode (Spark 4's default); DuckDB's is try_cast, null for that value. #}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
