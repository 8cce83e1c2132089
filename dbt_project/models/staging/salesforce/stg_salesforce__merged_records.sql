with

accounts as (

    select * from {{ ref('base_salesforce__accounts') }}

),

contacts as (

    select * from {{ ref('base_salesforce__contacts') }}

),

leads as (

    select * from {{ ref('base_salesforce__leads') }}

),

merged_accounts as (

    select
        account_id as merged_record_id,
        merged_into_account_id as merged_into_record_id,
        'account' as record_type,
        account_modified_at as merged_at
    from accounts
    where merged_into_account_id is not null

),

merged_contacts as (

    select
        contact_id as merged_record_id,
        merged_into_contact_id as merged_into_record_id,
        'contact' as record_type,
        contact_modified_at as merged_at
    from contacts
    where merged_into_contact_id is not null

),

merged_leads as (

    select
        lead_id as merged_record_id,
        merged_into_lead_id as merged_into_record_id,
        'lead' as record_type,
        lead_modified_at as merged_at
    from leads
    where merged_into_lead_id is not null

),

final as (

    select * from merged_accounts
    union all
    select * from merged_contacts
    union all
    select * from merged_leads

)

select * from final
