{#
    Conversion between adjacent funnel stages, by monthly cohort and channel. One row per
    (entity type, from-stage, cohort month, channel) with at least one entry.

      adjacent   each stage and its next_stage in the governed seed funnel_stages (so
                 the pairs follow the seed, never a list here: won -> onboarding, and
                 no pair from an exit stage such as lost)
      cohort     the month the entity first entered the from-stage (fct_stage_transitions)
      channel    the channel of the first marketing touch of the person
                 (int_person_first_touches); for an opportunity, of its contact person;
                 'unknown' when there is none
      converted  the entity entered the to-stage at or after its first entry into the
                 from-stage (an entity skipping the to-stage does not convert to it)
#}

with

transitions as (

    select * from {{ ref('fct_stage_transitions') }}

),

first_touches as (

    select * from {{ ref('int_person_first_touches') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

stage_pairs as (

    select
        from_stages.funnel_stage as from_stage,
        from_stages.stage_order as from_stage_order,
        from_stages.phase_number as from_phase_number,
        to_stages.funnel_stage as to_stage,
        to_stages.phase_number as to_phase_number
    from funnel_stages as from_stages
    inner join funnel_stages as to_stages
        on to_stages.funnel_stage = from_stages.next_stage

),

first_entries as (

    -- an entity's first entry into each stage (a stage it enters again, e.g. after a
    -- recycle, keeps the cohort of its first entry)
    select
        entity_type,
        entity_id,
        to_stage as funnel_stage,
        min(person_id) as person_id,
        min(transitioned_at) as entered_at
    from transitions
    group by entity_type, entity_id, to_stage

),

cohort_entries as (

    select
        first_entries.entity_type,
        first_entries.entity_id,
        stage_pairs.from_stage,
        stage_pairs.to_stage,
        stage_pairs.from_stage_order,
        stage_pairs.from_phase_number,
        stage_pairs.to_phase_number,
        coalesce(first_touches.first_touch_channel, 'unknown') as channel,
        cast({{ dbt.date_trunc('month', 'first_entries.entered_at') }} as date) as cohort_month,
        first_entries.entered_at
    from first_entries
    inner join stage_pairs
        on stage_pairs.from_stage = first_entries.funnel_stage
    left join first_touches
        on first_touches.person_id = first_entries.person_id

),

conversions as (

    -- the first entry into the to-stage at or after the entry into the from-stage
    select
        cohort_entries.entity_type,
        cohort_entries.entity_id,
        cohort_entries.from_stage,
        cohort_entries.to_stage,
        cohort_entries.from_stage_order,
        cohort_entries.from_phase_number,
        cohort_entries.to_phase_number,
        cohort_entries.channel,
        cohort_entries.cohort_month,
        cohort_entries.entered_at,
        min(next_entries.transitioned_at) as converted_at
    from cohort_entries
    left join transitions as next_entries
        on next_entries.entity_type = cohort_entries.entity_type
        and next_entries.entity_id = cohort_entries.entity_id
        and next_entries.to_stage = cohort_entries.to_stage
        and next_entries.transitioned_at >= cohort_entries.entered_at
    group by
        cohort_entries.entity_type,
        cohort_entries.entity_id,
        cohort_entries.from_stage,
        cohort_entries.to_stage,
        cohort_entries.from_stage_order,
        cohort_entries.from_phase_number,
        cohort_entries.to_phase_number,
        cohort_entries.channel,
        cohort_entries.cohort_month,
        cohort_entries.entered_at

),

aggregated as (

    select
        entity_type,
        from_stage,
        to_stage,
        channel,
        from_stage_order,
        from_phase_number,
        to_phase_number,
        cohort_month,
        count(*) as entered_count,
        sum(case when converted_at is not null then 1 else 0 end) as converted_count,
        {{ percentile_cont(dividend(dbt.datediff('entered_at', 'converted_at', 'second')) ~ ' / 86400.0', 0.5) }} as median_days_to_convert
    from conversions
    group by
        entity_type,
        from_stage,
        to_stage,
        channel,
        from_stage_order,
        from_phase_number,
        to_phase_number,
        cohort_month

),

final as (

    select

        ---------- strings
        entity_type,
        from_stage,
        to_stage,
        channel,

        ---------- numerics
        cast(from_stage_order as {{ dbt.type_int() }}) as from_stage_order,
        cast(from_phase_number as {{ dbt.type_int() }}) as from_phase_number,
        cast(to_phase_number as {{ dbt.type_int() }}) as to_phase_number,
        cast(entered_count as {{ dbt.type_bigint() }}) as entered_count,
        cast(converted_count as {{ dbt.type_bigint() }}) as converted_count,
        cast(1.0 * converted_count / entered_count as {{ dbt.type_numeric() }}) as conversion_rate,
        {{ numeric_from_double('median_days_to_convert') }} as median_days_to_convert,

        ---------- dates
        cohort_month

    from aggregated

)

select * from final
