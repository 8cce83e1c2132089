with

source as (

    select * from {{ source('salesforce', 'lead') }}

),

renamed as (

    select

        ----------  ids
        id as lead_id,
        owner_id as lead_owner_id,
        nullif(converted_account_id, '') as converted_account_id,
        nullif(converted_contact_id, '') as converted_contact_id,
        nullif(converted_opportunity_id, '') as converted_opportunity_id,

        ---------- strings
        {{ normalize_email('email') }} as lead_email,
        first_name as lead_first_name,
        last_name as lead_last_name,
        company as lead_company_name,
        title as lead_title,
        lead_source,
        status as lead_status,

        ---------- booleans
        {{ cast_boolean('is_converted') }} as is_converted,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_date') }} as lead_created_at,
        {{ cast_timestamp('last_modified_date') }} as lead_modified_at

    from source

),

ranked as (

    -- a later export may carry a newer version of the same lead
    select
        *,
        row_number() over (
            partition by lead_id order by lead_modified_at desc nulls last
        ) as version_rank
    from renamed

),

final as (

    select * from ranked
    where version_rank = 1
      and not coalesce(is_deleted, false)

)

select
    lead_id,
    lead_owner_id,
    converted_account_id,
    converted_contact_id,
    converted_opportunity_id,
    lead_email,
    lead_first_name,
    lead_last_name,
    lead_company_name,
    lead_title,
    lead_source,
    lead_status,
    is_converted,
    lead_created_at,
    lead_modified_at
from final
