with

source as (

    select * from {{ source('stripe', 'invoice') }}

),

renamed as (

    select

        ---------- ids
        id as invoice_id,
        customer_id,
        nullif(subscription_id, '') as subscription_id,

        ---------- strings
        number as invoice_number,
        status as invoice_status,
        billing_reason as invoice_billing_reason,
        currency as invoice_currency,

        ---------- numerics
        {{ dbt.safe_cast('amount_due', dbt.type_bigint()) }} as invoice_amount_due,
        {{ dbt.safe_cast('amount_paid', dbt.type_bigint()) }} as invoice_amount_paid,
        {{ dbt.safe_cast('amount_remaining', dbt.type_bigint()) }} as invoice_amount_remaining,
        {{ dbt.safe_cast('subtotal', dbt.type_bigint()) }} as invoice_subtotal,
        {{ dbt.safe_cast('tax', dbt.type_bigint()) }} as invoice_tax,
        {{ dbt.safe_cast('total', dbt.type_bigint()) }} as invoice_total,
        {{ dbt.safe_cast('attempt_count', dbt.type_bigint()) }} as invoice_attempt_count,

        ---------- booleans
        {{ cast_boolean('paid') }} as is_paid,
        {{ cast_boolean('attempted') }} as is_attempted,
        {{ cast_boolean('livemode') }} as is_livemode,
        {{ cast_boolean('is_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created') }} as invoice_created_at,
        {{ cast_timestamp('due_date') }} as invoice_due_at,
        {{ cast_timestamp('period_start') }} as invoice_period_started_at,
        {{ cast_timestamp('period_end') }} as invoice_period_ends_at,
        {{ cast_timestamp('status_transitions_paid_at') }} as invoice_paid_at,
        {{ cast_timestamp('_fivetran_synced') }} as invoice_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='invoice_id', order_by=['invoice_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        invoice_id,
        customer_id,
        subscription_id,
        invoice_number,
        invoice_status,
        invoice_billing_reason,
        invoice_currency,
        invoice_amount_due,
        invoice_amount_paid,
        invoice_amount_remaining,
        invoice_subtotal,
        invoice_tax,
        invoice_total,
        invoice_attempt_count,
        is_paid,
        is_attempted,
        is_livemode,
        invoice_created_at,
        invoice_due_at,
        invoice_period_started_at,
        invoice_period_ends_at,
        invoice_paid_at,
        invoice_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
