{#
    The campaign and channel of every attribute tuple of the two big touch streams, resolved
    once per tuple: int_touchpoints gives each stream touch what its tuple resolves to, and
    on an incremental run re-resolves the past touches whose tuple now resolves differently
    (macros/touch_resolution.sql). Rebuilt on every run: a new campaign or a changed
    governed channel mapping changes past touches.
      page view    campaign: the ad campaign its utm_* name (ad platforms report clicks per
                   campaign, never per person), else the HubSpot email campaign its
                   utm_campaign names when utm_medium is email;
                   channel: the utm_medium's channel, else the utm_medium itself, else the
                   channel of a referrer the seed names by a pattern (search engines), else
                   of its referrer kind (int_touch_events: none, same_site, other)
      email event  campaign: its HubSpot email campaign; channel: its event type's
    Every channel comes from the governed seed channels (the one place that maps source
    values to channels and marks the internal channel).
#}

{%- set inputs = touch_attribute_inputs('touch_events') %}

with

touch_events as (

    select * from {{ ref('int_touch_events') }}

),

email_campaigns as (

    select * from {{ ref('stg_hubspot__email_campaigns') }}

),

ad_campaigns as (

    select distinct ad_platform, campaign_id, utm_source, utm_medium, utm_campaign
    from {{ ref('stg_ads__campaign_spend') }}

),

channels as (

    select * from {{ ref('channels') }}

),

attributes as (

    {{ person_touch_tuples('touch_events', inputs) }}

),

utm_medium_channels as (

    select source_value as utm_medium, channel
    from channels
    where source_system = 'segment' and source_object = 'pages'
        and source_field = 'utm_medium' and match_type = 'equals'

),

referrer_kind_channels as (

    select source_value as referrer_kind, channel
    from channels
    where source_system = 'segment' and source_object = 'pages'
        and source_field = 'referrer' and match_type = 'referrer_kind'

),

page_referrer_patterns as (

    -- external referrers that the seed names by a pattern (search engines), matched once
    -- per distinct referrer; min() keeps one channel should two patterns match
    select
        external_referrers.page_referrer,
        min(channels.channel) as channel
    from (select distinct page_referrer from attributes where page_referrer is not null) as external_referrers
    inner join channels
        on channels.source_system = 'segment'
        and channels.source_object = 'pages'
        and channels.source_field = 'referrer'
        and channels.match_type = 'contains'
        and external_referrers.page_referrer like {{ dbt.concat(["'%'", 'channels.source_value', "'%'"]) }}
    group by external_referrers.page_referrer

),

email_event_type_channels as (

    select source_value as email_event_type, channel
    from channels
    where source_object = 'email_event' and source_field = 'type'
        and match_type in ('every_record', 'equals')

),

internal_channels as (

    -- the channel of our own site's navigation: not a marketing touch downstream
    select distinct channel
    from channels
    where is_internal

),

resolved as (

    select
        attributes.*,
        case
            when attributes.touch_kind <> 'page_view'
                then {{ dbt.concat(["'hubspot:'", dbt.safe_cast('attributes.email_campaign_id', dbt.type_string())]) }}
            when ad_campaigns.campaign_id is not null
                then {{ dbt.concat(["'ads:'", 'ad_campaigns.ad_platform', "':'", 'ad_campaigns.campaign_id']) }}
            when attributes.utm_medium = 'email'
                then {{ dbt.concat(["'hubspot:'", dbt.safe_cast('email_campaigns.email_campaign_id', dbt.type_string())]) }}
        end as campaign_key,
        case
            when attributes.touch_kind <> 'page_view' then email_event_type_channels.channel
            else coalesce(
                utm_medium_channels.channel,
                attributes.utm_medium,
                page_referrer_patterns.channel,
                referrer_kind_channels.channel
            )
        end as channel
    from attributes
    left join utm_medium_channels
        on utm_medium_channels.utm_medium = attributes.utm_medium
    left join page_referrer_patterns
        on page_referrer_patterns.page_referrer = attributes.page_referrer
    left join referrer_kind_channels
        on referrer_kind_channels.referrer_kind = attributes.referrer_kind
    left join ad_campaigns
        on ad_campaigns.utm_campaign = attributes.utm_campaign
        and ad_campaigns.utm_source = attributes.utm_source
        and ad_campaigns.utm_medium = attributes.utm_medium
    left join email_campaigns
        on attributes.utm_medium = 'email'
        and email_campaigns.email_campaign_name = attributes.utm_campaign
    left join email_event_type_channels
        on email_event_type_channels.email_event_type = attributes.email_event_type

),

final as (

    select

        ---------- ids
        {{ resolution_key(columns_of('resolved', inputs)) }} as attribute_key,
        resolved.campaign_key,
        resolved.email_campaign_id,

        ---------- strings
        resolved.touch_kind,
        resolved.channel,
        resolved.email_event_type,
        resolved.utm_source,
        resolved.utm_medium,
        resolved.utm_campaign,
        resolved.referrer_kind,
        resolved.page_referrer,

        ---------- booleans
        internal_channels.channel is not null as is_internal

    from resolved
    left join internal_channels
        on internal_channels.channel = resolved.channel

)

select * from final
