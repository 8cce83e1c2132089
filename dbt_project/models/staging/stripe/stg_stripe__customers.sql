with

source as (

    select * from {{ source('stripe', 'customer') }}

),

renamed as (

    select

        ---------- ids
        id as customer_id,

        ---------- strings
        {{ normalize_email('email') }} as customer_email,
        name as customer_name,
        description as customer_description,
        currency as customer_currency,
        address_country as customer_address_country,
        metadata as customer_metadata,

        ---------- booleans
        {{ cast_boolean('delinquent') }} as is_delinquent,
        {{ cast_boolean('livemode') }} as is_livemode,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created') }} as customer_created_at,
        {{ cast_timestamp('_fivetran_synced') }} as customer_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='customer_id', order_by=['customer_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        customer_id,
        customer_email,
        customer_name,
        customer_description,
        customer_currency,
        customer_address_country,
        customer_metadata,
        is_delinquent,
        is_livemode,
        customer_created_at,
        customer_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
