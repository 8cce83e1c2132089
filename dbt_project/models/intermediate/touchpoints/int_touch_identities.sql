{#
    The person and account of every identifier tuple of the two big touch streams (a page
    view's user id and anonymous id, an email event's recipient), resolved once per tuple:
    int_touchpoints gives each stream touch what its tuple resolves to, and on an
    incremental run re-resolves the past touches whose tuple now resolves differently
    (macros/touch_resolution.sql). Rebuilt on every run: identity merges move identifiers
    between persons every day.
      page view    the person of its user id, else of its anonymous id (int_person_identity_map)
      email event  the person of its normalized recipient email (all records sharing an
                   email are one person)
    The account is the person's (int_person_accounts).
#}

{%- set inputs = touch_identity_inputs('touch_events') %}

with

touch_events as (

    select * from {{ ref('int_touch_events') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

identities as (

    {{ person_touch_tuples('touch_events', inputs) }}

),

email_persons as (

    -- every normalized email -> its person
    {{ email_persons() }}

),

resolved as (

    select
        identities.*,
        coalesce(user_map.person_id, anonymous_map.person_id, email_persons.person_id) as person_id
    from identities
    left join person_identity_map as user_map
        on user_map.source_system = 'segment'
        and user_map.source_table = 'user_id'
        and user_map.source_record_id = identities.user_id
    left join person_identity_map as anonymous_map
        on anonymous_map.source_system = 'segment'
        and anonymous_map.source_table = 'anonymous_id'
        and anonymous_map.source_record_id = identities.anonymous_id
    left join email_persons
        on email_persons.email = identities.recipient_email

),

final as (

    select

        ---------- ids
        {{ resolution_key(columns_of('resolved', inputs)) }} as identity_key,
        resolved.person_id,
        person_accounts.account_id,
        resolved.user_id,

        ---------- strings
        resolved.anonymous_id,
        resolved.recipient_email

    from resolved
    left join person_accounts
        on person_accounts.person_id = resolved.person_id

)

select * from final
