with

contacts as (

    select * from {{ ref('base_salesforce__contacts') }}

),

final as (

    -- drop soft-deleted records and records merged into a master record
    -- (listed in stg_salesforce__merged_records)
    select
        contact_id,
        account_id,
        contact_owner_id,
        contact_email,
        contact_first_name,
        contact_last_name,
        contact_full_name,
        contact_title,
        contact_phone,
        contact_mailing_country,
        contact_lead_source,
        contact_created_at,
        contact_modified_at,
        contact_system_modified_at,
        contact_synced_at
    from contacts
    where not is_deleted
        and merged_into_contact_id is null

)

select * from final
