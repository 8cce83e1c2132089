{#
    When each opportunity first entered each funnel stage, from the Salesforce opportunity
    history mapped through the governed seed source_stage_values (opportunity stage_name ->
    funnel stage), one row per (opportunity, funnel stage). A history row whose stage value
    the seed lacks does not enter a stage here; the stage events of the funnel models are
    where such a value fails the build by name.
#}

with

opportunity_history as (

    select * from {{ ref('stg_salesforce__opportunity_history') }}

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

mapped as (

    select
        opportunity_history.opportunity_id,
        source_stage_values.funnel_stage,
        opportunity_history.opportunity_stage_name,
        opportunity_history.opportunity_amount,
        opportunity_history.opportunity_history_created_at
    from opportunity_history
    inner join source_stage_values
        on source_stage_values.source_value = opportunity_history.opportunity_stage_name

),

final as (

    select
        mapped.opportunity_id,
        mapped.funnel_stage,
        funnel_stages.stage_order,
        funnel_stages.phase_number,
        count(*) as history_row_count,
        min(mapped.opportunity_history_created_at) as entered_at,
        max(mapped.opportunity_history_created_at) as last_seen_at
    from mapped
    inner join funnel_stages
        on funnel_stages.funnel_stage = mapped.funnel_stage
    group by
        mapped.opportunity_id,
        mapped.funnel_stage,
        funnel_stages.stage_order,
        funnel_stages.phase_number

)

select * from final
