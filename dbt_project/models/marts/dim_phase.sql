{#
    The seven phases of the revenue cycle, each with its buying phase (buyer) and its
    marketing-process phase (seller) side by side, its owner, and its funnel stages, all read
    from the governed seeds phases and funnel_stages.
#}

with

phases as (

    select * from {{ ref('phases') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

stages_per_phase as (

    select
        phase_number,
        {{ dbt.listagg('funnel_stage', "', '", 'order by stage_order') }} as funnel_stages,
        count(*) as funnel_stage_count,
        min(stage_order) as first_stage_order,
        max(stage_order) as last_stage_order
    from funnel_stages
    group by phase_number

),

final as (

    select
        phases.phase_number,
        phases.buying_phase,
        phases.buying_phase_description,
        phases.marketing_phase,
        phases.owner as phase_owner,
        {{ dbt.concat(['cast(phases.phase_number as ' ~ dbt.type_string() ~ ')', "'. '", 'phases.buying_phase', "' / '", 'phases.marketing_phase']) }} as phase_label,
        stages_per_phase.funnel_stages,
        coalesce(stages_per_phase.funnel_stage_count, 0) as funnel_stage_count,
        stages_per_phase.first_stage_order,
        stages_per_phase.last_stage_order
    from phases
    left join stages_per_phase
        on stages_per_phase.phase_number = phases.phase_number

)

select * from final
