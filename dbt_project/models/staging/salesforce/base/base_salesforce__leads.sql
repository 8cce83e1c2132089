with

source as (

    select * from {{ source('salesforce', 'lead') }}

),

renamed as (

    select

        ---------- ids
        id as lead_id,
        nullif(owner_id, '') as lead_owner_id,
        nullif(converted_account_id, '') as converted_account_id,
        nullif(converted_contact_id, '') as converted_contact_id,
        nullif(converted_opportunity_id, '') as converted_opportunity_id,
        nullif(master_record_id, '') as merged_into_lead_id,

        ---------- strings
        {{ normalize_email('email') }} as lead_email,
        first_name as lead_first_name,
        last_name as lead_last_name,
        name as lead_full_name,
        phone as lead_phone,
        title as lead_title,
        company as lead_company_name,
        website as lead_website,
        industry as lead_industry,
        country as lead_country,
        lead_source,
        status as lead_status,

        ---------- numerics
        {{ dbt.safe_cast('number_of_employees', dbt.type_bigint()) }} as lead_employee_count,

        ---------- booleans
        {{ cast_boolean('is_converted') }} as is_converted,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- dates
        {{ dbt.safe_cast('converted_date', 'date') }} as lead_converted_date,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as lead_created_at,
        {{ cast_timestamp('last_modified_date') }} as lead_modified_at,
        {{ cast_timestamp('system_modstamp') }} as lead_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as lead_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='lead_id', order_by=['lead_modified_at', 'lead_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- deleted and merged records stay in, flagged: the staging model filters them
    select
        lead_id,
        lead_owner_id,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        merged_into_lead_id,
        lead_email,
        lead_first_name,
        lead_last_name,
        lead_full_name,
        lead_phone,
        lead_title,
        lead_company_name,
        lead_website,
        lead_industry,
        lead_country,
        lead_source,
        lead_status,
        lead_employee_count,
        is_converted,
        coalesce(is_deleted, false) as is_deleted,
        lead_converted_date,
        lead_created_at,
        lead_modified_at,
        lead_system_modified_at,
        lead_synced_at
    from versioned
    where version_number = 1

)

select * from final
