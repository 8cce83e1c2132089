with

source as (

    select * from {{ source('hubspot', 'contact') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as contact_id,
        {{ dbt.safe_cast('property_associatedcompanyid', dbt.type_bigint()) }} as company_id,

        ---------- strings
        {{ normalize_email('property_email') }} as contact_email,
        property_firstname as contact_first_name,
        property_lastname as contact_last_name,
        property_phone as contact_phone,
        property_company as contact_company_name,
        property_jobtitle as contact_job_title,
        property_country as contact_country,
        property_lifecyclestage as contact_lifecycle_stage,
        property_hs_lead_status as contact_lead_status,
        property_hs_analytics_source as contact_analytics_source,
        property_hs_calculated_merged_vids as contact_merged_vids,

        ---------- booleans
        {{ cast_boolean('_fivetran_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('property_createdate') }} as contact_created_at,
        {{ cast_timestamp('property_lastmodifieddate') }} as contact_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as contact_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='contact_id', order_by=['contact_modified_at', 'contact_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- deleted and merged records stay in, flagged: the staging model filters them
    select
        contact_id,
        company_id,
        contact_email,
        contact_first_name,
        contact_last_name,
        contact_phone,
        contact_company_name,
        contact_job_title,
        contact_country,
        contact_lifecycle_stage,
        contact_lead_status,
        contact_analytics_source,
        contact_merged_vids,
        coalesce(is_deleted, false) as is_deleted,
        contact_created_at,
        contact_modified_at,
        contact_synced_at
    from versioned
    where version_number = 1

)

select * from final
