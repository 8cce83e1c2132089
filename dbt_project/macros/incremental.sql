{#
    Incremental models over the append-mostly event streams (page views, email events,
    contact property history) process only the rows of landing files they have not seen.

    The ingestion loads every landing file exactly once and stamps each raw row with its
    `_landing_file`; a newer version of a record replaces the raw row and carries its new
    file's name. So "rows of files not yet in this model" is exactly the new and the
    changed records, and `delete+insert` on the model's unique key replaces a record's
    older version. The file name rather than a timestamp watermark: events arrive late
    and out of order, and a file of yesterday's events loaded today must not be skipped.

    A record whose source marks it deleted must reach the delete step too, so the models
    that use this macro keep no soft-delete filter of their own (their sources have none).
#}
{% macro from_unseen_landing_files(landing_file_column='_landing_file') -%}
    {%- if is_incremental() %}
    where {{ landing_file_column }} not in {{ seen_landing_files() }}
    {%- endif %}
{%- endmacro %}

{#- The landing files this incremental model already holds rows of (a subquery). -#}
{% macro seen_landing_files() -%}
    (
        select landing_file from {{ this }} where landing_file is not null group by landing_file
    )
{%- endmacro %}

{#
    Spark's parquet tables have neither `delete` nor `merge`, so on Spark an incremental
    model is partitioned by its landing file (partition_by: landing_file) and its run
    overwrites whole partitions (insert_overwrite in dynamic mode, orchestration/spark/conf.py):
    the partitions of the new rows, with the partitions that hold an older version of one
    of their keys, each written again complete - its rows whose key did not come again,
    plus the new rows. That is delete+insert on the unique key, one partition at a time.
    A partition every row of which came again (a file whose records were all re-sent)
    would not be written at all, so it is dropped first.
    Spark reads the table it overwrites here because dynamic overwrite writes to a staging
    folder and swaps the partitions in at commit; a run that dies before the commit leaves
    the table as it was, and one that dies after a drop leaves only rows whose newer
    versions the next run loads again (their files are still unseen).

    dbt-spark calls this macro for the insert_overwrite strategy: this version of the root
    project takes its place (`source_relation` is the temporary view of the model's SQL).
#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if not unique_key or not partition_by or partition_by is not string -%}
        {{ exceptions.raise_compiler_error(
            "an incremental model on Spark needs a unique_key and one partition_by column (macros/incremental.sql)") }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set key_match -%}
        {% for key in keys %}existing.{{ key }} = incoming.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    {%- endset -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target_relation) | map(attribute='quoted') | list -%}

    {%- set emptied_partitions -%}
        select existing.{{ partition_by }}
        from {{ target_relation }} as existing
        left join (select distinct {{ keys | join(', ') }} from {{ source_relation }}) as incoming
            on {{ key_match }}
        group by existing.{{ partition_by }}
        having count(*) = count(incoming.{{ keys[0] }})
            and existing.{{ partition_by }} not in (select {{ partition_by }} from {{ source_relation }})
    {%- endset -%}
    {%- for row in (run_query(emptied_partitions) if execute else []) -%}
        {%- call statement('drop_emptied_partition') -%}
            alter table {{ target_relation }} drop if exists partition ({{ partition_by }} = '{{ row[0] | replace("\\", "\\\\") | replace("'", "\\'") }}')
        {%- endcall -%}
    {%- endfor %}

    insert overwrite table {{ target_relation }}
    partition ({{ partition_by }})
    select {{ dest_columns | join(', ') }} from {{ source_relation }}
    union all
    select {% for column in dest_columns %}existing.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ target_relation }} as existing
    left anti join {{ source_relation }} as incoming
        on {{ key_match }}
    where existing.{{ partition_by }} in (
        select {{ partition_by }} from {{ source_relation }}
        union
        select existing.{{ partition_by }}
        from {{ target_relation }} as existing
        left semi join {{ source_relation }} as incoming
            on {{ key_match }}
    )
{% endmacro %}
