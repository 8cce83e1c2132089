{#
    The check of int_attribution_touches: per attributed opportunity, the sum of the weights
    of each attribution model, and whether every one of them is 1 (tested).
#}

with

attribution_touches as (

    select * from {{ ref('int_attribution_touches') }}

),

sums as (

    select
        opportunity_id,
        count(*) as touch_count,
        sum(first_touch_weight) as first_touch_weight_sum,
        sum(last_touch_weight) as last_touch_weight_sum,
        sum(linear_weight) as linear_weight_sum,
        sum(u_shaped_weight) as u_shaped_weight_sum,
        sum(w_shaped_weight) as w_shaped_weight_sum,
        sum(time_decay_weight) as time_decay_weight_sum
    from attribution_touches
    group by opportunity_id

),

final as (

    select
        *,
        abs(first_touch_weight_sum - 1) < 1e-9
        and abs(last_touch_weight_sum - 1) < 1e-9
        and abs(linear_weight_sum - 1) < 1e-9
        and abs(u_shaped_weight_sum - 1) < 1e-9
        and abs(w_shaped_weight_sum - 1) < 1e-9
        and abs(time_decay_weight_sum - 1) < 1e-9 as are_weights_summing_to_one
    from sums

)

select * from final
