{#
    email_persons(): one person per normalized email, the body of a CTE of the calling model,
    which imports int_person_identifiers and int_person_identity_map as the CTEs
    `person_identifiers` and `person_identity_map` (so that its unit tests give those inputs).
    The identity map puts every record of an email into one person; min() only guards
    against ties.
#}
{% macro email_persons() -%}
    select
        person_identifiers.email,
        min(person_identity_map.person_id) as person_id
    from person_identifiers
    inner join person_identity_map
        on person_identity_map.person_record_key = person_identifiers.person_record_key
    where person_identifiers.email is not null
    group by person_identifiers.email
{%- endmacro %}
