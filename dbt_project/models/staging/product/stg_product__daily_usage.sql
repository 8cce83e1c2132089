with

source as (

    select * from {{ source('product', 'daily_usage') }}

),

renamed as (

    select

        ---------- ids
        account_id,
        nullif(stripe_customer_id, '') as stripe_customer_id,

        ---------- numerics
        {{ dbt.safe_cast('active_users', dbt.type_bigint()) }} as active_user_count,
        {{ dbt.safe_cast('sessions', dbt.type_bigint()) }} as session_count,
        {{ dbt.safe_cast('reports_created', dbt.type_bigint()) }} as reports_created_count,
        {{ dbt.safe_cast('dashboards_viewed', dbt.type_bigint()) }} as dashboards_viewed_count,
        {{ dbt.safe_cast('integrations_synced', dbt.type_bigint()) }} as integrations_synced_count,
        {{ dbt.safe_cast('api_calls', dbt.type_bigint()) }} as api_call_count,

        ---------- dates
        {{ dbt.safe_cast('date_day', 'date') }} as usage_date,

        ---------- timestamps
        {{ cast_timestamp('updated_at') }} as usage_updated_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='account_id, usage_date', order_by=['usage_updated_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        account_id,
        stripe_customer_id,
        active_user_count,
        session_count,
        reports_created_count,
        dashboards_viewed_count,
        integrations_synced_count,
        api_call_count,
        usage_date,
        usage_updated_at
    from versioned
    where version_number = 1

)

select * from final
