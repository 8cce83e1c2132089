with

source as (

    select * from {{ source('hubspot', 'email_event') }}
    -- on an incremental run, only the rows of landing files not yet processed
    {{ from_unseen_landing_files() }}

),

renamed as (

    select

        ---------- ids
        id as email_event_id,
        {{ dbt.safe_cast('email_campaign_id', dbt.type_bigint()) }} as email_campaign_id,
        {{ dbt.safe_cast('app_id', dbt.type_bigint()) }} as email_event_app_id,
        {{ dbt.safe_cast('portal_id', dbt.type_bigint()) }} as portal_id,

        ---------- strings
        sent_by_id as sent_by_event_id,
        {{ normalize_email('recipient') }} as email_event_recipient,
        type as email_event_type,

        ---------- booleans
        {{ cast_boolean('filtered_event') }} as is_filtered_event,

        ---------- timestamps
        {{ cast_timestamp('created') }} as email_event_at,
        {{ cast_timestamp('sent_by_created') }} as sent_at,
        {{ cast_timestamp('_fivetran_synced') }} as email_event_synced_at,

        ---------- lineage
        _landing_file as landing_file

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record: the
    -- latest of each (only the few ids that came more than once are ranked)
    {{ latest_versions('renamed', key='email_event_id', order_by=['email_event_synced_at']) }}

),

final as (

    -- keep the latest version of each record
    select
        email_event_id,
        email_campaign_id,
        email_event_app_id,
        portal_id,
        sent_by_event_id,
        email_event_recipient,
        email_event_type,
        is_filtered_event,
        email_event_at,
        sent_at,
        email_event_synced_at,
        landing_file
    from versioned
    where version_number = 1

)

select * from final
