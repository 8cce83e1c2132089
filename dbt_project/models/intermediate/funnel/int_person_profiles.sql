{#
    The attributes that lead scoring (fit) and the lead definition read, one row per
    person: the title (HubSpot contact, else Salesforce contact, else Salesforce lead) and
    its seniority, the country (the person's, else the account's), the account's industry,
    employee count and CRM type, the person's email domain and local part (no address
    leaves this model's consumers: marts hash it). The seniority buckets are the
    title_seniority values of the seed scoring_rules.
#}

with

person_identity_map as (

    select * from {{ ref('int_person_identity_map') }}

),

person_identifiers as (

    select * from {{ ref('int_person_identifiers') }}

),

person_accounts as (

    select * from {{ ref('int_person_accounts') }}

),

account_identity_map as (

    select * from {{ ref('int_account_identity_map') }}

),

account_identifiers as (

    select * from {{ ref('int_account_identifiers') }}

),

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

salesforce_contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}

),

record_attributes as (

    select
        'hubspot' as source_system,
        'contact' as source_table,
        cast(contact_id as {{ dbt.type_string() }}) as source_record_id,
        1 as source_priority,
        contact_job_title as title,
        contact_country as country
    from hubspot_contacts

    union all

    select
        'salesforce' as source_system,
        'contact' as source_table,
        contact_id as source_record_id,
        2 as source_priority,
        contact_title as title,
        cast(null as {{ dbt.type_string() }}) as country
    from salesforce_contacts

    union all

    select
        'salesforce' as source_system,
        'lead' as source_table,
        lead_id as source_record_id,
        3 as source_priority,
        lead_title as title,
        lead_country as country
    from salesforce_leads

),

person_attributes_ranked as (

    select
        person_identity_map.person_id,
        record_attributes.title,
        record_attributes.country,
        row_number() over (
            partition by person_identity_map.person_id
            order by record_attributes.source_priority, record_attributes.source_record_id
        ) as title_rank
    from record_attributes
    inner join person_identity_map
        on person_identity_map.source_system = record_attributes.source_system
        and person_identity_map.source_table = record_attributes.source_table
        and person_identity_map.source_record_id = record_attributes.source_record_id
    where record_attributes.title is not null or record_attributes.country is not null

),

person_attributes as (

    select
        person_id,
        max(case when title_rank = 1 then title end) as title,
        max(country) as country
    from person_attributes_ranked
    group by person_id

),

person_emails as (

    select
        person_identity_map.person_id,
        min(person_identifiers.email) as email
    from person_identifiers
    inner join person_identity_map
        on person_identity_map.person_record_key = person_identifiers.person_record_key
    where person_identifiers.email is not null
    group by person_identity_map.person_id

),

persons as (

    select distinct person_id from person_identity_map

),

accounts as (

    select
        account_identity_map.account_id,
        max(account_identifiers.industry) as industry,
        max(account_identifiers.country) as country,
        max(account_identifiers.employee_count) as employee_count,
        max(salesforce_accounts.account_type) as crm_account_type
    from account_identity_map
    inner join account_identifiers
        on account_identifiers.account_record_key = account_identity_map.account_record_key
    left join salesforce_accounts
        on account_identity_map.source_system = 'salesforce'
        and account_identity_map.source_table = 'account'
        and salesforce_accounts.account_id = account_identity_map.source_record_id
    group by account_identity_map.account_id

),

final as (

    select

        ---------- ids
        persons.person_id,
        person_accounts.account_id,

        ---------- strings
        person_emails.email,
        {{ dbt.split_part('person_emails.email', "'@'", 2) }} as email_domain,
        person_attributes.title,
        case
            when lower(person_attributes.title) like '%chief%'
              or ({{ dbt.length('trim(person_attributes.title)') }} = 3 and lower(trim(person_attributes.title)) like 'c_o')
                then 'c_level'
            when lower(person_attributes.title) like 'vp%'
              or lower(person_attributes.title) like '%vice president%' then 'vp'
            when lower(person_attributes.title) like 'head %' then 'head'
            when lower(person_attributes.title) like '%director%' then 'director'
            when lower(person_attributes.title) like '%manager%'
              or lower(person_attributes.title) like '% lead' then 'manager'
        end as title_seniority,
        coalesce(person_attributes.country, accounts.country) as country,
        accounts.industry,
        accounts.crm_account_type,

        ---------- numerics
        accounts.employee_count,

        ---------- booleans
        person_emails.email is not null as is_identified

    from persons
    left join person_emails
        on person_emails.person_id = persons.person_id
    left join person_attributes
        on person_attributes.person_id = persons.person_id
    left join person_accounts
        on person_accounts.person_id = persons.person_id
    left join accounts
        on accounts.account_id = person_accounts.account_id

)

select * from final
