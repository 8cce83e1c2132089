{#
    Primary-key test for models whose key spans several columns. dbt_utils has the same
    test, but dbt packages come from hub.getdbt.com, which this project must not need.
#}
{% test unique_combination_of_columns(model, columns) %}

with grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}

)

select * from grouped
where n_rows > 1

{% endtest %}
