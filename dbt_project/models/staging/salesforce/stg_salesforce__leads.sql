with

leads as (

    select * from {{ ref('base_salesforce__leads') }}

),

final as (

    -- drop soft-deleted records and records merged into a master record
    -- (listed in stg_salesforce__merged_records)
    select
        lead_id,
        lead_owner_id,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
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
        lead_converted_date,
        lead_created_at,
        lead_modified_at,
        lead_system_modified_at,
        lead_synced_at
    from leads
    where not is_deleted
        and merged_into_lead_id is null

)

select * from final
