with

source as (

    select * from {{ source('hubspot', 'company') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as company_id,

        ---------- strings
        property_name as company_name,
        property_domain as company_domain,
        property_industry as company_industry,
        property_country as company_country,
        property_city as company_city,

        ---------- numerics
        {{ dbt.safe_cast('property_numberofemployees', dbt.type_bigint()) }} as company_employee_count,
        {{ dbt.safe_cast('property_annualrevenue', dbt.type_float()) }} as company_annual_revenue,

        ---------- booleans
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('property_createdate') }} as company_created_at,
        {{ cast_timestamp('property_hs_lastmodifieddate') }} as company_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as company_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='company_id', order_by=['company_modified_at', 'company_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        company_id,
        company_name,
        company_domain,
        company_industry,
        company_country,
        company_city,
        company_employee_count,
        company_annual_revenue,
        company_created_at,
        company_modified_at,
        company_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
