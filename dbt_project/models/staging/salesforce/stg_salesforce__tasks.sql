with

source as (

    select * from {{ source('salesforce', 'task') }}

),

renamed as (

    select

        ---------- ids
        id as task_id,
        nullif(who_id, '') as task_who_id,
        nullif(what_id, '') as task_what_id,
        nullif(account_id, '') as account_id,
        nullif(owner_id, '') as task_owner_id,

        ---------- strings
        subject as task_subject,
        type as task_type,
        task_subtype,
        status as task_status,
        priority as task_priority,

        ---------- numerics
        {{ dbt.safe_cast('call_duration_in_seconds', dbt.type_bigint()) }} as task_call_duration_seconds,

        ---------- booleans
        {{ cast_boolean('is_closed') }} as is_closed,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('activity_date', 'date') }} as task_activity_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as task_created_at,
        {{ cast_timestamp('last_modified_date') }} as task_modified_at,
        {{ cast_timestamp('system_modstamp') }} as task_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as task_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='task_id', order_by=['task_modified_at', 'task_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        task_id,
        task_who_id,
        task_what_id,
        account_id,
        task_owner_id,
        task_subject,
        task_type,
        task_subtype,
        task_status,
        task_priority,
        task_call_duration_seconds,
        is_closed,
        task_activity_date,
        task_created_at,
        task_modified_at,
        task_system_modified_at,
        task_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
