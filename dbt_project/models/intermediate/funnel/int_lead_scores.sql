{#
    Lead scoring, in one place: one row per person with at least one engagement.

    fit points         the seed scoring_rules (rule_type 'fit') matched on the person's
                       title seniority, company size (the account's employee count in the
                       range the rule's match_value names: '50-199', '1000+'), industry and
                       country (int_person_profiles)
    engagement points  every engagement's points (int_person_engagements), halved every
                       var('scoring').engagement_half_life_days days after it happened
    score              fit + decayed engagement points, capped at var('scoring').max_score
    MQL                the score reaches var('scoring').mql_threshold, or a hand-raiser
                       engagement (scoring_rules.is_hand_raiser); scored_mql_at is the first
                       engagement at which that held

    The score is evaluated at each engagement (for the MQL moment) and at scored_as_of, the
    latest event the warehouse holds (so a rerun over the same data gives the same score).
#}

{%- set scoring = var('scoring') %}

with

engagements as (

    select * from {{ ref('int_person_engagements') }}

),

profiles as (

    select * from {{ ref('int_person_profiles') }}

),

fit_rules as (

    select
        *,
        -- company-size rules name a range: '50-199' or '1000+'
        case when attribute = 'company_size' then
            cast({{ dbt.split_part(dbt.replace('match_value', "'+'", "''"), "'-'", 1) }} as {{ dbt.type_int() }})
        end as size_from,
        case when attribute = 'company_size' and match_value like '%-%' then
            cast({{ dbt.split_part('match_value', "'-'", 2) }} as {{ dbt.type_int() }})
        end as size_to
    from {{ ref('scoring_rules') }}
    where rule_type = 'fit'

),

as_of as (

    select max(occurred_at) as scored_as_of
    from (
        select engaged_at as occurred_at from engagements
        union all
        select occurred_at from {{ ref('int_stage_source_values') }}
    ) as all_events

),

engaged_persons as (

    select distinct person_id from engagements

),

fit as (

    select
        engaged_persons.person_id,
        coalesce(sum(fit_rules.points), 0) as fit_points
    from engaged_persons
    inner join profiles
        on profiles.person_id = engaged_persons.person_id
    left join fit_rules
        on (fit_rules.attribute = 'title_seniority' and fit_rules.match_value = profiles.title_seniority)
        or (fit_rules.attribute = 'industry' and fit_rules.match_value = profiles.industry)
        or (fit_rules.attribute = 'country' and fit_rules.match_value = profiles.country)
        or (fit_rules.attribute = 'company_size'
            and profiles.employee_count >= fit_rules.size_from
            and (fit_rules.size_to is null or profiles.employee_count <= fit_rules.size_to))
    group by engaged_persons.person_id

),

decayed_at_engagement as (

    -- the engagement score of each person right after each of its engagements
    select
        scored.person_id,
        scored.engagement_id,
        scored.engaged_at,
        scored.is_hand_raiser,
        sum(
            earlier.engagement_points
            * power(0.5, {{ dividend(dbt.datediff('earlier.engaged_at', 'scored.engaged_at', 'minute')) }}
                         / ({{ scoring.engagement_half_life_days }} * 24.0 * 60.0))
        ) as engagement_points
    from engagements as scored
    inner join engagements as earlier
        on earlier.person_id = scored.person_id
        and earlier.engaged_at <= scored.engaged_at
    group by scored.person_id, scored.engagement_id, scored.engaged_at, scored.is_hand_raiser

),

scored_engagements as (

    select
        decayed_at_engagement.*,
        least(fit.fit_points + decayed_at_engagement.engagement_points, {{ scoring.max_score }}) as score
    from decayed_at_engagement
    inner join fit
        on fit.person_id = decayed_at_engagement.person_id

),

mql_moments as (

    select
        person_id,
        min(engaged_at) as scored_mql_at,
        min(case when is_hand_raiser then engaged_at end) as first_hand_raise_at
    from scored_engagements
    where score >= {{ scoring.mql_threshold }} or is_hand_raiser
    group by person_id

),

current_engagement as (

    select
        engagements.person_id,
        sum(
            engagements.engagement_points
            * power(0.5, {{ dividend(dbt.datediff('engagements.engaged_at', 'as_of.scored_as_of', 'minute')) }}
                         / ({{ scoring.engagement_half_life_days }} * 24.0 * 60.0))
        ) as engagement_points,
        count(*) as engagement_count,
        min(engagements.engaged_at) as first_engaged_at,
        max(engagements.engaged_at) as last_engaged_at
    from engagements
    cross join as_of
    group by engagements.person_id

),

final as (

    select

        ---------- ids
        fit.person_id,

        ---------- numerics
        fit.fit_points,
        -- round() of a double with a scale does not exist on Postgres: round the exact numeric
        -- (and keep its scale in the type: Postgres's round() returns an unscaled numeric)
        cast(round(cast(current_engagement.engagement_points as {{ dbt.type_numeric() }}), 2) as decimal(28, 2)) as engagement_points,
        cast(round(cast(least(fit.fit_points + current_engagement.engagement_points, {{ scoring.max_score }}) as {{ dbt.type_numeric() }}), 2) as decimal(28, 2)) as score,
        current_engagement.engagement_count,

        ---------- booleans
        mql_moments.scored_mql_at is not null as is_mql,
        mql_moments.first_hand_raise_at is not null as is_hand_raiser,

        ---------- timestamps
        mql_moments.scored_mql_at,
        mql_moments.first_hand_raise_at,
        current_engagement.first_engaged_at,
        current_engagement.last_engaged_at,
        as_of.scored_as_of

    from fit
    inner join current_engagement
        on current_engagement.person_id = fit.person_id
    left join mql_moments
        on mql_moments.person_id = fit.person_id
    cross join as_of

)

select * from final
