with

source as (

    select * from {{ source('stripe', 'subscription') }}

),

renamed as (

    select

        ---------- ids
        id as subscription_id,
        customer_id,
        nullif(latest_invoice_id, '') as latest_invoice_id,

        ---------- strings
        status as subscription_status,
        metadata as subscription_metadata,

        ---------- numerics
        {{ dbt.safe_cast('quantity', dbt.type_bigint()) }} as subscription_quantity,

        ---------- booleans
        {{ cast_boolean('cancel_at_period_end') }} as is_cancel_at_period_end,
        {{ cast_boolean('livemode') }} as is_livemode,

        ---------- timestamps
        {{ cast_timestamp('created') }} as subscription_created_at,
        {{ cast_timestamp('start_date') }} as subscription_started_at,
        {{ cast_timestamp('billing_cycle_anchor') }} as subscription_billing_cycle_anchor_at,
        {{ cast_timestamp('current_period_start') }} as current_period_started_at,
        {{ cast_timestamp('current_period_end') }} as current_period_ends_at,
        {{ cast_timestamp('trial_start') }} as trial_started_at,
        {{ cast_timestamp('trial_end') }} as trial_ends_at,
        {{ cast_timestamp('canceled_at') }} as subscription_canceled_at,
        {{ cast_timestamp('ended_at') }} as subscription_ended_at,
        {{ cast_timestamp('_fivetran_synced') }} as subscription_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='subscription_id', order_by=['subscription_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        subscription_id,
        customer_id,
        latest_invoice_id,
        subscription_status,
        subscription_metadata,
        subscription_quantity,
        is_cancel_at_period_end,
        is_livemode,
        subscription_created_at,
        subscription_started_at,
        subscription_billing_cycle_anchor_at,
        current_period_started_at,
        current_period_ends_at,
        trial_started_at,
        trial_ends_at,
        subscription_canceled_at,
        subscription_ended_at,
        subscription_synced_at
    from versioned
    where version_number = 1

)

select * from final
