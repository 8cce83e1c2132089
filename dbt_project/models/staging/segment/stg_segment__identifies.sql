with

source as (

    select * from {{ source('segment', 'identifies') }}

),

renamed as (

    select

        ---------- ids
        id as identify_id,

        ---------- strings
        anonymous_id,
        user_id,
        {{ normalize_email('email') }} as identify_email,
        name as identify_name,
        company as identify_company_name,
        context_page_url as identify_page_url,
        context_page_referrer as identify_page_referrer,

        ---------- timestamps
        {{ cast_timestamp(adapter.quote('timestamp')) }} as identified_at,
        {{ cast_timestamp('received_at') }} as identify_received_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='identify_id', order_by=['identify_received_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        identify_id,
        anonymous_id,
        user_id,
        identify_email,
        identify_name,
        identify_company_name,
        identify_page_url,
        identify_page_referrer,
        identified_at,
        identify_received_at
    from versioned
    where version_number = 1

)

select * from final
