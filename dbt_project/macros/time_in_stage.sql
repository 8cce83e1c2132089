{#
    The measures of time in stage, shared by fct_time_in_stage (whole history) and
    fct_time_in_stage_monthly (per month of entry): the two differ only in their grain.
#}

{% macro time_in_stage_measures(days='days_in_stage') %}
        count(*) as entered_count,
        count({{ days }}) as exited_count,
        sum(case when is_still_in_stage then 1 else 0 end) as still_in_stage_count,
        {{ percentile_cont(days, 0.5) }} as median_days_in_stage,
        {{ percentile_cont(days, 0.9) }} as p90_days_in_stage,
        avg({{ days }}) as avg_days_in_stage,
        max({{ days }}) as max_days_in_stage
{%- endmacro %}

{% macro time_in_stage_typed_columns() %}
        cast(stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(phase_number as {{ dbt.type_int() }}) as phase_number,
        cast(entered_count as {{ dbt.type_bigint() }}) as entered_count,
        cast(exited_count as {{ dbt.type_bigint() }}) as exited_count,
        cast(still_in_stage_count as {{ dbt.type_bigint() }}) as still_in_stage_count,
        {{ numeric_from_double('median_days_in_stage') }} as median_days_in_stage,
        {{ numeric_from_double('p90_days_in_stage') }} as p90_days_in_stage,
        {{ numeric_from_double('avg_days_in_stage') }} as avg_days_in_stage,
        {{ numeric_from_double('max_days_in_stage') }} as max_days_in_stage
{%- endmacro %}
