with

contacts as (

    select * from {{ ref('base_hubspot__contacts') }}

),

final as (

    -- drop soft-deleted records (merged contacts are deleted; see stg_hubspot__contact_merges)
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
        contact_created_at,
        contact_modified_at,
        contact_synced_at
    from contacts
    where not is_deleted

)

select * from final
