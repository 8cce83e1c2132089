with

source as (

    select * from {{ source('salesforce', 'contact') }}

),

renamed as (

    select

        ---------- ids
        id as contact_id,
        nullif(account_id, '') as account_id,
        nullif(owner_id, '') as contact_owner_id,
        nullif(master_record_id, '') as merged_into_contact_id,

        ---------- strings
        {{ normalize_email('email') }} as contact_email,
        first_name as contact_first_name,
        last_name as contact_last_name,
        name as contact_full_name,
        title as contact_title,
        phone as contact_phone,
        mailing_country as contact_mailing_country,
        lead_source as contact_lead_source,

        ---------- booleans
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as contact_created_at,
        {{ cast_timestamp('last_modified_date') }} as contact_modified_at,
        {{ cast_timestamp('system_modstamp') }} as contact_system_modified_at,
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
        account_id,
        contact_owner_id,
        merged_into_contact_id,
        contact_email,
        contact_first_name,
        contact_last_name,
        contact_full_name,
        contact_title,
        contact_phone,
        contact_mailing_country,
        contact_lead_source,
        coalesce(is_deleted, false) as is_deleted,
        contact_created_at,
        contact_modified_at,
        contact_system_modified_at,
        contact_synced_at
    from versioned
    where version_number = 1

)

select * from final
