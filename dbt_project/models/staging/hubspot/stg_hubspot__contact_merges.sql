with

contacts as (

    select * from {{ ref('base_hubspot__contacts') }}

),

surviving_contacts as (

    -- live contacts that absorbed others; entries are `vid:merged_at_epoch_ms;...`
    select
        contact_id,
        contact_merged_vids,
        {{ dbt.length('contact_merged_vids') }}
            - {{ dbt.length(dbt.replace('contact_merged_vids', "';'", "''")) }}
            + 1 as merged_vid_entry_count
    from contacts
    where not is_deleted
        and contact_merged_vids is not null
        and trim(contact_merged_vids) != ''

),

entry_positions as (

    {{ dbt.generate_series(500) }}

),

entries as (

    select
        surviving_contacts.contact_id as merged_into_contact_id,
        trim({{ dbt.split_part('surviving_contacts.contact_merged_vids', "';'", 'entry_positions.generated_number') }}) as merged_vid_entry
    from surviving_contacts
    inner join entry_positions
        on entry_positions.generated_number <= surviving_contacts.merged_vid_entry_count

),

final as (

    select

        ---------- ids
        {{ dbt.safe_cast(dbt.split_part('merged_vid_entry', "':'", 1), dbt.type_bigint()) }} as merged_contact_id,
        merged_into_contact_id,

        ---------- timestamps
        {{ dbt.dateadd(
            'second',
            'floor(' ~ dbt.safe_cast(dbt.split_part('merged_vid_entry', "':'", 2), dbt.type_bigint()) ~ ' / 1000)',
            "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")"
        ) }} as merged_at

    from entries
    where merged_vid_entry != ''

)

select * from final
