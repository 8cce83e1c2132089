with

source as (

    select * from {{ source('zendesk', 'organization') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as organization_id,

        ---------- strings
        external_id as organization_external_id,
        name as organization_name,
        details as organization_details,

        ---------- timestamps
        {{ cast_timestamp('created_at') }} as organization_created_at,
        {{ cast_timestamp('updated_at') }} as organization_updated_at,
        {{ cast_timestamp('_fivetran_synced') }} as organization_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='organization_id', order_by=['organization_updated_at', 'organization_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        organization_id,
        organization_external_id,
        organization_name,
        organization_details,
        organization_created_at,
        organization_updated_at,
        organization_synced_at
    from versioned
    where version_number = 1

)

select * from final
