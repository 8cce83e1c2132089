"""Personal data stays where it belongs: tagged in staging, hashed in the marts.

Over the clean company of tests/test_crash_recovery.py (ingested, built, published):

- every staging column that holds personal data (by its name: email, phone, first / last /
  full name, user name, IP address; or by its values: any column holding an email address)
  is tagged `meta: {pii: true}` in its YAML;
- no column of any mart, in the warehouse or in the analysts' copy, holds an email address
  (by pattern), or a raw email, phone number or full name that staging holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.test_crash_recovery import Place, reference_build

EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# personal data by column name, in the staging naming (<entity>_<attribute>)
PII_NAME = re.compile(
    r"(^|_)(email|recipient|phone|first_name|last_name|full_name|username|ip)$"
    r"|^(user|customer|identify|contact|lead)_name$"
)


@pytest.fixture(scope="module")
def reference(dbt_manifest) -> Place:
    return reference_build()


@pytest.fixture(scope="module")
def tagged(dbt_manifest) -> dict[str, set[str]]:
    """model name -> its columns tagged as personal data in the YAML."""
    manifest = json.loads(Path(dbt_manifest).read_text())
    out: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for name, column in node["columns"].items():
            meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
            if meta.get("pii") is True:
                out.setdefault(node["name"], set()).add(name)
    return out


def _varchar_columns(con, schema: str) -> list[tuple[str, str]]:
    return con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ? "
        "and data_type = 'VARCHAR' order by 1, 2", [schema]
    ).fetchall()


def test_every_personal_data_column_in_staging_is_tagged(reference, tagged):
    with duckdb.connect(str(reference.warehouse), read_only=True) as con:
        columns = _varchar_columns(con, "staging")
        by_name = {(t, c) for t, c in columns if PII_NAME.search(c)}
        by_value = {
            (t, c) for t, c in columns
            if con.execute(f'select count(*) from staging."{t}" where regexp_matches("{c}", ?)',
                           [EMAIL_PATTERN]).fetchall()[0][0]
        }
    assert by_name, "the staging layer has no personal data columns at all?"
    assert {c for _, c in by_value} >= {"lead_email", "contact_email"}  # the value scan works
    untagged = sorted((by_name | by_value) - {(t, c) for t, cols in tagged.items() for c in cols})
    assert untagged == [], f"personal data in staging without meta: {{pii: true}}: {untagged}"


def _raw_values(con) -> dict[str, set[str]]:
    """The raw emails, phone numbers and full names staging holds (as sent and normalized)."""
    found = {"email": set(), "phone": set(), "full name": set()}
    for table, column in _varchar_columns(con, "staging"):
        kind = ("email" if column.endswith(("email", "recipient")) else
                "phone" if column.endswith("phone") else
                # a Stripe customer's name is its company's (B2B), not a person's
                "full name" if column.endswith("full_name") or column in ("user_name", "identify_name")
                else None)
        if kind is None:
            continue
        for (value,) in con.execute(f'select distinct "{column}" from staging."{table}" where "{column}" is not null').fetchall():
            value = value.strip()
            if kind == "phone" and sum(ch.isdigit() for ch in value) < 7:
                continue
            if kind == "full name" and " " not in value:
                continue  # one word may well be a company's name
            found[kind] |= {value, value.lower()}
    return found


def _mart_leaks(con, schema: str, raw: dict[str, set[str]]) -> list[str]:
    leaks = []
    con.execute("create or replace temp table pii_values (kind varchar, value varchar)")
    for kind, values in raw.items():
        con.executemany("insert into pii_values values (?, ?)", [(kind, v) for v in values])
    for table, column in _varchar_columns(con, schema):
        relation = f'{schema}."{table}"'
        pattern = con.execute(
            f'select any_value("{column}"), count(*) from {relation} where regexp_matches("{column}", ?)',
            [EMAIL_PATTERN]).fetchall()[0]
        if pattern[1]:
            leaks.append(f"{relation}.{column}: {pattern[1]} email-like values, e.g. {pattern[0]!r}")
        exact = con.execute(
            f'select p.kind, any_value(p.value), count(*) from {relation} m join pii_values p '
            f'on lower(trim(m."{column}")) = lower(p.value) group by p.kind').fetchall()
        leaks += [f"{relation}.{column}: {n} raw {kind} values, e.g. {example!r}" for kind, example, n in exact]
    return leaks


def test_no_mart_column_holds_a_raw_email_phone_or_name(reference):
    with duckdb.connect(str(reference.warehouse), read_only=True) as con:
        raw = _raw_values(con)
    assert len(raw["email"]) > 50 and raw["phone"] and raw["full name"]
    leaks = []
    for path in (reference.warehouse, reference.published):
        with duckdb.connect(str(path), read_only=True) as con:
            marts = [t for (t,) in con.execute(
                "select distinct table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
            assert len(marts) >= 10, path
            leaks += [f"{path.name}: {leak}" for leak in _mart_leaks(con, "marts", raw)]
            # the identifiers analysts join on are hashes: every email column is an md5
            email_columns = [(t, c) for t, c in _varchar_columns(con, "marts") if "email" in c and "campaign" not in c]
            assert ("fct_leads", "lead_email_hash") in email_columns
            for table, column in email_columns:
                assert column.endswith("_hash"), (table, column)
                assert con.execute(f'select count(*) from marts."{table}" where not regexp_full_match('
                                   f'"{column}", \'[0-9a-f]{{32}}\')').fetchall() == [(0,)], (table, column)
    assert leaks == []


def test_the_scan_finds_a_planted_email(reference, tmp_path):
    """The scan can fail: a mart with one raw email in a text column is caught."""
    copy = tmp_path / "leaky.duckdb"
    copy.write_bytes(reference.published.read_bytes())
    with duckdb.connect(str(reference.warehouse), read_only=True) as con:
        raw = _raw_values(con)
        email = con.execute("select lead_email from staging.stg_salesforce__leads "
                            "where lead_email is not null order by 1 limit 1").fetchall()[0][0]
    with duckdb.connect(str(copy)) as con:
        con.execute("create table marts.leaky as select ? as note", [email.upper()])
        leaks = _mart_leaks(con, "marts", raw)
    assert any("marts.\"leaky\".note" in leak and "email" in leak for leak in leaks), leaks
