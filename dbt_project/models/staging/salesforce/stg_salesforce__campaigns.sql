with

source as (

    select * from {{ source('salesforce', 'campaign') }}

),

renamed as (

    select

        ---------- ids
        id as campaign_id,
        nullif(owner_id, '') as campaign_owner_id,

        ---------- strings
        name as campaign_name,
        type as campaign_type,
        status as campaign_status,

        ---------- numerics
        {{ dbt.safe_cast('budgeted_cost', dbt.type_float()) }} as campaign_budgeted_cost,
        {{ dbt.safe_cast('actual_cost', dbt.type_float()) }} as campaign_actual_cost,

        ---------- booleans
        {{ cast_boolean('is_active') }} as is_active,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('start_date', 'date') }} as campaign_start_date,
        {{ dbt.safe_cast('end_date', 'date') }} as campaign_end_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as campaign_created_at,
        {{ cast_timestamp('last_modified_date') }} as campaign_modified_at,
        {{ cast_timestamp('system_modstamp') }} as campaign_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as campaign_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='campaign_id', order_by=['campaign_modified_at', 'campaign_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        campaign_id,
        campaign_owner_id,
        campaign_name,
        campaign_type,
        campaign_status,
        campaign_budgeted_cost,
        campaign_actual_cost,
        is_active,
        campaign_start_date,
        campaign_end_date,
        campaign_created_at,
        campaign_modified_at,
        campaign_system_modified_at,
        campaign_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
