{#
    One row per campaign across the three systems that run them, keyed by campaign_key
    (<system>:<id>):
      salesforce:<id>              Salesforce campaigns (paid, web, content, email, events)
      ads:<platform>:<campaign id> ad-platform campaigns seen in the daily spend, with their
                                   utm keys and lifetime spend, clicks and impressions
      hubspot:<email campaign id>  HubSpot email campaigns (utm_source hubspot, utm_medium
                                   email, utm_campaign = the campaign name on the clicks)
#}

with

salesforce_campaigns as (

    select * from {{ ref('stg_salesforce__campaigns') }}

),

campaign_spend as (

    select * from {{ ref('stg_ads__campaign_spend') }}

),

email_campaigns as (

    select * from {{ ref('stg_hubspot__email_campaigns') }}

),

ad_campaigns as (

    select
        ad_platform,
        campaign_id,
        max(campaign_name) as campaign_name,
        max(utm_source) as utm_source,
        max(utm_medium) as utm_medium,
        max(utm_campaign) as utm_campaign,
        sum(spend) as total_spend,
        sum(clicks) as total_clicks,
        sum(impressions) as total_impressions,
        min(spend_date) as first_spend_date,
        max(spend_date) as last_spend_date
    from campaign_spend
    group by ad_platform, campaign_id

),

unioned as (

    select
        {{ dbt.concat(["'salesforce:'", 'campaign_id']) }} as campaign_key,
        'salesforce' as campaign_source,
        campaign_id as source_campaign_id,
        campaign_name,
        campaign_type,
        campaign_status,
        cast(null as {{ dbt.type_string() }}) as ad_platform,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(campaign_budgeted_cost as {{ dbt.type_numeric() }}) as budgeted_cost,
        cast(null as {{ dbt.type_numeric() }}) as total_spend,
        cast(null as {{ dbt.type_bigint() }}) as total_clicks,
        cast(null as {{ dbt.type_bigint() }}) as total_impressions,
        campaign_start_date as start_date,
        campaign_end_date as end_date
    from salesforce_campaigns

    union all

    select
        {{ dbt.concat(["'ads:'", 'ad_platform', "':'", 'campaign_id']) }} as campaign_key,
        'ads' as campaign_source,
        campaign_id as source_campaign_id,
        campaign_name,
        'Advertisement' as campaign_type,
        cast(null as {{ dbt.type_string() }}) as campaign_status,
        ad_platform,
        utm_source,
        utm_medium,
        utm_campaign,
        cast(null as {{ dbt.type_numeric() }}) as budgeted_cost,
        cast(total_spend as {{ dbt.type_numeric() }}) as total_spend,
        cast(total_clicks as {{ dbt.type_bigint() }}) as total_clicks,
        cast(total_impressions as {{ dbt.type_bigint() }}) as total_impressions,
        first_spend_date as start_date,
        last_spend_date as end_date
    from ad_campaigns

    union all

    select
        {{ dbt.concat(["'hubspot:'", dbt.safe_cast('email_campaign_id', dbt.type_string())]) }} as campaign_key,
        'hubspot' as campaign_source,
        {{ dbt.safe_cast('email_campaign_id', dbt.type_string()) }} as source_campaign_id,
        email_campaign_name as campaign_name,
        'Email' as campaign_type,
        cast(null as {{ dbt.type_string() }}) as campaign_status,
        cast(null as {{ dbt.type_string() }}) as ad_platform,
        'hubspot' as utm_source,
        'email' as utm_medium,
        email_campaign_name as utm_campaign,
        cast(null as {{ dbt.type_numeric() }}) as budgeted_cost,
        cast(null as {{ dbt.type_numeric() }}) as total_spend,
        cast(null as {{ dbt.type_bigint() }}) as total_clicks,
        cast(null as {{ dbt.type_bigint() }}) as total_impressions,
        cast(null as date) as start_date,
        cast(null as date) as end_date
    from email_campaigns

),

final as (

    select * from unioned

)

select * from final
