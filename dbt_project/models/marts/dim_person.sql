{#
    One row per conformed person (identity resolution: int_person_identity_map). Personal
    data stays upstream: the analyst-facing identifier is the md5 of the normalized email.
#}

{%- set systems = ['salesforce', 'hubspot', 'segment', 'stripe', 'zendesk'] %}

with

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

person_records as (

    select
        person_identity_map.person_id,
        person_identifiers.source_system,
        person_identifiers.email,
        person_identifiers.first_seen_at
    from person_identity_map
    inner join person_identifiers
        on person_identifiers.person_record_key = person_identity_map.person_record_key

),

person_systems as (

    select distinct
        person_id,
        source_system
    from person_records

),

system_lists as (

    select
        person_id,
        {{ dbt.listagg('source_system', "', '", 'order by source_system') }} as source_systems
    from person_systems
    group by person_id

),

persons as (

    select
        person_id,
        min(email) as primary_email,
        count(*) as source_record_count,
        {%- for system in systems %}
        max(case when source_system = '{{ system }}' then 1 else 0 end) = 1 as is_in_{{ system }},
        {%- endfor %}
        min(first_seen_at) as first_seen_at
    from person_records
    group by person_id

),

final as (

    select

        ---------- ids
        persons.person_id,
        person_accounts.account_id,

        ---------- strings
        -- analysts get a stable hash, never the raw address
        case
            when persons.primary_email is not null then {{ dbt.hash('persons.primary_email') }}
        end as email_hash,
        system_lists.source_systems,
        person_accounts.account_link_source,

        ---------- numerics
        persons.source_record_count,

        ---------- booleans
        persons.primary_email is not null as is_identified,
        {%- for system in systems %}
        persons.is_in_{{ system }},
        {%- endfor %}

        ---------- timestamps
        persons.first_seen_at

    from persons
    inner join system_lists
        on system_lists.person_id = persons.person_id
    left join person_accounts
        on person_accounts.person_id = persons.person_id

)

select * from final
