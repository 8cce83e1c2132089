{#
    The two big touch streams, page views and email events, one row per source event with
    only what the event itself says: its touch kind, the identifiers a person is resolved
    by (user id, anonymous id, recipient email), the campaign and channel inputs (utm_*,
    email campaign, referrer and its kind), the detail and the time.

    Incremental: a run adds the events of landing files this model has not seen
    (macros/incremental.sql) and replaces a re-sent event's older version by its
    touchpoint_id. Nothing here depends on other records or on a governed definition:
    who the person is (identity merges reassign past events every day), which channel a
    utm_medium means (seed channels) and which campaign a utm_campaign names are resolved
    in int_touchpoints on every run, over these rows, so that an incremental run gives
    exactly what a full rebuild gives.

    Email events of every type are kept (int_touchpoints takes the person's opens and
    clicks): an event whose newer version changes its type or filtering must still replace
    the older one here.
#}

with

pages as (

    select * from {{ ref('stg_segment__pages') }}
    {{ from_unseen_landing_files('landing_file') }}

),

email_events as (

    select * from {{ ref('stg_hubspot__email_events') }}
    {{ from_unseen_landing_files('landing_file') }}

),

page_events as (

    select
        {{ dbt.concat(["'segment:page:'", 'page_view_id']) }} as touchpoint_id,
        'page_view' as touch_kind,
        page_view_id as source_record_id,
        user_id,
        anonymous_id,
        cast(null as {{ dbt.type_string() }}) as recipient_email,
        cast(null as {{ dbt.type_bigint() }}) as email_campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        page_referrer,
        -- the referrer's class; a referrer on the page's own host is our own navigation
        case
            when page_referrer is null or page_referrer = '' then 'none'
            when {{ dbt.split_part('page_referrer', "'/'", 3) }} = {{ dbt.split_part('page_url', "'/'", 3) }}
                then 'same_site'
            else 'other'
        end as referrer_kind,
        false as is_filtered_event,
        page_path as touch_detail,
        page_viewed_at as occurred_at,
        landing_file
    from pages

),

email_touch_events as (

    select
        {{ dbt.concat(["'hubspot:email_event:'", 'email_event_id']) }} as touchpoint_id,
        case email_event_type
            when 'OPEN' then 'email_open'
            when 'CLICK' then 'email_click'
            else 'email_other'
        end as touch_kind,
        email_event_id as source_record_id,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as anonymous_id,
        email_event_recipient as recipient_email,
        email_campaign_id,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        cast(null as {{ dbt.type_string() }}) as page_referrer,
        cast(null as {{ dbt.type_string() }}) as referrer_kind,
        coalesce(is_filtered_event, false) as is_filtered_event,
        email_event_type as touch_detail,
        email_event_at as occurred_at,
        landing_file
    from email_events

),

final as (

    select * from page_events
    union all
    select * from email_touch_events

)

select * from final
