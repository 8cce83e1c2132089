with

source as (

    select * from {{ source('hubspot', 'email_campaign') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as email_campaign_id,
        {{ dbt.safe_cast('app_id', dbt.type_bigint()) }} as email_campaign_app_id,
        {{ dbt.safe_cast('content_id', dbt.type_bigint()) }} as email_campaign_content_id,

        ---------- strings
        app_name as email_campaign_app_name,
        name as email_campaign_name,
        subject as email_campaign_subject,
        type as email_campaign_type,
        sub_type as email_campaign_sub_type,

        ---------- numerics
        {{ dbt.safe_cast('num_included', dbt.type_bigint()) }} as email_campaign_included_count,
        {{ dbt.safe_cast('num_queued', dbt.type_bigint()) }} as email_campaign_queued_count,

        ---------- timestamps
        {{ cast_timestamp('_fivetran_synced') }} as email_campaign_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='email_campaign_id', order_by=['email_campaign_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        email_campaign_id,
        email_campaign_app_id,
        email_campaign_content_id,
        email_campaign_app_name,
        email_campaign_name,
        email_campaign_subject,
        email_campaign_type,
        email_campaign_sub_type,
        email_campaign_included_count,
        email_campaign_queued_count,
        email_campaign_synced_at
    from versioned
    where version_number = 1

)

select * from final
