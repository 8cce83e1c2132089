{#
    planner_settings(): run before every model (a pre-hook set once in dbt_project.yml), on the
    model's own connection.

    PostgreSQL materializes an import CTE that a model reads more than once
    (`person_identity_map as (select * from ...)`) and has no statistics for its columns: a
    filter on two of them is estimated at 1 row whatever the table holds. The planner then
    picks a nested loop over it, re-running the other side (a window over a staging view)
    once per row: at 450K touch events int_person_engagements ran for minutes instead of a
    second, at 10M for hours. Without indexes a nested loop is never the better plan for these
    equi-joins, so it is switched off for the session; the joins that only a nested loop can
    do (range conditions) still get one. Other engines plan from the tables themselves:
    nothing is run there, and the compiled SQL does not change.
#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set enable_nestloop = off
{%- endmacro %}
