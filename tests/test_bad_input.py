"""Bad input and faults in the landing zone: every case has a stated outcome, and no row is lost.

Each case writes a few small landing files (rows built from the fixture lead of
tests/fixtures/landing, one HubSpot contact, Segment page views, product usage) into one
landing zone, with ids of its own so that cases do not meet. The ingestion assets then run
through Dagster twice: phase 1 loads every case's first files, phase 2 the files that
arrive later (late records, conflicting updates across runs). Per case, the test checks its
stated outcome (a quarantine row naming file, line, value and reason; a rejected file whose
error names the file and column; or what the raw table holds) and then the row accounting of
every file it wrote:

    rows in (counted here, without the parser) = rows loaded + rows quarantined

from the ledger and the quarantine table. A file refused as a whole (missing required
column, unreadable Parquet) stays in the landing zone with its error in the ledger: its rows
are counted as "in rejected files", never as loaded or lost. The last test prints the summary
of all cases and requires rows lost = 0.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import AssetKey, DagsterInstance, materialize
from dagster_dlt import DagsterDltResource

from orchestration.ingestion.assets import build_ingestion_assets
from orchestration.schedules import RAW_FRESHNESS, freshness_policy_for
from orchestration.sources.schemas import get_table
from tests.conftest import FIXTURES, make_settings

LEAD = get_table("salesforce", "lead")
ACCOUNT = get_table("salesforce", "account")
CONTACT = get_table("hubspot", "contact")
PAGES = get_table("segment", "pages")
USAGE = get_table("product", "daily_usage")

# the fixture's first lead is the template of every CSV lead row here
_FIXTURE_LINES = (FIXTURES / "landing" / "salesforce" / "lead" / "2026-06-30.csv").read_text().splitlines()
LEAD_HEADER = _FIXTURE_LINES[0].split(",")
_LEAD_TEMPLATE = dict(zip(LEAD_HEADER, next(csv.reader([_FIXTURE_LINES[1]]))))
_ACCOUNT_TEMPLATE = {
    "id": "001", "_fivetran_synced": "2026-06-02T10:00:00Z", "name": "Acme", "type": "Prospect",
    "industry": "", "number_of_employees": "", "annual_revenue": "", "billing_city": "", "billing_country": "",
    "website": "", "account_source": "", "owner_id": "005A", "parent_id": "", "master_record_id": "",
    "is_deleted": "false", "created_date": "2026-06-01T10:00:00Z", "last_modified_date": "2026-06-02T10:00:00Z",
    "system_modstamp": "2026-06-02T10:00:00Z",
}
_CONTACT_TEMPLATE = {
    "id": 1, "_fivetran_synced": "2026-06-04T10:00:00Z", "_fivetran_deleted": False, "property_email": "a@b.com",
    "property_firstname": "A", "property_lastname": "B", "property_company": None, "property_jobtitle": None,
    "property_phone": None, "property_country": None, "property_lifecyclestage": "lead",
    "property_hs_lead_status": None, "property_associatedcompanyid": None, "property_hs_analytics_source": None,
    "property_hs_calculated_merged_vids": None, "property_createdate": "2026-06-01T10:00:00Z",
    "property_lastmodifieddate": "2026-06-02T10:00:00Z",
}
_PAGE_TEMPLATE = {
    "id": "pg", "anonymous_id": "anon", "user_id": None, "timestamp": "2026-06-01T10:00:00Z",
    "received_at": "2026-06-01T10:00:01Z", "url": "https://example.net/", "path": "/", "title": "Home",
    "referrer": None, "utm_source": None, "utm_medium": None, "utm_campaign": None, "utm_term": None,
    "utm_content": None, "context_ip": None,
}


# --------------------------------------------------------------------------- writing files


def lead(**values) -> dict:
    return {**_LEAD_TEMPLATE, **values}


def csv_line(row: dict, header: list[str] = LEAD_HEADER) -> str:
    """One CSV line, quoted where the value needs it (as an export would write it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([row.get(c, "") for c in header])
    return out.getvalue()


def write(landing: Path, relative: str, body: bytes) -> str:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return relative


def write_csv(landing: Path, relative: str, lines: list, header: list[str] = LEAD_HEADER) -> str:
    """`lines`: dicts (a proper CSV row) or str (a line written as it is, malformed on purpose)."""
    text = [",".join(header)] + [line if isinstance(line, str) else csv_line(line, header) for line in lines]
    return write(landing, relative, ("\n".join(text) + "\n").encode())


def write_jsonl(landing: Path, relative: str, lines: list) -> str:
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    return write(landing, relative, ("\n".join(text) + "\n").encode())


def contact(**values) -> dict:
    return {**_CONTACT_TEMPLATE, **values}


def page(**values) -> dict:
    return {**_PAGE_TEMPLATE, **values}


def write_usage(landing: Path, relative: str, rows: list[dict]) -> str:
    columns = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in USAGE.columns}
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return relative


def usage(**values) -> dict:
    return {"account_id": "acc", "date_day": "2026-06-01", "active_users": "3", "updated_at": "2026-06-02T00:00:00Z",
            **values}


# --------------------------------------------------------------------------- the cases


@dataclass
class Case:
    name: str
    outcome: str  # the stated expected outcome (also the README text)
    write: Callable[[Path, int], list[str]]  # (landing, phase) -> files written
    verify: Callable[["Context"], None]
    files: list[str] = field(default_factory=list)


@dataclass
class Context:
    con: duckdb.DuckDBPyConnection
    settings: object
    metadata: dict  # (phase, system, table) -> materialization metadata

    def raw(self, table, where: str, columns: str = "*") -> list[tuple]:
        return self.con.execute(f"select {columns} from raw_{table.system}.{table.table} where {where}").fetchall()

    def quarantine(self, system: str, relative: str) -> dict[int, str]:
        return dict(self.con.execute(
            f"select line_number, reason from raw_{system}._quarantine where relative_path = ?", [relative]
        ).fetchall())

    def ledger(self, system: str, relative: str) -> tuple:
        rows = self.con.execute(
            f"select status, rows_read, rows_loaded, rows_quarantined, new_columns, error "
            f"from raw_{system}._ingest_ledger where relative_path = ? order by loaded_at", [relative]
        ).fetchall()
        assert len(rows) == 1, f"{relative}: expected one ledger entry, found {rows}"
        return rows[0]


def _phase1(*writers):
    return lambda landing, phase: [w(landing) for w in writers] if phase == 1 else []


def _phases(first, second):
    return lambda landing, phase: [w(landing) for w in (first if phase == 1 else second)]


def _lead_ids(ctx, prefix: str) -> list[str]:
    return [r[0] for r in ctx.raw(LEAD, f"id like '{prefix}%' order by id", "id")]


SF = "salesforce/lead"


def _verify_few(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_few.csv")
    assert list(q) == [3] and "MISSING COLUMNS" in q[3] and "found 23" in q[3].lower().replace(":", "")
    assert _lead_ids(ctx, "FEW") == ["FEW1", "FEW3"]


def _verify_many(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_many.csv")
    assert list(q) == [3] and "TOO MANY COLUMNS" in q[3]
    assert _lead_ids(ctx, "MANY") == ["MANY1", "MANY3"]


def _verify_quoting(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_quote.csv")
    # the unterminated quote (line 3) does not swallow the lines after it
    assert "UNQUOTED VALUE" in q[3]
    # a quoted newline inside a field is legal CSV, but the ledger counts physical lines:
    # both halves are quarantined (never loaded short, never lost)
    assert set(q) == {3, 6, 7}
    assert _lead_ids(ctx, "QUO") == ["QUO1", "QUO3", "QUO4", "QUO6"]
    # a stray quote inside an unquoted value is kept verbatim
    assert ctx.raw(LEAD, "id = 'QUO4'", "company") == [('Ac"me',)]


def _verify_dates(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_dates.csv")
    assert q[3] == "column created_date: 2026-13-45T99:00:00Z is not a valid timestamp"
    assert q[4] == "column converted_date: 2026-02-30 is not a valid date"
    assert q[5] == "column last_modified_date: yesterday is not a valid timestamp"
    assert _lead_ids(ctx, "DAT") == ["DAT1"]


def _verify_numbers(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_numbers.csv")
    assert q[3] == "column number_of_employees: many is not a valid integer"
    assert q[4] == "column number_of_employees: 1,000 is not a valid integer"
    # a fraction is no integer: quarantined, not rounded to 13
    assert q.get(5) == "column number_of_employees: 12.5 is not a valid integer", q
    assert _lead_ids(ctx, "NUM") == ["NUM1", "NUM6"]
    assert ctx.raw(LEAD, "id = 'NUM6'", "number_of_employees") == [(250,)]
    qa = ctx.quarantine("salesforce", "salesforce/account/2026-07-01_numbers.csv")
    assert qa.get(2) == "column annual_revenue: 1.2.3 is not a valid number"
    # NaN and infinity are no amounts either
    assert qa.get(3) == "column annual_revenue: NaN is not a valid number", qa
    assert qa.get(4) == "column annual_revenue: Infinity is not a valid number", qa
    assert ctx.raw(ACCOUNT, "id like 'NUMA%'", "id, annual_revenue") == [("NUMA5", 1234.5)]


def _verify_types(ctx):
    q = ctx.quarantine("hubspot", "hubspot/contact/2026-07-01_types.jsonl")
    assert q[2] == "column id: abc is not a valid integer"
    assert q[3] == "column _fivetran_deleted: maybe is not a valid boolean"
    assert q[4] == "column property_lastmodifieddate: 1717000000 is not a valid timestamp"
    assert q[5] == "line is JSON but not an object"
    # 9001.5 is no integer id: quarantined, not rounded to another contact's id
    assert q.get(8) == "column id: 9001.5 is not a valid integer", q
    rows = dict(ctx.raw(CONTACT, "id between 9000 and 9010", "id, property_email"))
    # scalars in a text column are kept as their text, an object as its JSON text
    assert rows == {9000: "ok@x.com", 9006: "123", 9007: '{"x":1}'}
    qp = ctx.quarantine("product", "product/daily_usage/2026-07-01_types.parquet")
    assert qp == {2: "column active_users: x is not a valid integer"}


def _verify_empty(ctx):
    for system, relative in (("salesforce", f"{SF}/2026-07-01_empty.csv"),
                             ("hubspot", "hubspot/contact/2026-07-01_empty.jsonl"),
                             ("product", "product/daily_usage/2026-07-01_empty.parquet")):
        assert ctx.ledger(system, relative)[:4] == ("loaded", 0, 0, 0), relative


def _verify_truncated(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_trunc.csv")
    assert list(q) == [3] and "MISSING COLUMNS" in q[3]
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_trunc_quote.csv")
    assert list(q) == [3] and "UNQUOTED VALUE" in q[3]
    assert ctx.quarantine("hubspot", "hubspot/contact/2026-07-01_trunc.jsonl") == {2: "malformed JSON"}
    status, *_, error = ctx.ledger("product", "product/daily_usage/2026-07-01_trunc.parquet")
    assert status == "rejected"
    assert "product/daily_usage/2026-07-01_trunc.parquet: not a readable Parquet file" in error
    assert _lead_ids(ctx, "TRU") == ["TRU1", "TRU3"]


def _verify_header_only(ctx):
    assert ctx.ledger("salesforce", f"{SF}/2026-07-01_header.csv")[:4] == ("loaded", 0, 0, 0)
    assert ctx.ledger("product", "product/daily_usage/2026-07-01_header.parquet")[:4] == ("loaded", 0, 0, 0)


def _verify_encoding(ctx):
    q = ctx.quarantine("salesforce", f"{SF}/2026-07-01_latin1.csv")
    assert list(q) == [3] and "INVALID ENCODING" in q[3]
    q = ctx.quarantine("hubspot", "hubspot/contact/2026-07-01_latin1.jsonl")
    assert list(q) == [2] and "INVALID ENCODING" in q[2]
    assert _lead_ids(ctx, "ENC") == ["ENC1", "ENC3"]
    # a UTF-8 byte-order mark (Excel's "CSV UTF-8") is no reason to refuse the file
    status, *_, error = ctx.ledger("salesforce", f"{SF}/2026-07-01_bom.csv")
    assert status == "loaded", error
    assert _lead_ids(ctx, "BOM") == ["BOM1"]


def _verify_dup_within(ctx):
    assert ctx.raw(LEAD, "id = 'DUPW1'", "status, _landing_line") == [("Working - Contacted", 2)]


def _verify_dup_across(ctx):
    # same run: the newest updated-at wins whatever the file order
    assert ctx.raw(LEAD, "id = 'DUPX1'", "status") == [("Working - Contacted",)]
    # a later run with a newer version replaces it
    assert ctx.raw(LEAD, "id = 'DUPX2'", "status, _landing_file") == [
        ("Closed - Not Converted", f"{SF}/2026-07-09_dup_b.csv")]
    keys = ctx.con.execute("select count(*) - count(distinct id) from raw_salesforce.lead").fetchall()[0][0]
    assert keys == 0


def _verify_same_updated_at(ctx):
    # equal updated-at: within one load the later file (by name), then the later line wins;
    # across loads the version loaded later wins
    assert ctx.raw(LEAD, "id = 'TIE1'", "status, _landing_line") == [("Working - Contacted", 3)]
    assert ctx.raw(LEAD, "id = 'TIE2'", "status, _landing_file") == [
        ("Working - Contacted", f"{SF}/2026-07-01_tie_b.csv")]
    assert ctx.raw(LEAD, "id = 'TIE3'", "status, _landing_file") == [
        ("Closed - Not Converted", f"{SF}/2026-07-09_tie_c.csv")]


def _verify_out_of_order(ctx):
    assert ctx.raw(LEAD, "id = 'OOO1'", "status") == [("Closed - Converted",)]
    assert _lead_ids(ctx, "OOO") == ["OOO1", "OOO2", "OOO3"]


def _verify_late(ctx):
    # an older version arriving in a later run is not applied (and counted as stale)
    assert ctx.raw(LEAD, "id = 'LATE1'", "status") == [("Working - Contacted",)]
    assert ctx.metadata[(2, "salesforce", "lead")]["rows_stale_not_applied"] >= 1
    # a late event (it happened days before the file that carries it) is simply added
    assert ctx.raw(PAGES, "id like 'late-%' order by id", "id") == [("late-1",), ("late-2",)]


def _verify_future(ctx):
    # loaded as sent; a future updated-at then outranks every real update of the record
    assert ctx.raw(LEAD, "id = 'FUT1'", "status, year(last_modified_date)") == [("Working - Contacted", 2099)]
    assert ctx.raw(PAGES, "id = 'future-1'", "year(timestamp)") == [(2099,)]


def _verify_timezones(ctx):
    ctx.con.execute("set TimeZone = 'UTC'")
    rows = dict(ctx.raw(LEAD, "id in ('TZ1', 'TZ2', 'TZ3', 'TZ4')", "id, strftime(created_date, '%Y-%m-%d %H:%M')"))
    assert rows == {"TZ1": "2026-06-01 08:00", "TZ2": "2026-06-01 15:00", "TZ3": "2026-06-01 10:00",
                    "TZ4": "2026-06-01 10:00"}
    # versions compare as instants: 09:00Z is newer than 10:00+02:00 (08:00Z)
    assert ctx.raw(LEAD, "id = 'TZV'", "status") == [("Working - Contacted",)]


def _verify_unknown_stage(ctx):
    # ingestion has no stage vocabulary: the value loads; the dbt build refuses it (below)
    assert ctx.raw(LEAD, "id = 'STG1'", "status") == [("Nurture - Custom",)]


def _verify_missing_column(ctx):
    status, *_, error = ctx.ledger("salesforce", f"{SF}/2026-07-01_noemail.csv")
    assert status == "rejected"
    assert error.startswith(f"{SF}/2026-07-01_noemail.csv: required column(s) email missing")
    status, *_, error = ctx.ledger("hubspot", "hubspot/contact/2026-07-01_noemail.jsonl")
    assert status == "rejected" and "property_email" in error and "2026-07-01_noemail.jsonl" in error
    assert _lead_ids(ctx, "MIS") == []


def _verify_new_columns(ctx):
    assert ctx.ledger("salesforce", f"{SF}/2026-07-01_newcol.csv")[4] == "lead_grade"
    assert ctx.raw(LEAD, "id = 'NEW1'", "lead_grade") == [("A",)]
    assert ctx.raw(LEAD, "id = 'FEW1'", "lead_grade") == [(None,)]


def _verify_missing_day(ctx):
    # a missing export is not an ingestion error (it looks like a quiet day): the files that
    # are there load, and the raw freshness policy flags the table once no file arrives
    assert [r[0] for r in ctx.raw(ACCOUNT, "id like 'GAP%' order by id", "id")] == ["GAP1", "GAP3"]
    assert freshness_policy_for(AssetKey(["raw", "salesforce", "account"])) is RAW_FRESHNESS
    # a system with no file at all (zendesk here): its run succeeds, its raw tables exist, empty
    tables = ctx.con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw_zendesk' "
        "and table_name not like '\\_%' escape '\\'").fetchall()
    assert tables
    for (name,) in tables:
        assert ctx.con.execute(f"select count(*) from raw_zendesk.{name}").fetchall() == [(0,)]
    assert ctx.metadata[(1, "zendesk", "user")]["rows_read"] == 0


def _verify_many_events(ctx):
    assert ctx.raw(PAGES, "user_id = 'busy-user'", "count(*), count(distinct id)") == [(10_000, 10_000)]


def _verify_long(ctx):
    assert ctx.raw(LEAD, "id = 'LONG1'", "length(company), length(title)") == [(1_000_000, 100_000)]
    q = ctx.con.execute(
        "select line_number, reason, length(raw_content) from raw_salesforce._quarantine where relative_path = ?",
        [f"{SF}/2026-07-01_huge.csv"]).fetchall()
    assert len(q) == 1 and q[0][0] == 2 and "LINE SIZE OVER MAXIMUM" in q[0][1]
    assert q[0][2] <= 2000  # the quarantine keeps a bounded excerpt of the raw line
    assert _lead_ids(ctx, "HUGE") == ["HUGE2"]


_SQL_TEXT = "Robert'); DROP TABLE raw_salesforce.lead; --"
_SQL_COLUMN = "note\"); drop table raw_salesforce.lead; --"


def _verify_sql(ctx):
    assert ctx.raw(LEAD, "id = 'SQL1'", "company, title") == [(_SQL_TEXT, '" OR 1=1 --')]
    assert ctx.raw(LEAD, "id = 'SQL2'", f'"{_SQL_COLUMN.replace(chr(34), chr(34) * 2)}"') == [("'; select 1; --",)]
    assert ctx.con.execute("select count(*) from raw_salesforce.lead where id = 'FEW1'").fetchall() == [(1,)]


def _few(landing):
    short = ",".join(csv_line(lead(id="FEW2")).split(",")[:23])
    return write_csv(landing, f"{SF}/2026-07-01_few.csv", [lead(id="FEW1"), short, lead(id="FEW3")])


def _many(landing):
    return write_csv(landing, f"{SF}/2026-07-01_many.csv",
                     [lead(id="MANY1"), csv_line(lead(id="MANY2")) + ",x,y", lead(id="MANY3")])


def _quote(landing):
    return write_csv(landing, f"{SF}/2026-07-01_quote.csv", [
        lead(id="QUO1"), csv_line(lead(id="QUO2")).replace(",Acme,", ',"Acme,'), lead(id="QUO3"),
        csv_line(lead(id="QUO4")).replace(",Acme,", ',Ac"me,'),
        lead(id="QUO5", title="two\nlines"), lead(id="QUO6"),
    ])


def _dates(landing):
    return write_csv(landing, f"{SF}/2026-07-01_dates.csv", [
        lead(id="DAT1"), lead(id="DAT2", created_date="2026-13-45T99:00:00Z"),
        lead(id="DAT3", converted_date="2026-02-30"), lead(id="DAT4", last_modified_date="yesterday"),
    ])


def _numbers(landing):
    return write_csv(landing, f"{SF}/2026-07-01_numbers.csv", [
        lead(id="NUM1"), lead(id="NUM2", number_of_employees="many"), lead(id="NUM3", number_of_employees="1,000"),
        lead(id="NUM4", number_of_employees="12.5"), lead(id="NUM6", number_of_employees=" 250 "),
    ])


def _account_numbers(landing):
    account = list(_ACCOUNT_TEMPLATE)
    rows = [{**_ACCOUNT_TEMPLATE, "id": f"NUMA{i}", "annual_revenue": v}
            for i, v in enumerate(["1.2.3", "NaN", "Infinity"], start=1)]
    rows.append({**_ACCOUNT_TEMPLATE, "id": "NUMA5", "annual_revenue": "1234.5"})
    return write_csv(landing, "salesforce/account/2026-07-01_numbers.csv", rows, header=account)


def _types(landing):
    return write_jsonl(landing, "hubspot/contact/2026-07-01_types.jsonl", [
        contact(id=9000, property_email="ok@x.com"), contact(id="abc"), contact(id=9003, _fivetran_deleted="maybe"),
        contact(id=9004, property_lastmodifieddate=1717000000), "[9005]",
        contact(id=9006, property_email=123), contact(id=9007, property_email={"x": 1}), contact(id=9001.5),
    ])


def _usage_types(landing):
    return write_usage(landing, "product/daily_usage/2026-07-01_types.parquet",
                       [usage(account_id="ty1"), usage(account_id="ty2", active_users="x")])


def _empty(landing):
    return [write(landing, f"{SF}/2026-07-01_empty.csv", b""),
            write(landing, "hubspot/contact/2026-07-01_empty.jsonl", b""),
            write(landing, "product/daily_usage/2026-07-01_empty.parquet", b"")]


def _truncated(landing):
    body = ",".join(LEAD_HEADER) + "\n" + csv_line(lead(id="TRU1")) + "\n" + csv_line(lead(id="TRU2"))[:-40]
    quote = ",".join(LEAD_HEADER) + "\n" + csv_line(lead(id="TRU3")) + "\n" + csv_line(lead(id="TRU4")).split(",Acme")[0] + ',"Acme'
    whole = landing / "product/daily_usage/whole.tmp"
    write_usage(landing, "product/daily_usage/whole.tmp", [usage(account_id="tr1"), usage(account_id="tr2")])
    data = whole.read_bytes()
    whole.unlink()
    return [
        write(landing, f"{SF}/2026-07-01_trunc.csv", body.encode()),
        write(landing, f"{SF}/2026-07-01_trunc_quote.csv", quote.encode()),
        write(landing, "hubspot/contact/2026-07-01_trunc.jsonl",
              (json.dumps(contact(id=9100)) + "\n" + json.dumps(contact(id=9101))[:50]).encode()),
        write(landing, "product/daily_usage/2026-07-01_trunc.parquet", data[: len(data) // 2]),
    ]


def _header_only(landing):
    return [write_csv(landing, f"{SF}/2026-07-01_header.csv", []),
            write_usage(landing, "product/daily_usage/2026-07-01_header.parquet", [])]


def _encoding(landing):
    latin = (",".join(LEAD_HEADER) + "\n" + csv_line(lead(id="ENC1")) + "\n").encode() + \
        csv_line(lead(id="ENC2", company="Café")).encode("latin-1") + b"\n" + (csv_line(lead(id="ENC3")) + "\n").encode()
    jsonl = (json.dumps(contact(id=9200)) + "\n").encode() + \
        json.dumps(contact(id=9201, property_company="Café"), ensure_ascii=False).encode("latin-1") + b"\n"
    bom = b"\xef\xbb\xbf" + (",".join(LEAD_HEADER) + "\n" + csv_line(lead(id="BOM1")) + "\n").encode()
    return [write(landing, f"{SF}/2026-07-01_latin1.csv", latin),
            write(landing, "hubspot/contact/2026-07-01_latin1.jsonl", jsonl),
            write(landing, f"{SF}/2026-07-01_bom.csv", bom)]


def _dup_within(landing):
    return write_csv(landing, f"{SF}/2026-07-01_dup.csv", [
        lead(id="DUPW1", status="Working - Contacted", last_modified_date="2026-06-03T10:00:00Z"),
        lead(id="DUPW1", status="Open - Not Contacted", last_modified_date="2026-06-02T10:00:00Z"),
    ])


def _dup_across_1(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-01_dup_a.csv", [
            lead(id="DUPX1", status="Working - Contacted", last_modified_date="2026-06-05T10:00:00Z"),
            lead(id="DUPX2", status="Open - Not Contacted")]),
        write_csv(landing, f"{SF}/2026-07-02_dup_a.csv", [
            lead(id="DUPX1", status="Open - Not Contacted", last_modified_date="2026-06-04T10:00:00Z")]),
    ]


def _dup_across_2(landing):
    return write_csv(landing, f"{SF}/2026-07-09_dup_b.csv", [
        lead(id="DUPX2", status="Closed - Not Converted", last_modified_date="2026-06-20T10:00:00Z")])


def _tie_1(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-01_tie_a.csv", [
            lead(id="TIE1", status="Open - Not Contacted"), lead(id="TIE1", status="Working - Contacted"),
            lead(id="TIE2", status="Open - Not Contacted"), lead(id="TIE3", status="Working - Contacted")]),
        write_csv(landing, f"{SF}/2026-07-01_tie_b.csv", [lead(id="TIE2", status="Working - Contacted")]),
    ]


def _tie_2(landing):
    return write_csv(landing, f"{SF}/2026-07-09_tie_c.csv", [lead(id="TIE3", status="Closed - Not Converted")])


def _out_of_order(landing):
    return write_csv(landing, f"{SF}/2026-07-01_ooo.csv", [
        lead(id="OOO3", last_modified_date="2026-06-09T10:00:00Z"),
        lead(id="OOO1", status="Closed - Converted", last_modified_date="2026-06-08T10:00:00Z"),
        lead(id="OOO2", last_modified_date="2026-06-01T10:00:00Z"),
        lead(id="OOO1", status="Open - Not Contacted", last_modified_date="2026-06-02T10:00:00Z"),
        lead(id="OOO1", status="Working - Contacted", last_modified_date="2026-06-05T10:00:00Z"),
    ])


def _late_1(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-01_late.csv", [
            lead(id="LATE1", status="Working - Contacted", last_modified_date="2026-06-10T10:00:00Z")]),
        write_jsonl(landing, "segment/pages/2026-07-01_late.jsonl", [
            page(id="late-1", timestamp="2026-06-30T10:00:00Z", received_at="2026-06-30T10:00:01Z")]),
    ]


def _late_2(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-09_late.csv", [
            lead(id="LATE1", status="Open - Not Contacted", last_modified_date="2026-06-05T10:00:00Z")]),
        write_jsonl(landing, "segment/pages/2026-07-09_late.jsonl", [
            page(id="late-2", timestamp="2026-06-25T10:00:00Z", received_at="2026-07-08T10:00:00Z")]),
    ]


def _future(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-01_future.csv", [
            lead(id="FUT1", status="Working - Contacted", last_modified_date="2099-01-01T00:00:00Z")]),
        write_jsonl(landing, "segment/pages/2026-07-01_future.jsonl", [
            page(id="future-1", timestamp="2099-01-01T00:00:00Z")]),
    ]


def _timezones(landing):
    return [
        write_csv(landing, f"{SF}/2026-07-01_tz.csv", [
            lead(id="TZ1", created_date="2026-06-01T10:00:00+02:00"),
            lead(id="TZ2", created_date="2026-06-01T10:00:00-05:00"),
            lead(id="TZ3", created_date="2026-06-01 10:00:00"),  # no offset: UTC
            lead(id="TZ4", created_date="2026-06-01T10:00:00.000Z"),
            lead(id="TZV", status="Open - Not Contacted", last_modified_date="2026-06-05T10:00:00+02:00")]),
        write_csv(landing, f"{SF}/2026-07-01_tz_b.csv", [
            lead(id="TZV", status="Working - Contacted", last_modified_date="2026-06-05T09:00:00Z")]),
    ]


def _unknown_stage(landing):
    return write_csv(landing, f"{SF}/2026-07-01_stage.csv", [lead(id="STG1", status="Nurture - Custom")])


def _missing_column(landing):
    header = [c for c in LEAD_HEADER if c != "email"]
    no_email = {k: v for k, v in contact(id=9300).items() if k != "property_email"}
    return [write_csv(landing, f"{SF}/2026-07-01_noemail.csv", [lead(id="MIS1")], header=header),
            write_jsonl(landing, "hubspot/contact/2026-07-01_noemail.jsonl", [no_email])]


def _new_columns(landing):
    return write_csv(landing, f"{SF}/2026-07-01_newcol.csv", [lead(id="NEW1", lead_grade="A")],
                     header=LEAD_HEADER + ["lead_grade"])


def _missing_day(landing):
    header = list(_ACCOUNT_TEMPLATE)
    return [write_csv(landing, "salesforce/account/2026-07-01_gap.csv", [{**_ACCOUNT_TEMPLATE, "id": "GAP1"}], header),
            # no export on 2026-07-02
            write_csv(landing, "salesforce/account/2026-07-03_gap.csv", [{**_ACCOUNT_TEMPLATE, "id": "GAP3"}], header)]


def _many_events(landing):
    lines = [page(id=f"busy-{i}", anonymous_id="busy-anon", user_id="busy-user",
                  timestamp=f"2026-06-{1 + i % 28:02d}T{i % 24:02d}:00:00Z") for i in range(10_000)]
    return write_jsonl(landing, "segment/pages/2026-07-01_busy.jsonl", lines)


def _long(landing):
    huge = ",".join(LEAD_HEADER) + "\n" + csv_line(lead(id="HUGE1", company="x" * 11_000_000)) + "\n" + \
        csv_line(lead(id="HUGE2")) + "\n"
    return [write_csv(landing, f"{SF}/2026-07-01_long.csv", [lead(id="LONG1", company="é" * 1_000_000, title="t" * 100_000)]),
            write(landing, f"{SF}/2026-07-01_huge.csv", huge.encode())]


def _sql(landing):
    return [write_csv(landing, f"{SF}/2026-07-01_sql.csv", [lead(id="SQL1", company=_SQL_TEXT, title='" OR 1=1 --')]),
            write_csv(landing, f"{SF}/2026-07-01_sqlcol.csv", [lead(id="SQL2", **{_SQL_COLUMN: "'; select 1; --"})],
                      header=LEAD_HEADER + [_SQL_COLUMN])]


CASES = [
    Case("csv_too_few_columns", "row quarantined: malformed CSV row: MISSING COLUMNS (expected N found M); the other rows load",
         _phase1(_few), _verify_few),
    Case("csv_too_many_columns", "row quarantined: malformed CSV row: TOO MANY COLUMNS; the other rows load",
         _phase1(_many), _verify_many),
    Case("csv_bad_quoting", "unterminated quote: that line quarantined (UNQUOTED VALUE), the file re-read line by line "
         "so the rest loads; a stray quote inside a value is kept verbatim; a quoted newline inside a value "
         "(legal CSV) quarantines both physical lines", _phase1(_quote), _verify_quoting),
    Case("unparseable_dates", "row quarantined: column <name>: <value> is not a valid timestamp / date",
         _phase1(_dates), _verify_dates),
    Case("unparseable_numbers", "row quarantined: column <name>: <value> is not a valid integer / number "
         "(also 12.5 for an integer, NaN and Infinity); blanks around a number are fine",
         _phase1(_numbers, _account_numbers), _verify_numbers),
    Case("wrong_types", "JSON / Parquet value of the wrong type quarantined (column <name>: <value> is not a valid "
         "<type>; a line that is JSON but no object says so); a number or object in a text column is kept as its "
         "text", _phase1(_types, _usage_types), _verify_types),
    Case("empty_files", "ledger entry 'loaded' with 0 rows read, loaded, quarantined (CSV, JSONL, Parquet)",
         _phase1(_empty), _verify_empty),
    Case("truncated_files", "a cut last line is quarantined (MISSING COLUMNS, UNQUOTED VALUE, malformed JSON); "
         "a cut Parquet file is rejected whole: ledger 'rejected', error '<file>: not a readable Parquet file'",
         _phase1(_truncated), _verify_truncated),
    Case("header_only_file", "ledger entry 'loaded' with 0 rows", _phase1(_header_only), _verify_header_only),
    Case("non_utf8_bytes", "row quarantined: INVALID ENCODING (CSV and JSONL); a UTF-8 byte-order mark is "
         "skipped and the file loads", _phase1(_encoding), _verify_encoding),
    Case("duplicate_pk_within_file", "newest updated-at wins; raw holds one row per key", _phase1(_dup_within),
         _verify_dup_within),
    Case("duplicate_pk_across_files", "newest updated-at wins across files of a run and across runs; "
         "one row per key", _phases([_dup_across_1], [_dup_across_2]), _verify_dup_across),
    Case("conflicting_same_updated_at", "deterministic: in one load the later file name, then the later line "
         "wins; across loads the version loaded later wins", _phases([_tie_1], [_tie_2]), _verify_same_updated_at),
    Case("out_of_order_records", "order in the file does not matter: newest updated-at wins",
         _phase1(_out_of_order), _verify_out_of_order),
    Case("late_records", "an older version arriving later is not applied (rows_stale_not_applied); a late event "
         "is added", _phases([_late_1], [_late_2]), _verify_late),
    Case("future_timestamps", "loaded as sent (no clock check at ingestion); a future updated-at outranks later "
         "real updates", _phase1(_future), _verify_future),
    Case("other_timezones", "offsets honoured, stored as UTC instants; no offset means UTC; versions compare as "
         "instants", _phase1(_timezones), _verify_timezones),
    Case("unknown_stage_value", "loaded to raw; dbt build fails: int_unmapped_stage_values names value, system, "
         "table and field (test every_stage_value_is_mapped)", _phase1(_unknown_stage), _verify_unknown_stage),
    Case("missing_required_column", "file rejected: ledger 'rejected', error '<file>: required column(s) <col> "
         "missing'; the rest of the batch loads", _phase1(_missing_column), _verify_missing_column),
    Case("new_column", "added to the raw table as text, listed in the ledger's new_columns",
         _phase1(_new_columns), _verify_new_columns),
    Case("source_missing_for_a_day", "no ingestion error (a gap looks like a quiet day); the files present load; "
         "the raw freshness policy (warn 26 h, fail 50 h) flags the table; a system without any file loads "
         "nothing and its raw tables stay empty", _phase1(_missing_day), _verify_missing_day),
    Case("person_with_10000_events", "all 10,000 events loaded", _phase1(_many_events), _verify_many_events),
    Case("very_long_strings", "1 MB values load intact; a line over 10 MB is quarantined (LINE SIZE OVER MAXIMUM) "
         "with a 2,000-character excerpt", _phase1(_long), _verify_long),
    Case("sql_looking_text", "loaded verbatim as data (values and column names are parameters or quoted "
         "identifiers); nothing executed", _phase1(_sql), _verify_sql),
]

SUMMARY: dict[str, dict] = {}


# --------------------------------------------------------------------------- running them


def ingest(settings) -> dict:
    result = materialize(
        build_ingestion_assets(settings),
        resources={"dlt_resource": DagsterDltResource()},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return {
        tuple(e.asset_key.path[1:]): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def rows_in(path: Path) -> int:
    """Records a file holds, counted without the ingestion's parser: physical lines
    (CSV without its header, JSONL without blank lines), Parquet's row count."""
    data = path.read_bytes()
    if not data:
        return 0
    if path.suffix == ".parquet":
        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # unreadable: the whole file is refused, its rows unknown
            return 0
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    if path.suffix == ".jsonl":
        return sum(1 for line in lines if line.strip())
    return len(lines) - 1


@pytest.fixture(scope="module")
def landed(tmp_path_factory, dbt_manifest):
    root = tmp_path_factory.mktemp("bad_input")
    settings = make_settings(root)
    metadata = {}
    for phase in (1, 2):
        for case in CASES:
            for written in case.write(settings.landing_dir, phase):
                case.files.extend(written if isinstance(written, list) else [written])
        metadata.update({(phase, *key): value for key, value in ingest(settings).items()})
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield Context(con, settings, metadata)


def account(ctx: Context, case: Case) -> dict:
    """Rows in / loaded / quarantined / in rejected files / lost over the case's files."""
    totals = dict(files=0, rows_in=0, loaded=0, quarantined=0, rejected=0, lost=0)
    for relative in case.files:
        system = relative.split("/")[0]
        status, read, loaded, quarantined, _, error = ctx.ledger(system, relative)
        counted = rows_in(ctx.settings.landing_dir / relative)
        totals["files"] += 1
        totals["rows_in"] += counted
        if status == "rejected":
            assert relative in error, (relative, error)  # the error names the file
            totals["rejected"] += counted
            continue
        assert read == counted, f"{relative}: ledger read {read}, file holds {counted}"
        in_quarantine = ctx.con.execute(
            f"select count(*) from raw_{system}._quarantine where relative_path = ?", [relative]
        ).fetchall()[0][0]
        assert in_quarantine == quarantined, relative
        # every quarantine row says why, and where
        assert not ctx.con.execute(
            f"select 1 from raw_{system}._quarantine where relative_path = ? and "
            "(coalesce(reason, '') = '' or line_number is null)", [relative]).fetchall()
        totals["loaded"] += loaded
        totals["quarantined"] += quarantined
        totals["lost"] += counted - loaded - quarantined
    return totals


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_case(case: Case, landed: Context):
    SUMMARY[case.name] = account(landed, case)  # recorded before the outcome is checked
    assert SUMMARY[case.name]["lost"] == 0, SUMMARY[case.name]
    case.verify(landed)


def test_unknown_stage_value_stops_the_build_naming_it(landed: Context):
    """The unknown-stage case through dbt: the staging models and the unmapped-value model
    build, and the test every_stage_value_is_mapped fails naming the value and its source."""
    root = landed.settings.warehouse_dir.parent
    copy = root / "stage_check.duckdb"
    copy.write_bytes(landed.settings.warehouse_path.read_bytes())  # the fixture holds a read connection
    env = {**os.environ, "WAREHOUSE_PATH": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    common = ["--project-dir", str(landed.settings.dbt_project_dir), "--profiles-dir",
              str(landed.settings.dbt_profiles_dir), "--target-path", str(root / "dbt_target"),
              "--log-path", str(root / "dbt_logs")]
    # one dbt invocation: the seeds and models upstream of the check and the check itself,
    # without the other tests (the bad-input warehouse breaks some on purpose)
    build = subprocess.run(
        [sys.executable, "-m", "dbt.cli.main", "build", *common, "--indirect-selection", "empty", "--select",
         "+int_unmapped_stage_values,resource_type:model", "+int_unmapped_stage_values,resource_type:seed",
         "every_stage_value_is_mapped"],
        env=env, capture_output=True, text=True)
    assert build.returncode != 0
    assert "Failure in test every_stage_value_is_mapped" in build.stdout, build.stdout[-3000:]
    assert "ERROR creating" not in build.stdout and "SKIP relation" not in build.stdout, build.stdout[-3000:]
    # the build log names the value, its system, table and field
    assert 'unmapped stage value "Nurture - Custom" in salesforce.lead.status' in build.stdout
    with duckdb.connect(str(copy), read_only=True) as con:
        unmapped = con.execute(
            "select source_system, source_object, source_field, source_value, example_source_record_id, message "
            "from intermediate.int_unmapped_stage_values").fetchall()
    assert [row[:5] for row in unmapped] == [("salesforce", "lead", "status", "Nurture - Custom", "STG1")]
    assert '"Nurture - Custom" in salesforce.lead.status' in unmapped[0][5]


def test_zz_summary_no_row_lost(capsys):
    """Printed at the end (past pytest's capture, so `make test` shows it too): cases tried
    and rows in / loaded / quarantined / in rejected files / lost."""
    assert SUMMARY, "no case ran"
    header = f"{'case':<30} {'files':>5} {'rows in':>8} {'loaded':>8} {'quarant.':>8} {'rejected':>8} {'lost':>5}"
    lines = ["", "bad-input summary (rejected = rows in files refused whole, kept in the landing zone)", header,
             "-" * len(header)]
    total = dict(files=0, rows_in=0, loaded=0, quarantined=0, rejected=0, lost=0)
    for name, row in SUMMARY.items():
        lines.append(f"{name:<30} {row['files']:>5} {row['rows_in']:>8} {row['loaded']:>8} "
                     f"{row['quarantined']:>8} {row['rejected']:>8} {row['lost']:>5}")
        total = {k: total[k] + row[k] for k in total}
    lines.append("-" * len(header))
    lines.append(f"{f'{len(SUMMARY)} cases tried':<30} {total['files']:>5} {total['rows_in']:>8} {total['loaded']:>8} "
                 f"{total['quarantined']:>8} {total['rejected']:>8} {total['lost']:>5}")
    with capsys.disabled():
        print("\n".join(lines))
    assert total["rows_in"] == total["loaded"] + total["quarantined"] + total["rejected"]
    assert total["lost"] == 0
