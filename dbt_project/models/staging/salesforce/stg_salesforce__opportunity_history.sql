with

source as (

    select * from {{ source('salesforce', 'opportunity_history') }}

),

renamed as (

    select

        ---------- ids
        id as opportunity_history_id,
        opportunity_id,
        nullif(created_by_id, '') as created_by_user_id,

        ---------- strings
        stage_name as opportunity_stage_name,
        forecast_category as opportunity_forecast_category,

        ---------- numerics
        {{ dbt.safe_cast('amount', dbt.type_float()) }} as opportunity_amount,
        {{ dbt.safe_cast('probability', dbt.type_float()) }} as opportunity_probability,
        {{ dbt.safe_cast('expected_revenue', dbt.type_float()) }} as opportunity_expected_revenue,

        ---------- booleans
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('close_date', 'date') }} as opportunity_close_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as opportunity_history_created_at,
        {{ cast_timestamp('system_modstamp') }} as opportunity_history_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as opportunity_history_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='opportunity_history_id', order_by=['opportunity_history_system_modified_at', 'opportunity_history_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        opportunity_history_id,
        opportunity_id,
        created_by_user_id,
        opportunity_stage_name,
        opportunity_forecast_category,
        opportunity_amount,
        opportunity_probability,
        opportunity_expected_revenue,
        opportunity_close_date,
        opportunity_history_created_at,
        opportunity_history_system_modified_at,
        opportunity_history_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
