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
    values to channels and marks the internal channel).

    Incremental (a table on Spark): page views and email events, nine in ten touches, take
    their person and account from int_touch_identities and their campaign and channel from
    int_touch_attributes, through the keys stored with them. An incremental run's pre-hooks
    set anew what the keys that resolve differently now resolved to (identity merges, new
    campaigns, a changed mapping reach past touches), and delete the events of new landing
    files (a newer version replaces an older one) and the small sources' touches; the run
    then adds those files' events and the small sources (macros/touch_resolution.sql). The
    result equals a full rebuild.
#}

{%- set identity_inputs = touch_identity_inputs('touch_events') %}
{%- set attribute_inputs = touch_attribute_inputs('touch_events') %}

with

touch_events as (

    select * from {{ ref('int_touch_events') }}

),

identities as (

    select * from {{ ref('int_touch_identities') }}

),

attributes as (

    select * from {{ ref('int_touch_attributes') }}

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

channels as (

    select * from {{ ref('channels') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

stream_events as (

    -- a person's page views and email opens and clicks; on an incremental run those of
    -- landing files not seen here
    select
        touch_events.*,
        {{ resolution_key(identity_inputs.values()) }} as identity_key,
        {{ resolution_key(attribute_inputs.values()) }} as attribute_key
    from touch_events
    where {{ is_person_touch_event('touch_events') }}
    {%- if is_incremental() %}
        and touch_events.landing_file not in {{ seen_landing_files() }}
    {%- endif %}

),

stream_touches as (

    select
        stream_events.touchpoint_id,
        stream_events.touch_kind,
        stream_events.source_record_id,
        identities.person_id,
        identities.account_id,
        attributes.campaign_key,
        attributes.channel,
        attributes.is_internal,
        stream_events.utm_source,
        stream_events.utm_medium,
        stream_events.utm_campaign,
        stream_events.touch_detail,
        stream_events.occurred_at,
        stream_events.identity_key,
        stream_events.attribute_key,
        stream_events.landing_file
    from stream_events
    left join identities
        on identities.identity_key = stream_events.identity_key
    left join attributes
        on attributes.attribute_key = stream_events.attribute_key

),

internal_channels as (

    -- the channel of our own site's navigation: not a marketing touch downstream
    select distinct channel
    from channels
    where is_internal

),

object_channels as (

    -- sources whose every record means one channel
    select source_object, source_field, source_value, channel
    from channels
    where match_type in ('every_record', 'equals')
        and source_object in ('contact_form_submission', 'campaign_member', 'task', 'event')

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

small_touches as (

    select * from form_touches
    union all
    select * from campaign_touches
    union all
    select * from task_touches
    union all
    select * from event_touches

),

small_source_touches as (

    -- the account: the touch's own Salesforce account, else the person's account
    select
        small_touches.touchpoint_id,
        small_touches.touch_kind,
        small_touches.source_record_id,
        small_touches.person_id,
        coalesce(account_identity_map.account_id, person_accounts.account_id) as account_id,
        small_touches.campaign_key,
        small_touches.channel,
        internal_channels.channel is not null as is_internal,
        small_touches.utm_source,
        small_touches.utm_medium,
        small_touches.utm_campaign,
        small_touches.touch_detail,
        small_touches.occurred_at,
        cast(null as {{ dbt.type_string() }}) as identity_key,
        cast(null as {{ dbt.type_string() }}) as attribute_key,
        cast(null as {{ dbt.type_string() }}) as landing_file
    from small_touches
    left join account_identity_map
        on account_identity_map.source_system = 'salesforce'
        and account_identity_map.source_table = 'account'
        and account_identity_map.source_record_id = small_touches.salesforce_account_id
    left join person_accounts
        on person_accounts.person_id = small_touches.person_id
    left join internal_channels
        on internal_channels.channel = small_touches.channel

),

final as (

    select * from stream_touches
    union all
    select * from small_source_touches

)

select * from final
