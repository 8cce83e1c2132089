with

source as (

    select * from {{ source('segment', 'pages') }}
    -- on an incremental run, only the rows of landing files not yet processed
    {{ from_unseen_landing_files() }}

),

renamed as (

    select

        ---------- ids
        id as page_view_id,

        ---------- strings
        anonymous_id,
        user_id,
        url as page_url,
        path as page_path,
        title as page_title,
        referrer as page_referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        context_ip as page_context_ip,

        ---------- timestamps
        {{ cast_timestamp(adapter.quote('timestamp')) }} as page_viewed_at,
        {{ cast_timestamp('received_at') }} as page_received_at,

        ---------- lineage
        _landing_file as landing_file

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record: the
    -- latest of each (only the few ids that came more than once are ranked)
    {{ latest_versions('renamed', key='page_view_id', order_by=['page_received_at']) }}

),

final as (

    -- keep the latest version of each record
    select
        page_view_id,
        anonymous_id,
        user_id,
        page_url,
        page_path,
        page_title,
        page_referrer,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        page_context_ip,
        page_viewed_at,
        page_received_at,
        landing_file
    from versioned
    where version_number = 1

)

select * from final
