with

accounts as (

    select * from {{ ref('base_salesforce__accounts') }}

),

final as (

    -- drop soft-deleted records and records merged into a master record
    -- (listed in stg_salesforce__merged_records)
    select
        account_id,
        parent_account_id,
        account_owner_id,
        account_name,
        account_type,
        account_industry,
        account_billing_city,
        account_billing_country,
        account_website,
        account_source,
        account_employee_count,
        account_annual_revenue,
        account_created_at,
        account_modified_at,
        account_system_modified_at,
        account_synced_at
    from accounts
    where not is_deleted
        and merged_into_account_id is null

)

select * from final
