{#
    One row per Salesforce opportunity with its stage history summarized: when it entered
    each funnel stage of phases 4-5 (int_opportunity_stage_entries, mapped through the
    governed seed), when and how it closed, its amount, its velocity, its account
    (int_account_identity_map), its contact person where known (the lead converted into it,
    else the person whose opportunity tasks and meetings name it), and its source.
#}

with

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

stage_entries as (

    select * from {{ ref('int_opportunity_stage_entries') }}

),

source_stage_values as (

    select * from {{ ref('source_stage_values') }}
    where source_system = 'salesforce'
        and source_object = 'opportunity'
        and source_field = 'stage_name'

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

leads as (

    -- with the soft-deleted ones: a lead deleted after its conversion was still converted,
    -- and int_stage_source_values (which reads the same base model) names its person too
    select * from {{ ref('base_salesforce__leads') }}

),

lead_source_channels as (

    -- the governed mapping of lead source -> channel (seed channels)
    select source_value as opportunity_lead_source, channel
    from {{ ref('channels') }}
    where source_system = 'salesforce'
        and source_object = 'opportunity'
        and source_field = 'lead_source'
        and match_type = 'equals'

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

campaigns as (

    -- live campaigns only: staging drops the soft-deleted ones
    select * from {{ ref('stg_salesforce__campaigns') }}

),

stage_summary as (

    select
        opportunity_id,
        count(*) as funnel_stage_count,
        min(entered_at) as first_stage_entered_at,
        min(case when funnel_stage = 'sqo' then entered_at end) as sqo_at,
        min(case when funnel_stage = 'negotiation' then entered_at end) as negotiation_at,
        min(case when funnel_stage = 'won' then entered_at end) as won_at,
        min(case when funnel_stage = 'lost' then entered_at end) as lost_at
    from stage_entries
    group by opportunity_id

),

converted_leads as (

    -- the lead converted into the opportunity names its person
    select
        leads.converted_opportunity_id as opportunity_id,
        min(person_identity_map.person_id) as person_id
    from leads
    inner join person_identity_map
        on person_identity_map.source_system = 'salesforce'
        and person_identity_map.source_table = 'lead'
        and person_identity_map.source_record_id = leads.lead_id
    where leads.converted_opportunity_id is not null
    group by leads.converted_opportunity_id

),

joined as (

    select
        opportunities.*,
        source_stage_values.funnel_stage as opportunity_funnel_stage,
        funnel_stages.phase_number,
        account_identity_map.account_id as conformed_account_id,
        -- a campaign deleted in the CRM clears the lookup (as Salesforce does); the source
        -- id stays in salesforce_campaign_id
        case when campaigns.campaign_id is not null
            then {{ dbt.concat(["'salesforce:'", 'campaigns.campaign_id']) }} end as campaign_key,
        converted_leads.person_id,
        -- a lead source the seed does not name passes through, lower-cased
        coalesce(lead_source_channels.channel, lower(opportunities.opportunity_lead_source)) as opportunity_channel,
        stage_summary.funnel_stage_count,
        stage_summary.sqo_at,
        stage_summary.negotiation_at,
        -- a closed opportunity whose closing history row is missing closes on its close date
        coalesce(
            stage_summary.won_at,
            case when opportunities.is_won then cast(opportunities.opportunity_close_date as {{ dbt.type_timestamp() }}) end
        ) as won_at,
        coalesce(
            stage_summary.lost_at,
            case when opportunities.is_closed and not opportunities.is_won
                then cast(opportunities.opportunity_close_date as {{ dbt.type_timestamp() }}) end
        ) as lost_at
    from opportunities
    left join source_stage_values
        on source_stage_values.source_value = opportunities.opportunity_stage_name
    left join funnel_stages
        on funnel_stages.funnel_stage = source_stage_values.funnel_stage
    left join account_identity_map
        on account_identity_map.source_system = 'salesforce'
        and account_identity_map.source_table = 'account'
        and account_identity_map.source_record_id = opportunities.account_id
    left join converted_leads
        on converted_leads.opportunity_id = opportunities.opportunity_id
    left join lead_source_channels
        on lead_source_channels.opportunity_lead_source = opportunities.opportunity_lead_source
    left join stage_summary
        on stage_summary.opportunity_id = opportunities.opportunity_id
    left join campaigns
        on campaigns.campaign_id = opportunities.campaign_id

),

final as (

    select

        ---------- ids
        opportunity_id,
        conformed_account_id as account_id,
        account_id as salesforce_account_id,
        person_id,
        campaign_id as salesforce_campaign_id,
        campaign_key,
        opportunity_owner_id,

        ---------- strings
        opportunity_name,
        opportunity_type,
        opportunity_stage_name,
        opportunity_funnel_stage,
        opportunity_lead_source,
        opportunity_channel,

        ---------- numerics
        phase_number,
        cast(opportunity_amount as {{ dbt.type_numeric() }}) as opportunity_amount,
        cast(case when is_won then opportunity_amount else 0 end as {{ dbt.type_numeric() }}) as won_amount,
        cast(opportunity_probability as {{ dbt.type_numeric() }}) as opportunity_probability,
        coalesce(funnel_stage_count, 0) as funnel_stage_count,
        {{ dbt.datediff('opportunity_created_at', 'coalesce(won_at, lost_at)', 'day') }} as days_to_close,
        {{ dbt.datediff('opportunity_created_at', 'coalesce(won_at, lost_at, ' ~ dbt.current_timestamp() ~ ')', 'day') }} as days_in_pipeline,
        {{ dbt.datediff('opportunity_created_at', 'sqo_at', 'day') }} as days_to_sqo,
        {{ dbt.datediff('sqo_at', 'negotiation_at', 'day') }} as days_sqo_to_negotiation,
        {{ dbt.datediff('negotiation_at', 'coalesce(won_at, lost_at)', 'day') }} as days_negotiation_to_close,

        ---------- booleans
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,
        coalesce(is_closed, false) and not coalesce(is_won, false) as is_lost,

        ---------- dates
        opportunity_close_date,
        cast(coalesce(won_at, lost_at) as date) as closed_date,

        ---------- timestamps
        opportunity_created_at,
        sqo_at,
        negotiation_at,
        won_at,
        lost_at,
        coalesce(won_at, lost_at) as closed_at

    from joined

)

select * from final
