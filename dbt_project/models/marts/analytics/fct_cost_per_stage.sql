{#
    Cost per funnel stage from ad spend, per month and ad campaign: one row per (month, ad
    campaign, entity type, funnel stage) for every month in which the campaign spent or
    brought entries. The cost per MQL, SAL, SQO or won deal is the row of that stage:
    persons for mql and sal, opportunities for sqo and won (a deal is an opportunity).

      spend      the campaign's ad spend in the month (stg_ads__campaign_spend); it is the
                 same on every stage row of the campaign and month, so sum it over one stage
      entries    persons or opportunities that entered the stage in the month whose first
                 marketing touch (int_person_first_touches; for an opportunity, of its
                 contact person) came from the campaign: first-touch attribution
      cost       spend / entries; null when there are no entries
    The stages are every stage of the governed seed funnel_stages, so a new stage gets its
    cost without a change here. Channel: the channel int_touchpoints gives the campaign's
    touches (null for a campaign no one has clicked yet).
#}

with

campaign_spend as (

    select * from {{ ref('stg_ads__campaign_spend') }}

),

transitions as (

    select * from {{ ref('fct_stage_transitions') }}

),

first_touches as (

    select * from {{ ref('int_person_first_touches') }}

),

touchpoints as (

    select * from {{ ref('int_touchpoints') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

spend_keyed as (

    select
        {{ dbt.concat(["'ads:'", 'ad_platform', "':'", 'campaign_id']) }} as campaign_key,
        ad_platform,
        campaign_name,
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as cost_month,
        spend,
        clicks,
        impressions
    from campaign_spend

),

ad_campaigns as (

    select
        campaign_key,
        max(ad_platform) as ad_platform,
        max(campaign_name) as campaign_name
    from spend_keyed
    group by campaign_key

),

campaign_channels as (

    select
        touchpoints.campaign_key,
        min(touchpoints.channel) as channel
    from touchpoints
    inner join ad_campaigns
        on ad_campaigns.campaign_key = touchpoints.campaign_key
    group by touchpoints.campaign_key

),

monthly_spend as (

    select
        campaign_key,
        cost_month,
        sum(spend) as spend,
        sum(clicks) as clicks,
        sum(impressions) as impressions
    from spend_keyed
    group by campaign_key, cost_month

),

stage_entries as (

    select
        first_touches.first_touch_campaign_key as campaign_key,
        cast({{ dbt.date_trunc('month', 'transitions.transitioned_at') }} as date) as cost_month,
        transitions.entity_type,
        transitions.to_stage as funnel_stage,
        -- distinct, so an entity entering a stage twice in a month counts once
        count(distinct transitions.entity_id) as entered_count
    from transitions
    inner join first_touches
        on first_touches.person_id = transitions.person_id
    inner join ad_campaigns
        on ad_campaigns.campaign_key = first_touches.first_touch_campaign_key
    group by
        first_touches.first_touch_campaign_key,
        cast({{ dbt.date_trunc('month', 'transitions.transitioned_at') }} as date),
        transitions.entity_type,
        transitions.to_stage

),

campaign_months as (

    select campaign_key, cost_month from monthly_spend
    union
    select campaign_key, cost_month from stage_entries

),

entity_types as (

    select distinct entity_type from transitions

),

grid as (

    select
        campaign_months.campaign_key,
        campaign_months.cost_month,
        entity_types.entity_type,
        funnel_stages.funnel_stage,
        funnel_stages.stage_order,
        funnel_stages.phase_number
    from campaign_months
    cross join entity_types
    cross join funnel_stages

),

joined as (

    select
        grid.*,
        ad_campaigns.ad_platform,
        ad_campaigns.campaign_name,
        campaign_channels.channel,
        coalesce(monthly_spend.spend, 0) as spend,
        coalesce(monthly_spend.clicks, 0) as clicks,
        coalesce(monthly_spend.impressions, 0) as impressions,
        coalesce(stage_entries.entered_count, 0) as entered_count
    from grid
    inner join ad_campaigns
        on ad_campaigns.campaign_key = grid.campaign_key
    left join campaign_channels
        on campaign_channels.campaign_key = grid.campaign_key
    left join monthly_spend
        on monthly_spend.campaign_key = grid.campaign_key
        and monthly_spend.cost_month = grid.cost_month
    left join stage_entries
        on stage_entries.campaign_key = grid.campaign_key
        and stage_entries.cost_month = grid.cost_month
        and stage_entries.entity_type = grid.entity_type
        and stage_entries.funnel_stage = grid.funnel_stage

),

final as (

    select

        ---------- ids
        campaign_key,

        ---------- strings
        ad_platform,
        campaign_name,
        channel,
        entity_type,
        funnel_stage,

        ---------- numerics
        cast(stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(phase_number as {{ dbt.type_int() }}) as phase_number,
        cast(spend as {{ dbt.type_numeric() }}) as spend,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(entered_count as {{ dbt.type_bigint() }}) as entered_count,
        cast(case when entered_count > 0 then spend / entered_count end as {{ dbt.type_numeric() }}) as cost_per_entry,

        ---------- dates
        cost_month

    from joined

)

select * from final
