"""The streaming JSON-lines path (no table of lines, line numbers from row ids) against the
line-table path it stands in for: the same rows, line numbers, quarantine and drift, and
the line-table path whenever the streaming reader cannot account for every line."""

from __future__ import annotations

import json

import duckdb
import pytest

from orchestration.ingestion import parse
from orchestration.ingestion.parse import _KEY_SAMPLE, parse_file
from orchestration.sources.schemas import get_table

PAGES = get_table("segment", "pages")
_GOOD = {c: None for c in PAGES.columns} | {
    "timestamp": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:01Z", "anonymous_id": "a",
    "url": "https://x", "path": "/",
}


def page(**values) -> str:
    return json.dumps(_GOOD | values)


@pytest.fixture
def streaming_calls(monkeypatch):
    """What each call of the streaming path returned (None: it handed over to the line table)."""
    calls = []
    real = parse._parse_jsonl_streaming

    def spy(*args, **kwargs):
        calls.append(real(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(parse, "_parse_jsonl_streaming", spy)
    return calls


def _both_paths(path, monkeypatch, relative="segment/pages/p.jsonl"):
    """Parse `path` on the streaming path and on the line-table path, inside a warehouse-like
    connection (accepted rows left as a view, as the DuckDB fast path of the ingestion does)."""
    results = {}
    with duckdb.connect() as con:
        real = parse._parse_jsonl_streaming
        for mode in ("streaming", "lines"):
            if mode == "lines":
                monkeypatch.setattr(parse, "_parse_jsonl_streaming", lambda *a, **k: None)
            parsed = parse_file(path, PAGES, relative, con=con, keep_as=f"_accepted_{mode}")
            rows = con.sql(f"select * from _accepted_{mode} order by _landing_line").to_arrow_table().to_pylist()
            results[mode] = (parsed, [{k: r[k] for k in sorted(r)} for r in rows])
        monkeypatch.setattr(parse, "_parse_jsonl_streaming", real)
    return results


def test_streaming_path_gives_the_line_table_result(tmp_path, monkeypatch, streaming_calls):
    lines = [page(id=f"p{i}") for i in range(_KEY_SAMPLE + 3)]
    lines[1] = ""  # blank: neither a row nor quarantined
    lines[2] = "   "
    lines[3] = "{broken"
    lines[4] = "[1, 2]"
    lines[5] = page(id="p5", timestamp="yesterday")
    lines[6] = page(id="")
    lines[7] = "  " + page(id="p7-indented")
    lines += [page(id="late-new", late_column="drift"), page(id="last")]  # drift past the key sample
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines) + "\n")

    results = _both_paths(path, monkeypatch)
    assert streaming_calls and streaming_calls[0] is not None  # the streaming path did the work
    (fast, fast_rows), (slow, slow_rows) = results["streaming"], results["lines"]
    assert fast_rows == slow_rows
    assert fast.quarantined == slow.quarantined
    assert (fast.rows_read, fast.rows_accepted, fast.rows_quarantined, fast.new_columns) == (
        slow.rows_read, slow.rows_accepted, slow.rows_quarantined, slow.new_columns
    )
    # and what that result is: lines by number, blank lines not counted, drift found late
    assert fast.rows_read == len(lines) - 2
    assert {q["line"]: q["reason"] for q in fast.quarantined} == {
        4: "malformed JSON",
        5: "line is JSON but not an object",
        6: "column timestamp: yesterday is not a valid timestamp",
        7: "primary key column id is empty",
    }
    assert fast.quarantined[0]["raw"] == "{broken"
    by_id = {r["id"]: r for r in fast_rows}
    assert by_id["p0"]["_landing_line"] == 1 and by_id["p7-indented"]["_landing_line"] == 8
    assert by_id["last"]["_landing_line"] == len(lines)
    assert by_id["late-new"]["late_column"] == "drift" and fast.new_columns == ["late_column"]
    assert {r["_landing_file"] for r in fast_rows} == {"segment/pages/p.jsonl"}


def test_a_line_the_reader_refuses_hands_the_file_to_the_line_table(tmp_path, streaming_calls):
    lines = [page(id="p1").encode(), b'{"id": "caf\xe9"}', page(id="p3").encode()]
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    parsed = parse_file(path, PAGES, "p.jsonl")
    assert streaming_calls == [None]
    assert sorted((r["id"], r["_landing_line"]) for r in parsed.accepted.to_pylist()) == [("p1", 1), ("p3", 3)]
    assert [q["line"] for q in parsed.quarantined] == [2]
    assert "unreadable line" in parsed.quarantined[0]["reason"]


def test_a_row_count_that_differs_from_the_newline_count_is_not_trusted(tmp_path, streaming_calls):
    """A carriage return inside a line makes the reader see two rows where the newline
    count sees one: the streaming path must not number lines by row id then."""
    path = tmp_path / "p.jsonl"
    path.write_bytes(page(id="p1").encode() + b"\r" + page(id="p2").encode() + b"\n" + page(id="p3").encode() + b"\n")
    with pytest.raises(RuntimeError, match="cannot all be accounted for"):
        parse_file(path, PAGES, "p.jsonl")
    assert streaming_calls == [None]


def test_without_insertion_order_the_line_table_numbers_the_lines(tmp_path, streaming_calls):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([page(id="p1"), "{broken", page(id="p3")]) + "\n")
    with duckdb.connect() as con:
        con.execute("set preserve_insertion_order = false")
        parsed = parse_file(path, PAGES, "p.jsonl", con=con, keep_as="_accepted")
        rows = con.execute("select id, _landing_line from _accepted order by _landing_line").fetchall()
    assert streaming_calls == [None]
    assert rows == [("p1", 1), ("p3", 3)] and [q["line"] for q in parsed.quarantined] == [2]
