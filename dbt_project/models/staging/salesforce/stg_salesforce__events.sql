with

source as (

    select * from {{ source('salesforce', 'event') }}

),

renamed as (

    select

        ---------- ids
        id as event_id,
        nullif(who_id, '') as event_who_id,
        nullif(what_id, '') as event_what_id,
        nullif(account_id, '') as account_id,
        nullif(owner_id, '') as event_owner_id,

        ---------- strings
        subject as event_subject,
        type as event_type,
        event_subtype,

        ---------- numerics
        {{ dbt.safe_cast('duration_in_minutes', dbt.type_bigint()) }} as event_duration_minutes,

        ---------- booleans
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('activity_date', 'date') }} as event_activity_date,

        ---------- timestamps
        {{ cast_timestamp('start_date_time') }} as event_started_at,
        {{ cast_timestamp('end_date_time') }} as event_ended_at,
        {{ cast_timestamp('created_date') }} as event_created_at,
        {{ cast_timestamp('last_modified_date') }} as event_modified_at,
        {{ cast_timestamp('system_modstamp') }} as event_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as event_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='event_id', order_by=['event_modified_at', 'event_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        event_id,
        event_who_id,
        event_what_id,
        account_id,
        event_owner_id,
        event_subject,
        event_type,
        event_subtype,
        event_duration_minutes,
        event_activity_date,
        event_started_at,
        event_ended_at,
        event_created_at,
        event_modified_at,
        event_system_modified_at,
        event_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
