{#
    Every marketing engagement of a person, typed with the engagement types of the seed
    scoring_rules (rule_type 'engagement'), with its points and flags from that seed:

      HubSpot form submissions   by form title: a demo request, contact sales, a webinar
                                 registration, a content download, any other form (newsletter,
                                 ROI calculator) a form fill
      HubSpot email events       clicks (email_event_type CLICK), matched to the person by
                                 the recipient's normalized email
      Segment page views         visits of the pricing page

    The person comes from the identity maps; an engagement of a record that no identity map
    knows is dropped (it cannot be scored).
#}

with

form_submissions as (

    select * from {{ ref('stg_hubspot__contact_form_submissions') }}

),

email_events as (

    select * from {{ ref('stg_hubspot__email_events') }}

),

pages as (

    select * from {{ ref('stg_segment__pages') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

engagement_rules as (

    select * from {{ ref('scoring_rules') }}
    where rule_type = 'engagement'
      and attribute = 'engagement_type'

),

person_emails as (

    {{ email_persons() }}

),

form_engagements as (

    select
        person_identity_map.person_id,
        form_submissions.form_submission_id as engagement_source_id,
        'hubspot' as source_system,
        'contact_form_submission' as source_table,
        form_submissions.form_title as engagement_detail,
        case
            when lower(form_submissions.form_title) like '%demo%' then 'demo_request'
            when lower(form_submissions.form_title) like '%contact sales%' then 'contact_sales'
            when lower(form_submissions.form_title) like '%webinar%' then 'webinar'
            when lower(form_submissions.form_title) like '%download%'
              or lower(form_submissions.form_title) like '%ebook%'
              or lower(form_submissions.form_title) like '%whitepaper%' then 'content_download'
            else 'form_fill'
        end as engagement_type,
        form_submissions.form_submitted_at as engaged_at
    from form_submissions
    inner join person_identity_map
        on person_identity_map.source_system = 'hubspot'
        and person_identity_map.source_table = 'contact'
        and person_identity_map.source_record_id = cast(form_submissions.contact_id as {{ dbt.type_string() }})

),

click_engagements as (

    select
        person_emails.person_id,
        cast(email_events.email_event_id as {{ dbt.type_string() }}) as engagement_source_id,
        'hubspot' as source_system,
        'email_event' as source_table,
        cast(email_events.email_campaign_id as {{ dbt.type_string() }}) as engagement_detail,
        'email_click' as engagement_type,
        email_events.email_event_at as engaged_at
    from email_events
    inner join person_emails
        on person_emails.email = lower(trim(email_events.email_event_recipient))
    where email_events.email_event_type = 'CLICK'

),

pricing_visits as (

    select
        person_identity_map.person_id,
        pages.page_view_id as engagement_source_id,
        'segment' as source_system,
        'pages' as source_table,
        pages.page_path as engagement_detail,
        'pricing_page_visit' as engagement_type,
        pages.page_viewed_at as engaged_at
    from pages
    inner join person_identity_map
        on person_identity_map.source_system = 'segment'
        and person_identity_map.source_table = 'anonymous_id'
        and person_identity_map.source_record_id = pages.anonymous_id
    where pages.page_path like '/pricing%'

),

engagements as (

    select * from form_engagements
    union all
    select * from click_engagements
    union all
    select * from pricing_visits

),

final as (

    select

        ---------- ids
        {{ dbt.hash(dbt.concat(['engagements.source_table', "':'", 'engagements.engagement_source_id'])) }} as engagement_id,
        engagements.person_id,
        engagements.engagement_source_id,
        engagement_rules.rule_id as scoring_rule_id,

        ---------- strings
        engagements.engagement_type,
        engagements.engagement_detail,
        engagements.source_system,
        engagements.source_table,

        ---------- numerics
        coalesce(engagement_rules.points, 0) as engagement_points,

        ---------- booleans
        coalesce(engagement_rules.is_qualifying_engagement, false) as is_qualifying_engagement,
        coalesce(engagement_rules.is_hand_raiser, false) as is_hand_raiser,

        ---------- timestamps
        engagements.engaged_at

    from engagements
    left join engagement_rules
        on engagement_rules.match_value = engagements.engagement_type
    where engagements.engaged_at is not null

)

select * from final
