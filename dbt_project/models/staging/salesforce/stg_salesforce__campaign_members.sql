with

source as (

    select * from {{ source('salesforce', 'campaign_member') }}

),

renamed as (

    select

        ---------- ids
        id as campaign_member_id,
        campaign_id,
        nullif(lead_id, '') as lead_id,
        nullif(contact_id, '') as contact_id,

        ---------- strings
        status as campaign_member_status,

        ---------- booleans
        {{ cast_boolean('has_responded') }} as has_responded,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('first_responded_date', 'date') }} as campaign_member_first_responded_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as campaign_member_created_at,
        {{ cast_timestamp('last_modified_date') }} as campaign_member_modified_at,
        {{ cast_timestamp('system_modstamp') }} as campaign_member_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as campaign_member_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='campaign_member_id', order_by=['campaign_member_modified_at', 'campaign_member_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        campaign_member_id,
        campaign_id,
        lead_id,
        contact_id,
        campaign_member_status,
        has_responded,
        campaign_member_first_responded_date,
        campaign_member_created_at,
        campaign_member_modified_at,
        campaign_member_system_modified_at,
        campaign_member_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
