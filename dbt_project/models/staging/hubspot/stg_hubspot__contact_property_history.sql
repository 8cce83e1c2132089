with

source as (

    select * from {{ source('hubspot', 'contact_property_history') }}
    -- on an incremental run, only the rows of landing files not yet processed
    {{ from_unseen_landing_files() }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('contact_id', dbt.type_bigint()) }} as contact_id,

        ---------- strings
        name as property_name,
        value as property_value,
        source as change_source,
        source_id as change_source_id,

        ---------- timestamps
        {{ cast_timestamp(adapter.quote('timestamp')) }} as property_changed_at,
        {{ cast_timestamp('_fivetran_synced') }} as property_synced_at,

        ---------- lineage
        _landing_file as landing_file

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='contact_id, property_name, property_changed_at', order_by=['property_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    select
        contact_id,
        property_name,
        property_value,
        change_source,
        change_source_id,
        property_changed_at,
        property_synced_at,
        landing_file
    from versioned
    where version_number = 1

)

select * from final
