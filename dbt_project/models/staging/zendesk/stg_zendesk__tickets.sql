with

source as (

    select * from {{ source('zendesk', 'ticket') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as ticket_id,
        {{ dbt.safe_cast('requester_id', dbt.type_bigint()) }} as requester_user_id,
        {{ dbt.safe_cast('submitter_id', dbt.type_bigint()) }} as submitter_user_id,
        {{ dbt.safe_cast('assignee_id', dbt.type_bigint()) }} as assignee_user_id,
        {{ dbt.safe_cast('organization_id', dbt.type_bigint()) }} as organization_id,

        ---------- strings
        subject as ticket_subject,
        status as ticket_status,
        priority as ticket_priority,
        type as ticket_type,
        via_channel as ticket_channel,

        ---------- booleans
        {{ cast_boolean('_fivetran_deleted') }} as is_deleted,

        ---------- timestamps
        {{ cast_timestamp('created_at') }} as ticket_created_at,
        {{ cast_timestamp('updated_at') }} as ticket_updated_at,
        {{ cast_timestamp('_fivetran_synced') }} as ticket_synced_at

    from source

),

versioned as (

    -- a later export (or a re-sync) can carry a newer version of the same record
    select
        *,
        {{ latest_first(partition_by='ticket_id', order_by=['ticket_updated_at', 'ticket_synced_at']) }} as version_number
    from renamed

),

final as (

    -- keep the latest version of each record
    -- drop soft-deleted records
    select
        ticket_id,
        requester_user_id,
        submitter_user_id,
        assignee_user_id,
        organization_id,
        ticket_subject,
        ticket_status,
        ticket_priority,
        ticket_type,
        ticket_channel,
        ticket_created_at,
        ticket_updated_at,
        ticket_synced_at
    from versioned
    where version_number = 1
        and not coalesce(is_deleted, false)

)

select * from final
