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
    where {{ landing_file_column }} not in (
        select landing_file from {{ this }} where landing_file is not null group by landing_file
    )
    {%- endif %}
{%- endmacro %}
