with

source as (

    select * from {{ source('hubspot', 'contact_form_submission') }}

),

renamed as (

    select

        ---------- ids
        conversion_id as form_submission_id,
        {{ dbt.safe_cast('contact_id', dbt.type_bigint()) }} as contact_id,
        {{ dbt.safe_cast('portal_id', dbt.type_bigint()) }} as portal_id,

        ---------- strings
        form_id,
        page_id as form_page_id,
        title as form_title,
        page_url as form_page_url,

        ---------- timestamps
        {{ cast_timestamp(adapter.quote('timestamp')) }} as form_submitted_at,
        {{ cast_timestamp('_fivetran_synced') }} as form_submission_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='form_submission_id', order_by=['form_submission_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        form_submission_id,
        contact_id,
        form_id,
        form_page_id,
        portal_id,
        form_title,
        form_page_url,
        form_submitted_at,
        form_submission_synced_at
    from versioned
    where version_number = 1

)

select * from final
