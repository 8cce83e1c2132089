{#
    Every event that sets or changes the ARR of a Stripe subscription, one row per event,
    with the ARR before and after it. Stripe here has no plan or price table: ARR comes from
    the invoices and the term in the subscription metadata ({"plan": ..., "term_months": ...}).
      new          the first invoice with an amount (billing_reason subscription_cycle after
                   the free trial's subscription_create): ARR = amount * 12 / term_months
      renewal      every later subscription_cycle invoice: it states the ARR of the new term
                   (amount * 12 / term_months); a change against the ARR before it is an
                   expansion or contraction at renewal
      update       a subscription_update invoice (seats changed mid-term). A prorated amount
                   does not state the new ARR (how it was prorated is the biller's choice),
                   so the new ARR is the subscription's seats (its quantity) times the ARR per
                   seat of its plan, read off the subscriptions of that plan whose seats never
                   changed (first ARR / quantity). Without such a subscription the prorated
                   amount is annualized over the days it covers: ARR change = amount * 12 /
                   term_months * term days / (period_end - period_start) days. The quantity is
                   the subscription's latest, so with several updates in one term every one
                   of them lands on the latest seat count.
      churn        the subscription ended (canceled): ARR -> 0 at ended_at
    Amounts are in cents in Stripe and in currency units here.
#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

subscription_terms as (

    select
        subscription_id,
        customer_id,
        subscription_status,
        subscription_quantity,
        {{ dbt.split_part(dbt.split_part('subscription_metadata', "'\"plan\": \"'", 2), "'\"'", 1) }} as subscription_plan,
        {{ dbt.safe_cast(
            dbt.split_part(dbt.split_part('subscription_metadata', "'\"term_months\": \"'", 2), "'\"'", 1),
            dbt.type_int()) }} as term_months,
        coalesce(subscription_ended_at, subscription_canceled_at) as subscription_ended_at
    from subscriptions

),

billed as (

    select
        invoices.invoice_id,
        invoices.subscription_id,
        invoices.invoice_billing_reason,
        invoices.invoice_created_at,
        invoices.invoice_period_started_at,
        invoices.invoice_period_ends_at,
        invoices.invoice_amount_due / 100.0 as invoice_amount,
        subscription_terms.term_months,
        row_number() over (
            partition by invoices.subscription_id
            order by invoices.invoice_created_at, invoices.invoice_id
        ) as billed_invoice_number
    from invoices
    inner join subscription_terms
        on subscription_terms.subscription_id = invoices.subscription_id
    where invoices.invoice_amount_due > 0
        and invoices.invoice_status != 'void'

),

updated_subscriptions as (

    select distinct subscription_id
    from billed
    where invoice_billing_reason = 'subscription_update'

),

plan_seat_arr as (

    -- ARR per seat of each plan, from subscriptions whose seats never changed
    select
        subscription_terms.subscription_plan,
        avg(billed.invoice_amount * 12.0 / billed.term_months / subscription_terms.subscription_quantity) as arr_per_seat
    from billed
    inner join subscription_terms
        on subscription_terms.subscription_id = billed.subscription_id
    left join updated_subscriptions
        on updated_subscriptions.subscription_id = billed.subscription_id
    where billed.billed_invoice_number = 1
        and updated_subscriptions.subscription_id is null
        and subscription_terms.subscription_quantity > 0
    group by subscription_terms.subscription_plan

),

invoice_events as (

    select
        billed.subscription_id,
        billed.invoice_id as arr_event_source_id,
        case
            when billed.invoice_billing_reason = 'subscription_update' then 'update'
            when billed.billed_invoice_number = 1 then 'new'
            else 'renewal'
        end as arr_event_type,
        billed.invoice_created_at as arr_event_at,
        -- a level event states the ARR; a delta event changes it
        case
            when billed.invoice_billing_reason != 'subscription_update'
                then billed.invoice_amount * 12.0 / billed.term_months
            when plan_seat_arr.arr_per_seat is not null
                then subscription_terms.subscription_quantity * plan_seat_arr.arr_per_seat
        end as arr_level,
        case
            when billed.invoice_billing_reason = 'subscription_update' and plan_seat_arr.arr_per_seat is null
                then billed.invoice_amount * 12.0 / billed.term_months
                    * (billed.term_months * 30.4375)
                    / nullif({{ dbt.datediff('billed.invoice_period_started_at', 'billed.invoice_period_ends_at', 'day') }}, 0)
            else 0
        end as arr_delta
    from billed
    inner join subscription_terms
        on subscription_terms.subscription_id = billed.subscription_id
    left join plan_seat_arr
        on plan_seat_arr.subscription_plan = subscription_terms.subscription_plan

),

churn_events as (

    select
        subscription_id,
        subscription_id as arr_event_source_id,
        'churn' as arr_event_type,
        subscription_ended_at as arr_event_at,
        0.0 as arr_level,
        0.0 as arr_delta
    from subscription_terms
    where subscription_ended_at is not null

),

arr_events as (

    select * from invoice_events
    union all
    select * from churn_events

),

ordered as (

    select
        *,
        row_number() over (
            partition by subscription_id
            order by arr_event_at, case arr_event_type when 'churn' then 1 else 0 end, arr_event_source_id
        ) as arr_event_number
    from arr_events

),

level_groups as (

    -- each level event opens a group; delta events add to the level of their group
    select
        *,
        sum(case when arr_level is not null then 1 else 0 end) over (
            partition by subscription_id
            order by arr_event_number
            rows between unbounded preceding and current row
        ) as level_group
    from ordered

),

levels as (

    select
        *,
        max(arr_level) over (partition by subscription_id, level_group)
        + sum(arr_delta) over (
            partition by subscription_id, level_group
            order by arr_event_number
            rows between unbounded preceding and current row
        ) as arr_after
    from level_groups

),

changes as (

    select
        *,
        coalesce(lag(arr_after) over (partition by subscription_id order by arr_event_number), 0) as arr_before
    from levels

),

final as (

    select
        {{ dbt.concat(['changes.subscription_id', "':'", dbt.safe_cast('changes.arr_event_number', dbt.type_string())]) }} as arr_event_id,
        changes.subscription_id,
        subscription_terms.customer_id,
        subscription_terms.subscription_plan,
        subscription_terms.term_months,
        changes.arr_event_number,
        changes.arr_event_type,
        changes.arr_event_source_id,
        changes.arr_event_at,
        cast(changes.arr_before as {{ dbt.type_numeric() }}) as arr_before,
        cast(coalesce(changes.arr_after, 0) as {{ dbt.type_numeric() }}) as arr_after,
        cast(coalesce(changes.arr_after, 0) - changes.arr_before as {{ dbt.type_numeric() }}) as arr_change,
        case
            when changes.arr_before = 0 and coalesce(changes.arr_after, 0) > 0 then 'new'
            when coalesce(changes.arr_after, 0) = 0 and changes.arr_before > 0 then 'churn'
            when coalesce(changes.arr_after, 0) > changes.arr_before then 'expansion'
            when coalesce(changes.arr_after, 0) < changes.arr_before then 'contraction'
            else 'unchanged'
        end as arr_movement_type,
        changes.arr_event_type = 'renewal' as is_renewal
    from changes
    inner join subscription_terms
        on subscription_terms.subscription_id = changes.subscription_id

)

select * from final
