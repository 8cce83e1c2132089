with

source as (

    select * from {{ source('salesforce', 'account') }}

),

renamed as (

    select

        ---------- ids
        id as account_id,
        nullif(parent_id, '') as parent_account_id,
        nullif(owner_id, '') as account_owner_id,
        nullif(master_record_id, '') as merged_into_account_id,

        ---------- strings
        name as account_name,
        type as account_type,
        industry as account_industry,
        billing_city as account_billing_city,
        billing_country as account_billing_country,
        website as account_website,
        account_source,

        ---------- numerics
        {{ dbt.safe_cast('number_of_employees', dbt.type_bigint()) }} as account_employee_count,
        {{ dbt.safe_cast('annual_revenue', dbt.type_float()) }} as account_annual_revenue,

        ---------- booleans
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as account_created_at,
        {{ cast_timestamp('last_modified_date') }} as account_modified_at,
        {{ cast_timestamp('system_modstamp') }} as account_system_modified_at,
        {{ cast_timestamp('_fivetran_synced') }} as account_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='account_id', order_by=['account_modified_at', 'account_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- deleted and merged records stay in, flagged: the staging model filters them
    select
        account_id,
        parent_account_id,
        account_owner_id,
        merged_into_account_id,
        account_name,
        account_type,
        account_industry,
        account_billing_city,
        account_billing_country,
        account_website,
        account_source,
        account_employee_count,
        account_annual_revenue,
        coalesce(is_deleted, false) as is_deleted,
        account_created_at,
        account_modified_at,
        account_system_modified_at,
        account_synced_at
    from versioned
    where version_number = 1

)

select * from final
