{#
    The lead definition, applied in one place: one row per person with at least one
    engagement, and whether that person is a lead under the definition version in force
    (var('current_lead_definition_version'), seed lead_definitions):

      identified          the person has an email (requires_identified_person)
      business email      the email domain is not a free mailbox of the seed lead_exclusions
                          (requires_business_email)
      not excluded        not internal, test or competitor per lead_exclusions
                          (excludes_internal, excludes_test_records, excludes_competitors)
      engaged             at least min_qualifying_engagements qualifying engagements
                          (scoring_rules.is_qualifying_engagement) within
                          engagement_window_days of each other; lead_qualified_at is the first
                          moment that held

    not_lead_reason names the first rule a non-lead fails. definition_version is recorded
    on every row, so facts say under which definition they were computed.
#}

with

definition as (

    select * from {{ ref('lead_definitions') }}
    where definition_version = {{ var('current_lead_definition_version') }}

),

exclusions as (

    select * from {{ ref('lead_exclusions') }}

),

profiles as (

    select * from {{ ref('int_person_profiles') }}

),

engagements as (

    select * from {{ ref('int_person_engagements') }}

),

scores as (

    select * from {{ ref('int_lead_scores') }}

),

qualifying as (

    select * from engagements
    where is_qualifying_engagement

),

qualifying_windows as (

    -- for each qualifying engagement: how many qualifying engagements the window ending
    -- at it holds
    select
        latest.person_id,
        latest.engaged_at,
        count(*) as qualifying_in_window
    from qualifying as latest
    cross join definition
    inner join qualifying as earlier
        on earlier.person_id = latest.person_id
        and earlier.engaged_at <= latest.engaged_at
        and earlier.engaged_at > {{ dbt.dateadd('day', '-1 * definition.engagement_window_days', 'latest.engaged_at') }}
    group by latest.person_id, latest.engaged_at

),

qualified as (

    select
        qualifying_windows.person_id,
        min(qualifying_windows.engaged_at) as lead_qualified_at,
        max(qualifying_windows.engaged_at) as last_qualifying_engagement_at
    from qualifying_windows
    cross join definition
    where qualifying_windows.qualifying_in_window >= definition.min_qualifying_engagements
    group by qualifying_windows.person_id

),

person_exclusions as (

    select
        profiles.person_id,
        max(case when exclusions.exclusion_type = 'free_email' then 1 else 0 end) = 1 as has_free_email,
        max(case when exclusions.exclusion_type = 'internal' then 1 else 0 end) = 1 as is_internal,
        max(case when exclusions.exclusion_type = 'test' then 1 else 0 end) = 1 as is_test_record,
        max(case when exclusions.exclusion_type = 'competitor' then 1 else 0 end) = 1 as is_competitor
    from profiles
    inner join exclusions
        on (exclusions.match_on = 'email_domain' and exclusions.match_value = profiles.email_domain)
        or (exclusions.match_on = 'email_prefix' and profiles.email like {{ dbt.concat(['exclusions.match_value', "'%'"]) }})
        or (exclusions.match_on = 'crm_account_type' and exclusions.match_value = profiles.crm_account_type)
    group by profiles.person_id

),

evaluated as (

    select
        scores.person_id,
        definition.definition_version,
        case
            when definition.requires_identified_person and not coalesce(profiles.is_identified, false)
                then 'not identified'
            when definition.requires_business_email and coalesce(person_exclusions.has_free_email, false)
                then 'no business email'
            when definition.excludes_internal and coalesce(person_exclusions.is_internal, false)
                then 'internal'
            when definition.excludes_test_records and coalesce(person_exclusions.is_test_record, false)
                then 'test record'
            when definition.excludes_competitors and coalesce(person_exclusions.is_competitor, false)
                then 'competitor'
            when qualified.lead_qualified_at is null
                then 'no qualifying engagement'
        end as not_lead_reason,
        qualified.lead_qualified_at,
        qualified.last_qualifying_engagement_at,
        {{ dbt.datediff('qualified.last_qualifying_engagement_at', 'scores.scored_as_of', 'day') }}
            <= definition.engagement_window_days as is_engaged_within_window
    from scores
    cross join definition
    left join profiles
        on profiles.person_id = scores.person_id
    left join person_exclusions
        on person_exclusions.person_id = scores.person_id
    left join qualified
        on qualified.person_id = scores.person_id

),

final as (

    select

        ---------- ids
        person_id,

        ---------- strings
        not_lead_reason,

        ---------- numerics
        definition_version,

        ---------- booleans
        not_lead_reason is null as is_lead,
        coalesce(is_engaged_within_window, false) as is_engaged_within_window,

        ---------- timestamps
        lead_qualified_at,
        last_qualifying_engagement_at

    from evaluated

)

select * from final
