{#
    planner_settings(): run before every model (a pre-hook set once in dbt_project.yml), on the
    model's own connection.

    PostgreSQL materializes an import CTE that a model reads more than once
    (`person_identity_map as (select * from ...)`) and has no statistics for its columns: a
    filter on two of them is estimated at 1 row whatever the table holds. The planner then
    picks a nested loop over it, re-running the other side (a window over a staging view)
    once per row: at 450K touch events int_person_engagements ran for over 90 s (then
    stopped) instead of 0.4 s, at 10M it had not finished after 20 min. Without indexes a
    nested loop is not the better plan for these equi-joins, so it is switched off for the
    session; joins that only a nested loop can do (range conditions) still get one. On other
    engines nothing is run, and the compiled SQL does not change.
#}
{% macro planner_settings() -%}
    {{ return(adapter.dispatch('planner_settings')()) }}
{%- endmacro %}

{% macro default__planner_settings() -%}
{%- endmacro %}

{% macro postgres__planner_settings() -%}
    set enable_nestloop = off
{%- endmacro %}
