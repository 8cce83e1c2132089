with

source as (

    select * from {{ source('salesforce', 'opportunity') }}

),

renamed as (

    select

        ---------- ids
        id as opportunity_id,
        nullif(account_id, '') as account_id,
        nullif(campaign_id, '') as campaign_id,
        nullif(owner_id, '') as opportunity_owner_id,

        ---------- strings
        name as opportunity_name,
        type as opportunity_type,
        stage_name as opportunity_stage_name,
        forecast_category as opportunity_forecast_category,
        lead_source as opportunity_lead_source,
        next_step as opportunity_next_step,

        ---------- numerics
        {{ dbt.safe_cast('amount', dbt.type_float()) }} as opportunity_amount,
        {{ dbt.safe_cast('probability', dbt.type_float()) }} as opportunity_probability,

        ---------- booleans
        {{ cast_boolean('is_closed') }} as is_closed,
        {{ cast_boolean('is_won') }} as is_won,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('close_date', 'date') }} as opportunity_close_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as opportunity_created_at,
        {{ cast_timestamp('last_modified_date') }} as opportunity_modified_at,
        {{ cast_timestamp('system_modstamp') }} as opportunity_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as opportunity_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='opportunity_id', order_by=['opportunity_modified_at', 'opportunity_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        opportunity_id,
        account_id,
        campaign_id,
        opportunity_owner_id,
        opportunity_name,
        opportunity_type,
        opportunity_stage_name,
        opportunity_forecast_category,
        opportunity_lead_source,
        opportunity_next_step,
        opportunity_amount,
        opportunity_probability,
        is_closed,
        is_won,
        opportunity_close_date,
        opportunity_created_at,
        opportunity_modified_at,
        opportunity_system_modified_at,
        opportunity_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
