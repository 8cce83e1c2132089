{#
    Every marketing and sales interaction of a person, one row per touch, from every source
    that records one, with the person (int_person_identity_map), the campaign key of
    dim_campaign where the touch names one, and the channel:
      page_view          Segment pages (utm_* and referrer give channel and campaign)
      email_open/click   HubSpot email events of type OPEN / CLICK (SENT, DELIVERED and
                         BOUNCE are our sends, not the person's interactions)
      form_submission    HubSpot form submissions
      campaign_response  Salesforce campaign members (responded)
      sales_*/opportunity_*  Salesforce tasks and events, on an opportunity or not
    Ad platforms report clicks per campaign and day only, never per person: a paid click is
    attributable through the page view it lands on (utm_medium cpc / paid_social).
    Every channel comes from the governed seed channels (the one place that maps source
    values to channels and marks the internal channel); int_touch_events derives the
    referrer kind (none, same_site, other) that the seed maps.
    Page views and email events come from int_touch_events, which adds each day's events
    incrementally; the resolution here (person, account, campaign, channel) runs over all of
    them on every run, because identity merges and new campaigns change it for past events.
#}

with

page_events as (

    select * from {{ ref('int_touch_events') }}
    where touch_kind = 'page_view'

),

email_events as (

    -- the person's own interactions: sends, deliveries and bounces are ours, and events
    -- HubSpot filtered (bots, duplicates) are not interactions
    select * from {{ ref('int_touch_events') }}
    where touch_kind in ('email_open', 'email_click')
        and not is_filtered_event

),

email_campaigns as (

    select * from {{ ref('stg_hubspot__email_campaigns') }}

),

form_submissions as (

    select * from {{ ref('stg_hubspot__contact_form_submissions') }}

),

campaign_members as (

    select * from {{ ref('stg_salesforce__campaign_members') }}

),

campaigns as (

    -- live campaigns only: staging drops the soft-deleted ones
    select * from {{ ref('stg_salesforce__campaigns') }}

),

tasks as (

    select * from {{ ref('stg_salesforce__tasks') }}

),

events as (

    select * from {{ ref('stg_salesforce__events') }}

),

ad_campaigns as (

    select distinct ad_platform, campaign_id, utm_source, utm_medium, utm_campaign
    from {{ ref('stg_ads__campaign_spend') }}

),

channels as (

    select * from {{ ref('channels') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

email_persons as (

    -- every normalized email -> its person (all records sharing an email are one person)
    select
        person_identifiers.email,
        min(person_identity_map.person_id) as person_id
    from person_identifiers
    inner join person_identity_map
        on person_identity_map.person_record_key = person_identifiers.person_record_key
    where person_identifiers.email is not null
    group by person_identifiers.email

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

external_referrers as (

    select distinct page_referrer
    from page_events
    where referrer_kind = 'other'

),

page_referrer_patterns as (

    -- external referrers that the seed names by a pattern (search engines), matched once
    -- per distinct referrer; min() keeps one channel should two patterns match
    select
        external_referrers.page_referrer,
        min(channels.channel) as channel
    from external_referrers
    inner join channels
        on channels.source_system = 'segment'
        and channels.source_object = 'pages'
        and channels.source_field = 'referrer'
        and channels.match_type = 'contains'
        and external_referrers.page_referrer like {{ dbt.concat(["'%'", 'channels.source_value', "'%'"]) }}
    group by external_referrers.page_referrer

),

internal_channels as (

    -- the channel of our own site's navigation: not a marketing touch downstream
    select distinct channel
    from channels
    where is_internal

),

object_channels as (

    -- sources whose every record (or every value of one field) means one channel
    select source_object, source_field, source_value, channel
    from channels
    where match_type in ('every_record', 'equals')
        and source_object in ('email_event', 'contact_form_submission', 'campaign_member', 'task', 'event')

),

page_touches as (

    select
        page_events.touchpoint_id,
        page_events.touch_kind,
        page_events.source_record_id,
        coalesce(user_map.person_id, anonymous_map.person_id) as person_id,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        case
            when ad_campaigns.campaign_id is not null
                then {{ dbt.concat(["'ads:'", 'ad_campaigns.ad_platform', "':'", 'ad_campaigns.campaign_id']) }}
            when page_events.utm_medium = 'email'
                then {{ dbt.concat(["'hubspot:'", dbt.safe_cast('email_campaigns.email_campaign_id', dbt.type_string())]) }}
        end as campaign_key,
        -- the utm_medium's channel, else the utm_medium itself, else the referrer's
        coalesce(
            utm_medium_channels.channel,
            page_events.utm_medium,
            page_referrer_patterns.channel,
            referrer_kind_channels.channel
        ) as channel,
        page_events.utm_source,
        page_events.utm_medium,
        page_events.utm_campaign,
        page_events.touch_detail,
        page_events.occurred_at
    from page_events
    left join person_identity_map as user_map
        on user_map.source_system = 'segment'
        and user_map.source_table = 'user_id'
        and user_map.source_record_id = page_events.user_id
    left join person_identity_map as anonymous_map
        on anonymous_map.source_system = 'segment'
        and anonymous_map.source_table = 'anonymous_id'
        and anonymous_map.source_record_id = page_events.anonymous_id
    left join utm_medium_channels
        on utm_medium_channels.utm_medium = page_events.utm_medium
    left join page_referrer_patterns
        on page_events.referrer_kind = 'other'
        and page_referrer_patterns.page_referrer = page_events.page_referrer
    left join referrer_kind_channels
        on referrer_kind_channels.referrer_kind = page_events.referrer_kind
    left join ad_campaigns
        on ad_campaigns.utm_campaign = page_events.utm_campaign
        and ad_campaigns.utm_source = page_events.utm_source
        and ad_campaigns.utm_medium = page_events.utm_medium
    left join email_campaigns
        on page_events.utm_medium = 'email'
        and email_campaigns.email_campaign_name = page_events.utm_campaign

),

email_touches as (

    select
        email_events.touchpoint_id,
        email_events.touch_kind,
        email_events.source_record_id,
        email_persons.person_id,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        {{ dbt.concat(["'hubspot:'", dbt.safe_cast('email_events.email_campaign_id', dbt.type_string())]) }} as campaign_key,
        object_channels.channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        email_events.touch_detail,
        email_events.occurred_at
    from email_events
    left join object_channels
        on object_channels.source_object = 'email_event'
        and object_channels.source_field = 'type'
        and object_channels.source_value = email_events.touch_detail
    left join email_persons
        on email_persons.email = email_events.recipient_email

),

form_touches as (

    select
        {{ dbt.concat(["'hubspot:form_submission:'", 'form_submissions.form_submission_id']) }} as touchpoint_id,
        'form_submission' as touch_kind,
        form_submissions.form_submission_id as source_record_id,
        person_identity_map.person_id,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as campaign_key,
        object_channels.channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        form_submissions.form_title as touch_detail,
        form_submissions.form_submitted_at as occurred_at
    from form_submissions
    left join object_channels
        on object_channels.source_object = 'contact_form_submission'
        and object_channels.source_field = 'every_record'
    left join person_identity_map
        on person_identity_map.source_system = 'hubspot'
        and person_identity_map.source_table = 'contact'
        and person_identity_map.source_record_id = {{ dbt.safe_cast('form_submissions.contact_id', dbt.type_string()) }}

),

campaign_touches as (

    select
        {{ dbt.concat(["'salesforce:campaign_member:'", 'campaign_members.campaign_member_id']) }} as touchpoint_id,
        'campaign_response' as touch_kind,
        campaign_members.campaign_member_id as source_record_id,
        person_identity_map.person_id,
        cast(null as {{ dbt.type_string() }}) as salesforce_account_id,
        -- the response happened; a campaign deleted in the CRM since clears the lookup
        case when campaigns.campaign_id is not null
            then {{ dbt.concat(["'salesforce:'", 'campaigns.campaign_id']) }} end as campaign_key,
        object_channels.channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        campaign_members.campaign_member_status as touch_detail,
        campaign_members.campaign_member_created_at as occurred_at
    from campaign_members
    left join campaigns
        on campaigns.campaign_id = campaign_members.campaign_id
    left join object_channels
        on object_channels.source_object = 'campaign_member'
        and object_channels.source_field = 'every_record'
    left join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table = case when campaign_members.contact_id is not null then 'contact' else 'lead' end
        and person_identity_map.source_record_id = coalesce(campaign_members.contact_id, campaign_members.lead_id)

),

task_touches as (

    select
        {{ dbt.concat(["'salesforce:task:'", 'tasks.task_id']) }} as touchpoint_id,
        case when tasks.task_what_id is not null then 'opportunity_task' else 'sales_task' end as touch_kind,
        tasks.task_id as source_record_id,
        person_identity_map.person_id,
        tasks.account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as campaign_key,
        object_channels.channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        tasks.task_type as touch_detail,
        tasks.task_created_at as occurred_at
    from tasks
    left join object_channels
        on object_channels.source_object = 'task'
        and object_channels.source_field = 'every_record'
    left join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table in ('lead', 'contact')
        and person_identity_map.source_record_id = tasks.task_who_id

),

event_touches as (

    select
        {{ dbt.concat(["'salesforce:event:'", 'events.event_id']) }} as touchpoint_id,
        case when events.event_what_id is not null then 'opportunity_meeting' else 'sales_meeting' end as touch_kind,
        events.event_id as source_record_id,
        person_identity_map.person_id,
        events.account_id as salesforce_account_id,
        cast(null as {{ dbt.type_string() }}) as campaign_key,
        object_channels.channel,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        events.event_subject as touch_detail,
        coalesce(events.event_started_at, events.event_created_at) as occurred_at
    from events
    left join object_channels
        on object_channels.source_object = 'event'
        and object_channels.source_field = 'every_record'
    left join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table in ('lead', 'contact')
        and person_identity_map.source_record_id = events.event_who_id

),

touches as (

    select * from page_touches
    union all
    select * from email_touches
    union all
    select * from form_touches
    union all
    select * from campaign_touches
    union all
    select * from task_touches
    union all
    select * from event_touches

),

final as (

    -- the account: the touch's own Salesforce account, else the person's account
    select
        touches.touchpoint_id,
        touches.touch_kind,
        touches.source_record_id,
        touches.person_id,
        coalesce(account_identity_map.account_id, person_accounts.account_id) as account_id,
        touches.campaign_key,
        touches.channel,
        internal_channels.channel is not null as is_internal,
        touches.utm_source,
        touches.utm_medium,
        touches.utm_campaign,
        touches.touch_detail,
        touches.occurred_at
    from touches
    left join account_identity_map
        on account_identity_map.source_system = 'salesforce'
        and account_identity_map.source_table = 'account'
        and account_identity_map.source_record_id = touches.salesforce_account_id
    left join person_accounts
        on person_accounts.person_id = touches.person_id
    left join internal_channels
        on internal_channels.channel = touches.channel

)

select * from final
