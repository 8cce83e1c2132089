with

source as (

    select * from {{ source('zendesk', 'user') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as user_id,
        {{ dbt.safe_cast('organization_id', dbt.type_bigint()) }} as organization_id,

        ---------- strings
        {{ normalize_email('email') }} as user_email,
        name as user_name,
        phone as user_phone,
        role as user_role,
        time_zone as user_time_zone,
        locale as user_locale,

        ---------- booleans
        {{ cast_boolean('active') }} as is_active,
        {{ cast_boolean('_fivetran_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_at') }} as user_created_at,
        {{ cast_timestamp('updated_at') }} as user_updated_at,
        {{ cast_timestamp('last_login_at') }} as user_last_login_at,
        {{ cast_timestamp('_fivetran_synced') }} as user_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='user_id', order_by=['user_updated_at', 'user_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        user_id,
        organization_id,
        user_email,
        user_name,
        user_phone,
        user_role,
        user_time_zone,
        user_locale,
        is_active,
        user_created_at,
        user_updated_at,
        user_last_login_at,
        user_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
