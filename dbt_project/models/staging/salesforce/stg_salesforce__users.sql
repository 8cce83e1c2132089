with

source as (

    select * from {{ source('salesforce', 'user') }}

),

renamed as (

    select

        ---------- ids
        id as user_id,
        nullif(manager_id, '') as manager_user_id,

        ---------- strings
        {{ normalize_email('email') }} as user_email,
        username as user_username,
        name as user_full_name,
        first_name as user_first_name,
        last_name as user_last_name,
        title as user_title,
        department as user_department,
        user_type,

        ---------- booleans
        {{ cast_boolean('is_active') }} as is_active,
        {{ cast_boolean('_fivetran_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as user_created_at,
        {{ cast_timestamp('last_modified_date') }} as user_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as user_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='user_id', order_by=['user_modified_at', 'user_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        user_id,
        manager_user_id,
        user_email,
        user_username,
        user_full_name,
        user_first_name,
        user_last_name,
        user_title,
        user_department,
        user_type,
        is_active,
        user_created_at,
        user_modified_at,
        user_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
