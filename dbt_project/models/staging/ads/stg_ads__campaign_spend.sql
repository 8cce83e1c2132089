with

source as (

    select * from {{ source('ads', 'campaign_spend') }}

),

renamed as (

    select

        ---------- ids
        campaign_id,

        ---------- strings
        account_id as ad_account_id,
        platform as ad_platform,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,

        ---------- numerics
        -- money is exact: numeric, never a (32-bit on DuckDB) float
        {{ dbt.safe_cast('spend', dbt.type_numeric()) }} as spend,
        {{ dbt.safe_cast('clicks', dbt.type_bigint()) }} as clicks,
        {{ dbt.safe_cast('impressions', dbt.type_bigint()) }} as impressions,

        ---------- dates
        {{ dbt.safe_cast('date_day', 'date') }} as spend_date,

        ---------- timestamps
        {{ cast_timestamp('_fivetran_synced') }} as campaign_spend_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='spend_date, ad_platform, campaign_id', order_by=['campaign_spend_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        campaign_id,
        ad_account_id,
        ad_platform,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,
        spend,
        clicks,
        impressions,
        spend_date,
        campaign_spend_synced_at
    from versioned
    where version_number = 1

)

select * from final
