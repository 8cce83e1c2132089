"""Reading one landing file: every line accounted for, bad lines quarantined with reasons."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.ingestion.parse import FileRejected, parse_file
from orchestration.sources.schemas import get_table

LEAD = get_table("salesforce", "lead")
PAGES = get_table("segment", "pages")
USAGE = get_table("product", "daily_usage")


def lead_row(**values) -> list[str]:
    row = dict.fromkeys(LEAD.columns, "")
    row.update(
        id="00Q1", _fivetran_synced="2026-06-02T10:00:00Z", last_name="Lee", name="Ann Lee",
        email="a@b.com", company="Acme", status="Open - Not Contacted", owner_id="005",
        is_converted="false", is_deleted="false", created_date="2026-06-01T10:00:00+02:00",
        last_modified_date="2026-06-02T10:00:00Z", system_modstamp="2026-06-02T10:00:00Z",
    )
    row.update(values)
    return [row[c] for c in LEAD.columns]


def write_csv(path, rows: list[str]):
    path.write_bytes(("\n".join([",".join(LEAD.columns), *rows]) + "\n").encode())
    return path


def test_clean_csv_is_typed_to_the_contract(tmp_path):
    parsed = parse_file(write_csv(tmp_path / "f.csv", [",".join(lead_row())]), LEAD, "f.csv")
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_quarantined) == (1, 1, 0)
    row = parsed.accepted.to_pylist()[0]
    assert row["is_deleted"] is False
    assert row["created_date"].isoformat() == "2026-06-01T08:00:00+00:00"  # offset honoured, kept in UTC
    assert row["_landing_line"] == 2


def test_bad_rows_are_quarantined_with_line_and_reason_and_good_rows_load(tmp_path):
    rows = [
        ",".join(lead_row(id="00Q1")),
        ",".join(lead_row(id="00Q2"))[:40],  # truncated: too few columns
        ",".join(lead_row(id="00Q3", created_date="2026-13-45T99:00:00Z")),
        ",".join(lead_row(id="00Q4", number_of_employees="many")),
        ",".join(lead_row(id="00Q5")) + ",extra",
        ",".join(lead_row(id="")),
        ",".join(lead_row(id="00Q7")),
    ]
    parsed = parse_file(write_csv(tmp_path / "f.csv", rows), LEAD, "f.csv")
    assert parsed.rows_read == 7
    accepted = sorted(parsed.accepted.to_pylist(), key=lambda r: r["_landing_line"])
    assert [(r["id"], r["_landing_line"]) for r in accepted] == [("00Q1", 2), ("00Q7", 8)]
    reasons = {q["line"]: q["reason"] for q in parsed.quarantined}
    assert "MISSING COLUMNS" in reasons[3]
    assert "column created_date: 2026-13-45T99:00:00Z is not a valid timestamp" in reasons[4]
    assert "column number_of_employees: many is not a valid integer" in reasons[5]
    assert "TOO MANY COLUMNS" in reasons[6]
    assert "primary key column id is empty" in reasons[7]
    assert all(q["raw"] for q in parsed.quarantined)


def test_booleans_in_every_spelling_the_contract_accepts(tmp_path):
    spellings = {"true": True, "false": False, " TRUE ": True, "t": True, "Yes": True, "0": False,
                 "\tno": False, "F ": False, "": None, " ": None}
    rows = [",".join(lead_row(id=f"00Q{i}", is_converted=text)) for i, text in enumerate(spellings)]
    rows.append(",".join(lead_row(id="00Qx", is_converted="maybe")))
    parsed = parse_file(write_csv(tmp_path / "f.csv", rows), LEAD, "f.csv")
    typed = {r["id"]: r["is_converted"] for r in parsed.accepted.to_pylist()}
    assert typed == {f"00Q{i}": value for i, value in enumerate(spellings.values())}
    assert [q["reason"] for q in parsed.quarantined] == ["column is_converted: maybe is not a valid boolean"]


def test_an_unterminated_quote_does_not_swallow_the_rest_of_the_file(tmp_path):
    rows = [",".join(lead_row(id="00Q1")), ",".join(lead_row(id="00Q2", company='"Acme')),
            ",".join(lead_row(id="00Q3"))]
    parsed = parse_file(write_csv(tmp_path / "f.csv", rows), LEAD, "f.csv")
    assert sorted(r["id"] for r in parsed.accepted.to_pylist()) == ["00Q1", "00Q3"]
    assert [q["line"] for q in parsed.quarantined] == [3]


def test_a_bare_carriage_return_in_a_field_quarantines_only_its_row(tmp_path):
    """DuckDB's CSV reader stops at a carriage return inside an unquoted field; the file is
    then read line by line and only that row is quarantined."""
    rows = [",".join(lead_row(id="00Q1")), ",".join(lead_row(id="00Q2", company="Ac\rme")),
            ",".join(lead_row(id="00Q3"))]
    parsed = parse_file(write_csv(tmp_path / "f.csv", rows), LEAD, "f.csv")
    assert sorted(r["id"] for r in parsed.accepted.to_pylist()) == ["00Q1", "00Q3"]
    assert [(q["line"], "malformed CSV row" in q["reason"]) for q in parsed.quarantined] == [(3, True)]


def test_non_utf8_bytes_are_quarantined(tmp_path):
    path = write_csv(tmp_path / "f.csv", [",".join(lead_row(id="00Q1"))])
    with path.open("ab") as handle:
        handle.write(",".join(lead_row(id="00Q2", company="Caf\xe9")).encode("latin-1") + b"\n")
    parsed = parse_file(path, LEAD, "f.csv")
    assert parsed.rows_accepted == 1
    assert parsed.quarantined[0]["line"] == 3 and "ENCODING" in parsed.quarantined[0]["reason"]


def test_empty_and_header_only_files_load_nothing_and_lose_nothing(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = write_csv(tmp_path / "header.csv", [])
    for path in (empty, header_only):
        parsed = parse_file(path, LEAD, path.name)
        assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_quarantined) == (0, 0, 0)


def test_missing_required_column_rejects_the_file_naming_file_and_column(tmp_path):
    columns = [c for c in LEAD.columns if c != "email"]
    path = tmp_path / "f.csv"
    path.write_text(",".join(columns) + "\n")
    with pytest.raises(FileRejected, match=r"salesforce/lead/f\.csv: required column\(s\) email missing"):
        parse_file(path, LEAD, "salesforce/lead/f.csv")


def test_jsonl_lines_that_are_not_objects_are_quarantined(tmp_path):
    good = {c: None for c in PAGES.columns} | {
        "id": "p1", "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z",
        "anonymous_id": "a", "url": "https://x", "path": "/",
    }
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join([json.dumps(good), "{broken", "[1, 2]", "", json.dumps(good | {"id": "p2", "timestamp": "yesterday"}),
                   json.dumps(good | {"id": "p3", "campaign_extra": "new"})]) + "\n"
    )
    parsed = parse_file(path, PAGES, "p.jsonl")
    assert parsed.rows_read == 5  # the blank line is not a record
    assert sorted((r["id"], r["_landing_line"]) for r in parsed.accepted.to_pylist()) == [("p1", 1), ("p3", 6)]
    reasons = {q["line"]: q["reason"] for q in parsed.quarantined}
    assert reasons == {
        2: "malformed JSON",
        3: "line is JSON but not an object",
        5: "column timestamp: yesterday is not a valid timestamp",
    }
    assert parsed.new_columns == ["campaign_extra"]


def test_jsonl_blanks_around_lines_and_values(tmp_path):
    """Blanks decide only where they lead: a line of blanks is no record, an object after
    blanks is one, a blank value is a null (a blank key is an empty key), and a line that
    only starts like an object is malformed."""
    good = {c: None for c in PAGES.columns} | {
        "id": "p1", "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z",
        "anonymous_id": "a", "url": "https://x", "path": "/",
    }
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join([
            json.dumps(good),
            "   ",
            "\t " + json.dumps(good | {"id": "p3"}),
            "\t",
            json.dumps(good | {"id": "p5", "received_at": " \t"}),
            json.dumps(good | {"id": " "}),
            " [1]",
            "{" + json.dumps(good | {"id": "p8"}),
            json.dumps(good | {"id": "p9", "timestamp": "\t2026-06-01T10:00:00Z "}),
        ]) + "\n"
    )
    parsed = parse_file(path, PAGES, "p.jsonl")
    assert parsed.rows_read == 7  # the two lines of blanks are no records
    accepted = {r["id"]: r for r in parsed.accepted.to_pylist()}
    assert sorted((i, r["_landing_line"]) for i, r in accepted.items()) == [("p1", 1), ("p3", 3), ("p5", 5), ("p9", 9)]
    assert accepted["p5"]["received_at"] is None
    assert accepted["p9"]["timestamp"] == accepted["p1"]["timestamp"]
    assert {q["line"]: q["reason"] for q in parsed.quarantined} == {
        6: "primary key column id is empty",
        7: "line is JSON but not an object",
        8: "malformed JSON",
    }


def test_jsonl_keys_that_first_appear_past_the_key_sample_are_still_added(tmp_path):
    """The first lines' keys pick the extracted columns; a key that shows up only later (a
    new column, a key in another order, a missing optional one) is caught in the same pass."""
    from orchestration.ingestion.parse import _KEY_SAMPLE

    base = {c: None for c in PAGES.columns} | {
        "id": "p", "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z",
        "anonymous_id": "a", "url": "https://x", "path": "/",
    }
    lines = [json.dumps(base | {"id": f"p{i}"}) for i in range(_KEY_SAMPLE + 5)]
    reordered = {"url": "https://y"} | {k: v for k, v in base.items() if k not in ("url", "title")}
    lines += [json.dumps(reordered | {"id": "late-reordered"}),
              json.dumps(base | {"id": "late-new", "late_column": "drift"})]
    path = tmp_path / "late.jsonl"
    path.write_text("\n".join(lines) + "\n")
    parsed = parse_file(path, PAGES, "late.jsonl")
    assert parsed.new_columns == ["late_column"]
    assert parsed.rows_read == parsed.rows_accepted == len(lines)
    rows = {r["id"]: r for r in parsed.accepted.to_pylist() if r["id"].startswith("late")}
    assert rows["late-new"]["late_column"] == "drift" and rows["late-new"]["_landing_line"] == len(lines)
    assert rows["late-reordered"]["url"] == "https://y" and rows["late-reordered"]["late_column"] is None


def test_parquet_with_a_wrong_type_quarantines_rows_by_row_number(tmp_path):
    columns = {c: pa.array([None, None], pa.string()) for c in USAGE.columns}
    columns |= {
        "account_id": pa.array(["a1", "a2"]),
        "date_day": pa.array(["2026-06-01", "not a day"]),
        "active_users": pa.array(["3", "4"]),
        "updated_at": pa.array(["2026-06-02T00:00:00Z", "2026-06-02T00:00:00Z"]),
    }
    path = tmp_path / "u.parquet"
    pq.write_table(pa.table(columns), path)
    parsed = parse_file(path, USAGE, "u.parquet")
    assert parsed.rows_read == 2 and parsed.rows_accepted == 1
    assert parsed.quarantined[0]["line"] == 2
    assert "column date_day: not a day is not a valid date" in parsed.quarantined[0]["reason"]


def test_line_numbers_stay_exact_around_lines_the_reader_rejects(tmp_path):
    good = {c: None for c in PAGES.columns} | {
        "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z", "anonymous_id": "a",
    }
    lines = [json.dumps(good | {"id": "p1"}).encode(), b'{"id": "caf\xe9"}', b'{"id": "\xff\xfe"}',
             json.dumps(good | {"id": "p4"}).encode(), b'{"id": "\xe9"}', json.dumps(good | {"id": "p6"}).encode()]
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path, PAGES, "p.jsonl")
    assert sorted((r["id"], r["_landing_line"]) for r in parsed.accepted.to_pylist()) == [
        ("p1", 1), ("p4", 4), ("p6", 6)
    ]
    assert [q["line"] for q in parsed.quarantined] == [2, 3, 5]


def test_line_numbers_stay_exact_with_many_rejected_lines(tmp_path):
    """Past 64 breakpoints the line numbers come from an ASOF join: the same answer."""
    good = {c: None for c in PAGES.columns} | {
        "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z", "anonymous_id": "a",
    }
    lines, expected = [], []
    for number in range(1, 301):
        if number % 3 == 0:
            lines.append(b'{"id": "\xff"}')  # rejected by the reader (not UTF-8)
        else:
            lines.append(json.dumps(good | {"id": f"p{number}"}).encode())
            expected.append((f"p{number}", number))
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path, PAGES, "p.jsonl")
    assert sorted((r["_landing_line"], r["id"]) for r in parsed.accepted.to_pylist()) == sorted(
        (line, rid) for rid, line in expected
    )
    assert [q["line"] for q in parsed.quarantined] == list(range(3, 301, 3))
