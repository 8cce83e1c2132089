"""Identity resolution against the generator's ground truth.

Generates a company (default mess), ingests it, runs `dbt build` over the identity models
(staging -> intermediate/identity -> dim_person, dim_account, with their tests), then
compares int_person_identity_map and int_account_identity_map with identities.parquet:
pairwise precision and recall over pairs of source records (two records predicted to be one
person vs truly one person), printed (`pytest -s` shows them) and held to the targets of
issue 5: precision >= 99.5 %, recall >= 99 %.
"""

from __future__ import annotations


import duckdb
import pytest

from tests.conftest import build_company

PRECISION_TARGET = 0.995
RECALL_TARGET = 0.99

# (system, table in identities.parquet) -> (staging model, id column) that holds the live
# records of that table; a truth record missing from an identity map must be missing here
# too (soft-deleted in its source, or quarantined as malformed at ingestion). Zendesk agents
# are our own support staff: not persons of the revenue cycle (the truth lists none).
PERSON_TABLES = {
    ("salesforce", "lead"): ("stg_salesforce__leads", "lead_id"),
    ("salesforce", "contact"): ("stg_salesforce__contacts", "contact_id"),
    ("hubspot", "contact"): ("stg_hubspot__contacts", "contact_id"),
    ("segment", "anonymous_id"): ("stg_segment__pages", "anonymous_id"),
    ("segment", "user_id"): ("stg_segment__pages", "user_id"),
    ("stripe", "customer"): ("stg_stripe__customers", "customer_id"),
    ("zendesk", "user"): ("stg_zendesk__users", "user_id", "coalesce(user_role, 'end-user') not in ('agent', 'admin')"),
}
ACCOUNT_TABLES = {
    ("salesforce", "account"): ("stg_salesforce__accounts", "account_id"),
    ("hubspot", "company"): ("stg_hubspot__companies", "company_id"),
    ("stripe", "customer"): ("stg_stripe__customers", "customer_id"),
    ("zendesk", "organization"): ("stg_zendesk__organizations", "organization_id"),
    ("product", "daily_usage"): ("stg_product__daily_usage", "account_id"),
}
ENTITIES = {
    "person": (PERSON_TABLES, "true_person_id"),
    "account": (ACCOUNT_TABLES, "true_account_id"),
}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    # the identity subgraph: staging upstream, the maps, the dims, all their tests
    settings = build_company(root, scale=0.1, seed=42, select=["+dim_person", "+dim_account"])
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    truth_file = str(settings.truth_dir / "identities.parquet").replace("'", "''")
    con.execute(f"create temp view truth as select * from read_parquet('{truth_file}')").fetchall()
    yield con
    con.close()


def _rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def _tables_filter(tables) -> str:
    return " or ".join(f"(t.system = '{s}' and t.\"table\" = '{tb}')" for s, tb in tables)


def pairwise_scores(con, entity: str) -> dict:
    """Pairwise precision and recall of an identity map against the truth, over the source
    records present in both."""
    tables, truth_column = ENTITIES[entity]
    joined = f"""
        select t.{truth_column} as true_id, m.{entity}_id as predicted_id
        from truth as t
        inner join intermediate.int_{entity}_identity_map as m
            on m.source_system = t.system
            and m.source_table = t."table"
            and m.source_record_id = t.record_id
        where ({_tables_filter(tables)}) and t.{truth_column} is not null
    """

    def pairs(group_by: str) -> int:
        sql = f"select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) as n from ({joined}) group by {group_by})"
        return int(_rows(con, sql)[0][0])

    both, predicted, true = pairs("predicted_id, true_id"), pairs("predicted_id"), pairs("true_id")
    records = _rows(con, f"select count(*) from ({joined})")[0][0]
    return {
        "records": records,
        "predicted_pairs": predicted,
        "true_pairs": true,
        "correct_pairs": both,
        "precision": both / predicted if predicted else 1.0,
        "recall": both / true if true else 1.0,
    }


def _wrong_pairs(con, entity: str) -> str:
    """A few examples of false merges and missed links, for the assertion message."""
    tables, truth_column = ENTITIES[entity]
    joined = f"""
        select t.system || ':' || t."table" || ':' || t.record_id as record, t.{truth_column} as true_id,
            m.{entity}_id as predicted_id
        from truth as t
        inner join intermediate.int_{entity}_identity_map as m
            on m.source_system = t.system and m.source_table = t."table" and m.source_record_id = t.record_id
        where ({_tables_filter(tables)}) and t.{truth_column} is not null
    """
    merged = _rows(con, f"""
        select predicted_id, list(record order by record) from ({joined})
        where predicted_id in (select predicted_id from ({joined}) group by 1 having count(distinct true_id) > 1)
        group by 1 limit 5""")
    split = _rows(con, f"""
        select true_id, list(record || ' -> ' || predicted_id order by record) from ({joined})
        where true_id in (select true_id from ({joined}) group by 1 having count(distinct predicted_id) > 1)
        group by 1 limit 5""")
    return f"false merges: {merged}\nmissed links: {split}"


@pytest.mark.parametrize("entity", ["person", "account"])
def test_every_record_maps_to_exactly_one_identity(resolved, entity):
    con = resolved
    key = f"{entity}_record_key"
    identifiers, mapped, distinct_keys, without_id = _rows(con, f"""
        select
            (select count(*) from intermediate.int_{entity}_identifiers),
            count(*), count(distinct {key}), count(*) - count({entity}_id)
        from intermediate.int_{entity}_identity_map""")[0]
    assert mapped == identifiers == distinct_keys, "a record is missing from the map or mapped twice"
    assert without_id == 0

    # every live record of every staging model is in the map: none dropped by resolution
    tables, _ = ENTITIES[entity]
    for (system, table), (model, column, *condition) in tables.items():
        where = " and ".join([f"{column} is not null", *condition])
        missing = _rows(con, f"""
            select count(*) from (select distinct cast({column} as varchar) as record_id
                                  from staging.{model} where {where}) as s
            where not exists (select 1 from intermediate.int_{entity}_identity_map as m
                              where m.source_system = '{system}' and m.source_table = '{table}'
                                and m.source_record_id = s.record_id)""")[0][0]
        assert missing == 0, f"{missing} {system}.{table} records of {model} have no {entity}_id"

    # the truth records not in the map are the ones staging dropped (soft-deleted, malformed)
    unmapped = _rows(con, f"""
        select t.system, t."table", t.record_id from truth as t
        where ({_tables_filter(tables)})
          and not exists (select 1 from intermediate.int_{entity}_identity_map as m
                          where m.source_system = t.system and m.source_table = t."table"
                            and m.source_record_id = t.record_id)""")
    for system, table, record_id in unmapped:
        model, column, *_ = tables[(system, table)]
        in_staging = _rows(con, f"select count(*) from staging.{model} where cast({column} as varchar) = ?", [record_id])[0][0]
        assert in_staging == 0, f"{system}.{table} {record_id} is live in {model} but has no {entity}_id"
    total = _rows(con, f"select count(*) from truth as t where {_tables_filter(tables)}")[0][0]
    print(f"\n{entity}: {mapped} records mapped; {len(unmapped)} of {total} truth records not in staging "
          f"(soft-deleted or quarantined): {unmapped[:10]}")


@pytest.mark.parametrize("entity", ["person", "account"])
def test_pairwise_precision_and_recall(resolved, entity):
    scores = pairwise_scores(resolved, entity)
    print(
        f"\n{entity} identity resolution: precision {scores['precision']:.4%}, recall {scores['recall']:.4%} "
        f"({scores['records']} records; pairs predicted {scores['predicted_pairs']}, "
        f"true {scores['true_pairs']}, correct {scores['correct_pairs']})"
    )
    detail = _wrong_pairs(resolved, entity)
    assert scores["precision"] >= PRECISION_TARGET, detail
    assert scores["recall"] >= RECALL_TARGET, detail


def test_person_accounts_match_the_truth(resolved):
    """dim_person.account_id (when set) is the person's true account."""
    con = resolved
    checked, correct = _rows(con, """
        with person_truth as (
            select distinct m.person_id, t.true_account_id
            from intermediate.int_person_identity_map as m
            inner join truth as t
                on t.system = m.source_system and t."table" = m.source_table and t.record_id = m.source_record_id
            where t.true_account_id is not null
        ),
        account_truth as (
            select m.account_id, min(t.true_account_id) as true_account_id
            from intermediate.int_account_identity_map as m
            inner join truth as t
                on t.system = m.source_system and t."table" = m.source_table and t.record_id = m.source_record_id
            group by m.account_id
        )
        select count(*), count(*) filter (where account_truth.true_account_id = person_truth.true_account_id)
        from marts.dim_person as p
        inner join person_truth on person_truth.person_id = p.person_id
        inner join account_truth on account_truth.account_id = p.account_id""")[0]
    print(f"\nperson -> account links: {correct} of {checked} correct")
    assert checked > 0
    assert correct / checked >= PRECISION_TARGET


def test_dims_expose_no_raw_email(resolved):
    con = resolved
    for dim in ("dim_person", "dim_account"):
        values = _rows(con, f"select * from marts.{dim}")
        assert values, dim
        assert not any("@" in str(v) for row in values for v in row), dim
