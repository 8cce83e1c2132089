with

leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

source_stage_values as (

    select * from {{ ref('source_stage_values') }}
    where source_system = 'salesforce'
      and source_object = 'lead'
      and source_field = 'status'

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

final as (

    select

        ----------  ids
        leads.lead_id,
        -- analysts get a stable hash, never the raw address
        md5(leads.lead_email) as lead_email_hash,

        ---------- strings
        leads.lead_company_name,
        leads.lead_source,
        leads.lead_status,
        -- an unmapped status stays null here and fails the audit, naming the value
        source_stage_values.funnel_stage,

        ---------- numerics
        funnel_stages.stage_order,
        funnel_stages.phase_number,

        ---------- booleans
        leads.is_converted,

        ---------- timestamps
        leads.lead_created_at,
        leads.lead_modified_at

    from leads
    left join source_stage_values
        on leads.lead_status = source_stage_values.source_value
    left join funnel_stages
        on source_stage_values.funnel_stage = funnel_stages.funnel_stage

)

select * from final
