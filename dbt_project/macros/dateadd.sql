{#
    dbt-spark's dateadd goes through unix seconds (to_unix_timestamp), which drops the
    fraction of a second that DuckDB's and Postgres's interval arithmetic keep. Spark's
    timestampadd adds the unit to the full timestamp, a date too (the result is a timestamp
    as on DuckDB), with month ends clamped like DuckDB's and Postgres's.
#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast({{ interval }} as bigint), {{ from_date_or_timestamp }})
{%- endmacro %}
