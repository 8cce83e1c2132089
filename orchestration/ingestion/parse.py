"""Reading one landing file: DuckDB's own readers, typing to the source contract, and a
quarantine row (file, line, raw content, reason) for every row that cannot be loaded.

Every line of a file is accounted for: rows read = rows accepted + rows quarantined.
The counts are checked against an independent count of the file's lines, so a reader
that swallowed lines (an unterminated quote eats the rest of a CSV file) is caught and
the file is re-read line by line instead of losing rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.ingestion.ledger import sha256_and_lines
from orchestration.sources.schemas import SourceTable

# contract type code -> DuckDB type
DUCKDB_TYPES = {
    "s": "varchar",
    "i": "bigint",
    "f": "double",
    "b": "boolean",
    "t": "timestamptz",
    "d": "date",
}
TYPE_NAMES = {
    "s": "text",
    "i": "integer",
    "f": "number",
    "b": "boolean",
    "t": "timestamp",
    "d": "date",
}
# an unlikely 2-byte delimiter, so that DuckDB hands over each line whole
_WHOLE_LINE = "\x1f\x1e"
_RAW_LIMIT = 2000  # characters of raw content kept per quarantined row


class FileRejected(Exception):
    """The whole file cannot be loaded (e.g. a required column is missing)."""


@dataclass
class ParsedFile:
    relative_path: str
    rows_read: int = 0
    # the accepted rows: an Arrow table, or (when parsed inside the warehouse connection)
    # the name of a temporary table there
    accepted: pa.Table | None = None
    accepted_table: str | None = None
    accepted_count: int = 0
    quarantined: list[dict] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)

    @property
    def rows_accepted(self) -> int:
        if self.accepted_table is not None:
            return self.accepted_count
        return 0 if self.accepted is None else self.accepted.num_rows

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantined)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _exec(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> None:
    """Run a statement to completion (DuckDB 2 keeps a result open until fetched)."""
    con.execute(sql, params).fetchall()


def _prepare_session(con: duckdb.DuckDBPyConnection) -> None:
    # naive timestamps in exports are UTC; offsets are honoured
    _exec(con, "set TimeZone = 'UTC'")
    _exec(con, "set enable_progress_bar = false")
    for leftover in ("rejects", "reject_scans"):
        _exec(con, f"drop table if exists {leftover}")


@contextmanager
def _session(con: duckdb.DuckDBPyConnection | None):
    """The caller's connection (the warehouse, for the DuckDB fast path) or a private one."""
    if con is not None:
        _prepare_session(con)
        yield con
        return
    with duckdb.connect() as own:
        _prepare_session(own)
        yield own


def _keep_accepted(con, parsed: "ParsedFile", keep_as: str | None, added: str = "") -> None:
    """Hand the accepted rows over: as Arrow, or left in the connection as a temp table.

    `added`: SQL for columns the typed table does not store but derives (the streaming
    JSON path stores neither the file name nor the line number, see `_LINE_BY_ROWID`)."""
    if keep_as is None:
        parsed.accepted = con.sql(f"select * exclude (_reason, _raw){added} from typed where _reason = ''").to_arrow_table()
        return
    # no copy: the typed rows stay where they are, the accepted ones seen through a view
    _exec(con, f"drop table if exists {keep_as}_typed")
    _exec(con, f"alter table typed rename to {keep_as}_typed")
    _exec(con, f"create or replace temp view {keep_as} as select * exclude (_reason, _raw){added} from {keep_as}_typed where _reason = ''")
    parsed.accepted_table = keep_as
    parsed.accepted_count = con.execute(f"select count(*) from {keep_as}").fetchall()[0][0]


def drop_accepted(con, keep_as: str) -> None:
    """Drop what `_keep_accepted` left in the connection once it has been merged."""
    _exec(con, f"drop view if exists {keep_as}")
    _exec(con, f"drop table if exists {keep_as}_typed")


def _release(con) -> None:
    """Drop the file's working tables: only the accepted rows outlive the parse."""
    _exec(con, "drop view if exists numbered")
    for name in ("typed", "lines", "rows"):
        _exec(con, f"drop table if exists {name}")


def _count_lines(path: Path, known=None) -> int:
    """Physical lines, counted without any parser: the independent side of the accounting
    (`known` when the caller counted them already, with the checksum; a callable when that
    count is still running beside the parse)."""
    if callable(known):
        known = known()
    if known is not None:
        return known
    return sha256_and_lines(path)[1]


_NATIVE_MATCHES = {
    "s": ("VARCHAR",),
    "i": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"),
    "f": ("DOUBLE", "FLOAT"),
    "b": ("BOOLEAN",),
    "t": ("TIMESTAMP WITH TIME ZONE",),
    "d": ("DATE",),
}


# the characters a blank value or line is made of: tab, LF, VT, FF, CR and space (DuckDB's
# trim() alone strips only spaces)
_BLANK_CODES = (9, 10, 11, 12, 13, 32)
_BLANKS = "(" + " || ".join(f"chr({code})" for code in _BLANK_CODES) + ")"


def _trim(text: str, side: str = "") -> str:
    return f"{side}trim({text}, {_BLANKS})"


def _starts_blank(text: str) -> str:
    return f"ascii({text}) in {_BLANK_CODES}"


def _blank(text: str) -> str:
    """`text` (not null) is empty or only blanks; trimmed only when its first character is
    a blank (trimming every value of a column costs more than typing it).

    A CASE, not `or` / `and`: in a select list DuckDB evaluates every operand of `or` and
    `and` on every row, while a CASE evaluates a branch only on the rows its condition
    selects (a select list that trimmed every line of a 1.5 GB file spent 2.2 of its 14
    CPU-seconds on it)."""
    return f"(case when {text} = '' then true when {_starts_blank(text)} then {_trim(text)} = '' else false end)"


def _cast(kind: str, text: str) -> str:
    """The contract type of `text`, null when blank or invalid (DuckDB's casts skip the
    blanks around a value, so the text is not trimmed first)."""
    if kind == "b":
        # the exporters' own spelling first: most values are never trimmed or lowered
        return (
            f"case when {text} in ('true', 'false') then {text} = 'true' "
            f"when lower({_trim(text)}) in ('true', 't', '1', 'yes') then true "
            f"when lower({_trim(text)}) in ('false', 'f', '0', 'no') then false end"
        )
    if kind == "s":
        return f"cast({text} as varchar)"
    if kind == "i":
        # DuckDB rounds a fraction cast to an integer ('12.5' -> 13): only integral values
        return f"case when try_cast({text} as double) = try_cast({text} as bigint) then try_cast({text} as bigint) end"
    if kind == "f":
        # 'NaN' and 'Infinity' cast to a double, but are no amounts
        return f"case when isfinite(try_cast({text} as double)) then try_cast({text} as double) end"
    return f"try_cast({text} as {DUCKDB_TYPES[kind]})"


def _typed_projection(
    table: SourceTable,
    present: list[str],
    extra: list[str],
    native: dict[str, str] | None = None,
    shape_reason: str | None = None,
    helpers: bool = False,
) -> tuple[str, str]:
    """SQL select list (typed contract columns + extra columns) and the reason expression.

    `native` gives the reader's own column types (Parquet): a column already of the
    contract's type is taken as it is, without a round trip through text.

    With `helpers`, the select list also holds each typed column's text as `_src_<i>`
    and the reason reads those and the typed columns by name (to be evaluated one
    select above): every value is cast once, not again for its reason.
    """
    selects, reasons = [], []
    native = native or {}
    for index, column in enumerate(table.columns):
        kind = table.types[column]
        if column not in present:
            selects.append(f"cast(null as {DUCKDB_TYPES[kind]}) as {_q(column)}")
            continue
        if native.get(column, "").upper() in _NATIVE_MATCHES[kind]:
            selects.append(f"cast({_q(column)} as {DUCKDB_TYPES[kind]}) as {_q(column)}")
            continue
        text = f"cast({_q(column)} as varchar)"
        typed = _cast(kind, text)
        if helpers and kind != "s":
            selects.append(f"{text} as _src_{index}")
            text, typed_ref = f"_src_{index}", _q(column)
        else:
            typed_ref = f"({typed})"
        selects.append(f"{typed} as {_q(column)}")
        if kind != "s":
            # blank text is a null, not an invalid value; trimmed only on the failing rows
            reasons.append(
                f"case when {typed_ref} is null and {text} is not null and not {_blank(text)} then "
                f"'column {column}: ' || {_trim(text)} || ' is not a valid {TYPE_NAMES[kind]}' end"
            )
    for key in table.primary_key:
        if key in present:
            index = table.columns.index(key) if key in table.columns else -1
            if helpers and index >= 0 and table.types[key] != "s":
                empty = f"({_q(key)} is null and (_src_{index} is null or {_blank(f'_src_{index}')}))"
            else:
                text = f"cast({_q(key)} as varchar)"
                empty = f"({text} is null or {_blank(text)})"
            reasons.append(f"case when {empty} then 'primary key column {key} is empty' end")
    selects.extend(f"cast({_q(column)} as varchar) as {_q(column)}" for column in extra)
    reason = f"concat_ws('; ', {', '.join(reasons)})" if reasons else "''"
    if shape_reason:  # a line that is no record at all says only that
        reason = f"coalesce({shape_reason}, {reason})"
    return ", ".join(selects), reason


def _required(table: SourceTable) -> list[str]:
    return [c for c in table.columns if c not in table.optional]


def _check_columns(table: SourceTable, relative: str, present: list[str]) -> list[str]:
    missing = [c for c in _required(table) if c not in present]
    if missing:
        raise FileRejected(
            f"{relative}: required column(s) {', '.join(missing)} missing "
            f"(the {table.system}.{table.table} contract needs them); file not loaded"
        )
    return [c for c in present if c not in table.columns]


def _numbered(con, table_name: str, rejected_lines: list[int], first_line: int) -> str:
    """SQL over `table_name` adding `_landing_line`: the file line of each row the reader
    returned, given the lines it rejected (rows keep file order; rowid is that order).

    Row i (0-based) sits on line first_line + i + (number of rejected lines before it):
    after the j-th rejected line r_j the offset is j, from row index r_j - first_line + 1 - j.
    A CASE over the breakpoints (or, for many of them, an ASOF join on a tiny offsets
    table) keeps this one pass over the rows.
    """
    starts: dict[int, int] = {0: 0}
    for j, line in enumerate(sorted(rejected_lines), start=1):
        starts[line - first_line + 1 - j] = j
    if len(starts) <= 64:
        # the common case (few or no rejected lines): a CASE over the breakpoints; an ASOF
        # join would carry every row's payload through a join (about 4x slower)
        offset = " ".join(f"when r.rowid >= {start} then {j}" for start, j in sorted(starts.items(), reverse=True))
        return f"(select r.*, r.rowid + {first_line} + (case {offset} else 0 end) as _landing_line from {table_name} r)"
    values = ", ".join(f"({start}, {offset})" for start, offset in sorted(starts.items()))
    _exec(con, f"create or replace temp table line_offsets as select * from (values {values}) v(start_index, line_offset)")
    return (
        f"(select r.*, r.rowid + {first_line} + o.line_offset as _landing_line "
        f"from {table_name} r asof join line_offsets o on r.rowid >= o.start_index)"
    )


# the line of a row of `typed` on the streaming JSON path (one row per physical line, in
# file order: CREATE TABLE AS keeps the order of its source, and row ids follow it)
_LINE_BY_ROWID = "(rowid + 1)"


def _split(
    con: duckdb.DuckDBPyConnection,
    table: SourceTable,
    relative: str,
    source_sql: str,
    present: list[str],
    extra: list[str],
    raw_sql: str,
    shape_reason: str | None = None,
    carry: Sequence[str] = (),
    skip: str | None = None,
) -> list[dict]:
    """Type the rows of `source_sql` (which has a _landing_line column) to the contract into
    the temp table `typed`; returns the quarantined rows.

    With `skip` (a boolean column of `source_sql`), the source has no _landing_line: it is
    one row per physical line, in file order, and `typed` keeps that order, so a row's line
    is its row id + 1 (`_LINE_BY_ROWID`); the rows `skip` marks (blank lines) get a null
    reason, which keeps them out of both the accepted rows and the quarantine."""
    select_list, reason = _typed_projection(table, present, extra, shape_reason=shape_reason, helpers=True)
    internal = [f"_src_{i}" for i, c in enumerate(table.columns) if c in present and table.types[c] != "s"]
    internal += [shape_reason] if shape_reason else []
    internal += [skip] if skip else []
    passed = "".join(f", {c}" for c in [*carry, *([shape_reason] if shape_reason else []), *([skip] if skip else [])])
    located = "" if skip else ", ? as _landing_file, _landing_line"
    typed = f"select {select_list}{located}, {raw_sql} as _source_raw{passed} from ({source_sql})"
    if skip:
        reason = f"case when not {skip} then {reason} end"
    # one select up, the reason reads the typed values and trimmed texts by name
    reasoned = f"select * exclude ({', '.join(internal)}), {reason} as _reason from ({typed})" if internal else (
        f"select *, {reason} as _reason from ({typed})"
    )
    _exec(
        con,
        # raw content is kept only for the rows that go to quarantine
        f"create or replace temp table typed as select * exclude (_source_raw), "
        f"case when _reason <> '' then _source_raw end as _raw from ({reasoned})",
        None if skip else [relative],
    )
    line = _LINE_BY_ROWID if skip else "_landing_line"
    bad = con.execute(
        f"select {line} as line, _raw, _reason from typed where _reason <> '' order by line"
    ).fetchall()
    quarantined = [
        {"line": line, "raw": (raw or "")[:_RAW_LIMIT], "reason": reason} for line, raw, reason in bad
    ]
    return quarantined


# --------------------------------------------------------------------------- CSV


def _csv_header(path: Path) -> list[str]:
    # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is no part of the first column's name
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    return next(csv.reader([first]), []) if first.strip() else []


def _parse_csv_fast(con, path: Path, header: list[str]):
    columns = {name: "VARCHAR" for name in header}
    _exec(
        con,
        "create or replace temp table rows as select * from read_csv(?, header = true, "
        "auto_detect = false, columns = ?, delim = ',', quote = '\"', escape = '\"', "
        "store_rejects = true, rejects_table = 'rejects', rejects_scan = 'reject_scans', "
        "max_line_size = 10000000)",
        [str(path), columns],
    )
    rejects = con.execute(
        "select line, string_agg(distinct cast(error_type as varchar) || ' (' || error_message || ')', '; '), "
        "any_value(csv_line) from rejects group by line order by line"
    ).fetchall()
    n_rows = con.execute("select count(*) from rows").fetchall()[0][0]
    return n_rows, rejects


def _parse_csv_by_line(con, path: Path, header: list[str]):
    """Slow, exact path: every physical line parsed on its own (used when the fast reader
    could not keep lines apart, e.g. an unterminated quote)."""
    rows, rejects = [], []
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            if number == 1:
                continue
            try:
                text = raw_line.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                rejects.append((number, f"INVALID ENCODING ({error.reason})", raw_line.decode("utf-8", "replace")))
                continue
            if not text.strip():
                rejects.append((number, "EMPTY LINE", text))
                continue
            try:
                fields = next(csv.reader(io.StringIO(text), strict=True))
            except csv.Error as error:
                rejects.append((number, f"UNQUOTED VALUE ({error})", text))
                continue
            if len(fields) != len(header):
                kind = "MISSING COLUMNS" if len(fields) < len(header) else "TOO MANY COLUMNS"
                rejects.append((number, f"{kind} (expected {len(header)} found {len(fields)})", text))
                continue
            rows.append(fields)
    columns = list(zip(*rows)) if rows else [[] for _ in header]
    arrow = pa.table({name: pa.array(list(values), pa.string()) for name, values in zip(header, columns)})
    con.register("rows_by_line", arrow)
    _exec(con, "create or replace temp table rows as select * from rows_by_line")
    con.unregister("rows_by_line")
    return len(rows), rejects


def parse_csv(path: Path, table: SourceTable, relative: str, con=None, keep_as=None, line_count=None) -> ParsedFile:
    parsed = ParsedFile(relative)
    if path.stat().st_size == 0:
        return parsed
    header = _csv_header(path)
    parsed.new_columns = _check_columns(table, relative, header)
    physical = _count_lines(path, line_count) - 1
    parsed.rows_read = physical
    if physical <= 0:
        return parsed
    with _session(con) as con:
        try:
            n_rows, rejects = _parse_csv_fast(con, path, header)
            swallowed = n_rows + len(rejects) != physical or any("UNQUOTED" in r[1] for r in rejects)
        except duckdb.Error:  # e.g. a bare carriage return inside a field stops DuckDB's reader
            swallowed = True
        if swallowed:
            n_rows, rejects = _parse_csv_by_line(con, path, header)
        source_sql = "select * from " + _numbered(con, "rows", [r[0] for r in rejects], first_line=2)
        raw_sql = " || ',' || ".join(f"coalesce({_q(c)}, '')" for c in header)
        quarantined = _split(
            con, table, relative, source_sql, header, parsed.new_columns, raw_sql
        )
        _keep_accepted(con, parsed, keep_as)
        _release(con)
    parsed.quarantined = sorted(
        quarantined + [{"line": line, "raw": (raw or "")[:_RAW_LIMIT], "reason": f"malformed CSV row: {why}"}
                       for line, why, raw in rejects],
        key=lambda r: r["line"],
    )
    return parsed


# --------------------------------------------------------------------------- JSON lines

# lines read for the schema-drift sample: the keys of a file's first lines, checked
# against every line in the typed pass itself (no separate pass over the keys)
_KEY_SAMPLE = 10_000

# blank lines are neither rows nor quarantined (CASE, not `or`: see `_blank`)
_BLANK = f"(case when raw is null then true else {_blank('raw')} end)"
# cheap first-character tests before any trimming or JSON parsing
_IS_OBJECT = (
    f"(case when ascii(raw) = 123 or ({_starts_blank('raw')} and left({_trim('raw', 'l')}, 1) = '{{') "
    "then coalesce(json_valid(raw), false) else false end)"
)


def _lines_reader(path: Path, rejects: bool) -> str:
    """DuckDB's CSV reader handing over each line whole (`raw`). With `rejects`, lines it
    cannot read (not UTF-8, too long) are recorded in `rejects` instead of failing the read,
    but the reader then runs on one thread; without, it reads in parallel and fails."""
    # parallel, in buffers of 16 MiB: with the long max_line_size a 1.3 GB file typed in one
    # pass took 6.1 s instead of 8.3 s with the default buffers (one run each, same CPU-s)
    store = (", store_rejects = true, rejects_table = 'rejects', rejects_scan = 'reject_scans'" if rejects
             else f", buffer_size = {16 * 2**20}")
    return (
        f"read_csv({_literal(str(path))}, header = false, auto_detect = false, columns = {{'raw': 'VARCHAR'}}, "
        f"delim = {_literal(_WHOLE_LINE)}, quote = '', escape = '', strict_mode = false{store}, "
        "max_line_size = 10000000)"
    )


def _jsonl_keys(con, lines: str) -> list[tuple[list[str], int]]:
    """Distinct key lists of the object lines of the relation `lines` (most frequent first)."""
    return con.execute(
        f"select keys, count(*) from (select json_keys(raw) as keys from {lines} where is_object) "
        "group by keys order by count(*) desc, keys"
    ).fetchall()


def _jsonl_typed(con, table: SourceTable, relative: str, parsed: "ParsedFile", lines: str,
                 streaming: bool = False) -> list[dict]:
    """Type the lines of the relation `lines` (raw, is_object and, unless `streaming`,
    _landing_line; when `streaming`, _blank and one row per physical line) into `typed` in
    one JSON pass; returns the quarantine.

    The keys of the first lines decide which paths are extracted (every contract column,
    plus the new keys seen); the same pass flags every line whose keys differ from the
    sample's usual list. Only if such a line holds a key not extracted (drift that starts
    past the sample) is the file typed again, with the keys of all its lines.
    """
    sample_lines = f"(select * from {lines} where not _blank limit {_KEY_SAMPLE})" if streaming else (
        f"(select * from {lines} limit {_KEY_SAMPLE})"
    )
    sample = _jsonl_keys(con, sample_lines)
    known = list(dict.fromkeys(k for keys, _ in sample for k in keys))
    exact = not sample or any(c not in known for c in _required(table))
    if exact:  # nothing to go on, or a required column missing: decide on every line
        known = list(dict.fromkeys(k for keys, _ in _jsonl_keys(con, lines) for k in keys))
    for attempt in (1, 2):
        if known:
            parsed.new_columns = _check_columns(table, relative, known)
        # a contract column missing from the file extracts as null, as a missing key would
        present = ([c for c in table.columns if c in known] if exact else list(table.columns)) + parsed.new_columns
        usual = "[" + ", ".join(_literal(k) for k in sample[0][0]) + "]" if sample and not exact else None
        quarantined = _split(
            con, table, relative, _jsonl_source(present, usual, lines, streaming), present, parsed.new_columns,
            "raw", shape_reason="_shape", carry=["_odd_keys"], skip="_blank" if streaming else None,
        )
        odd = [row[0] for row in con.execute(
            "select distinct unnest(_odd_keys) from typed where _odd_keys is not null"
        ).fetchall()]
        _exec(con, "alter table typed drop column _odd_keys")
        if all(k in present for k in odd):
            return quarantined
        # keys past the sample that were not extracted: type the file again with all keys
        exact = True
        known = list(dict.fromkeys(k for keys, _ in _jsonl_keys(con, lines) for k in keys))
    raise AssertionError("unreachable: the second attempt extracts every key")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _jsonl_source(present: list[str], usual: str | None, lines: str, streaming: bool) -> str:
    """SQL over `lines`: the extracted values of `present`, the line's shape problem,
    and `_odd_keys` (the keys of a line whose key list is not the `usual` one)."""
    paths = ", ".join("'$." + json.dumps(c).replace("'", "''") + "'" for c in present)
    extracted = "".join(f"values[{i + 1}] as {_q(c)}, " for i, c in enumerate(present))
    shape = (
        "case when not is_object then case when coalesce(json_valid(raw), false) "
        "then 'line is JSON but not an object' else 'malformed JSON' end end"
    )
    odd = (
        f"case when is_object and json_keys(raw) <> {usual} then json_keys(raw) end"
        if usual else "cast(null as varchar[])"
    )
    values = f"case when is_object then json_extract_string(raw, [{paths}]) end" if present else "null"
    located = "_blank" if streaming else "_landing_line"
    return (
        f"select {extracted}{located}, raw, {shape} as _shape, {odd} as _odd_keys from "
        f"(select {values} as values, {located}, raw, is_object from {lines})"
    )


def _parse_jsonl_streaming(con, path: Path, table: SourceTable, relative: str, parsed: "ParsedFile",
                           line_count) -> list[dict] | None:
    """The file typed straight from the parallel line reader, without a table of its lines
    or line numbers stored per row (see `_LINE_BY_ROWID`): the common case, a file every
    line of which DuckDB can read. Returns the quarantine, or None when the file needs the
    line-by-line accounting of `parse_jsonl` (a line the reader refuses, or a count of
    rows that differs from the file's physical lines)."""
    if not con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]:
        return None  # row ids would not follow the file's order
    lines = f"(select raw, {_IS_OBJECT} as is_object, {_BLANK} as _blank from {_lines_reader(path, rejects=False)})"
    try:
        quarantined = _jsonl_typed(con, table, relative, parsed, lines, streaming=True)
    except duckdb.Error:  # e.g. bytes that are not UTF-8: the reader with rejects takes over
        _exec(con, "drop table if exists typed")
        return None
    rows, blank = con.execute("select count(*), count(*) filter (where _reason is null) from typed").fetchall()[0]
    physical = _count_lines(path, line_count)
    if rows != physical:  # the reader split lines otherwise than the newline count
        _exec(con, "drop table if exists typed")
        parsed.new_columns = []
        return None
    parsed.rows_read = physical - blank
    return quarantined


def parse_jsonl(path: Path, table: SourceTable, relative: str, con=None, keep_as=None, line_count=None) -> ParsedFile:
    parsed = ParsedFile(relative)
    if path.stat().st_size == 0:
        return parsed
    with _session(con) as con:
        quarantined = _parse_jsonl_streaming(con, path, table, relative, parsed, line_count)
        if quarantined is not None:
            _keep_accepted(con, parsed, keep_as, f", {_literal(relative)} as _landing_file, {_LINE_BY_ROWID} as _landing_line")
            _release(con)
            parsed.quarantined = quarantined
            return parsed
        _exec(con, f"create or replace temp table lines as select raw from {_lines_reader(path, rejects=True)}")
        rejects = con.execute(
            "select line, string_agg(distinct cast(error_type as varchar), '; '), any_value(csv_line) "
            "from rejects group by line order by line"
        ).fetchall()
        n_rows = con.execute("select count(*) from lines").fetchall()[0][0]
        # asked only now: the count may have been running beside the read
        physical = _count_lines(path, line_count)
        if n_rows + len(rejects) != physical:
            raise RuntimeError(
                f"{relative}: read {n_rows} lines and rejected {len(rejects)} of {physical}; "
                "refusing to load a file whose lines cannot all be accounted for"
            )
        # a view, not a copy of the lines (blank lines are neither rows nor quarantined)
        _exec(
            con,
            f"create or replace temp view numbered as select raw, _landing_line, {_IS_OBJECT} as is_object "
            "from " + _numbered(con, "lines", [r[0] for r in rejects], first_line=1) + f" where not {_BLANK}",
        )
        quarantined = _jsonl_typed(con, table, relative, parsed, "numbered")
        # every non-blank line is a row of `typed`: the blank ones are the rest
        parsed.rows_read = physical - (n_rows - con.execute("select count(*) from typed").fetchall()[0][0])
        _keep_accepted(con, parsed, keep_as)
        _release(con)
    parsed.quarantined = sorted(
        quarantined
        + [{"line": line, "raw": (raw or "")[:_RAW_LIMIT], "reason": f"unreadable line: {why}"}
           for line, why, raw in rejects],
        key=lambda r: r["line"],
    )
    return parsed


# --------------------------------------------------------------------------- Parquet


def parse_parquet(path: Path, table: SourceTable, relative: str, con=None, keep_as=None, line_count=None) -> ParsedFile:
    parsed = ParsedFile(relative)
    if path.stat().st_size == 0:
        return parsed
    with _session(con) as con:
        try:
            present = [row[0] for row in con.execute("select name from parquet_schema(?) where num_children is null", [str(path)]).fetchall()]
            parsed.rows_read = con.execute(
                "select coalesce(sum(num_rows), 0) from parquet_file_metadata(?)", [str(path)]
            ).fetchall()[0][0]
        except duckdb.Error as error:
            raise FileRejected(f"{relative}: not a readable Parquet file ({error})") from error
        parsed.new_columns = _check_columns(table, relative, present)
        native = dict(
            con.execute(
                "select column_name, column_type from (describe select * from read_parquet($path))",
                {"path": str(path)},
            ).fetchall()
        )
        raw_sql = "cast(to_json(struct_pack(" + ", ".join(f"{_q(c)} := {_q(c)}" for c in present) + ")) as varchar)"
        select_list, reason = _typed_projection(table, present, parsed.new_columns, native)
        _exec(
            con,
            f"create or replace temp table typed as select {select_list}, $file as _landing_file, "
            f"_landing_line, {reason} as _reason, case when {reason} <> '' then {raw_sql} end as _raw from "
            "(select *, row_number() over () as _landing_line from read_parquet($path))",
            {"file": relative, "path": str(path)},
        )
        parsed.quarantined = [
            {"line": line, "raw": (raw or "")[:_RAW_LIMIT], "reason": reason}
            for line, raw, reason in con.execute(
                "select _landing_line, _raw, _reason from typed where _reason <> '' order by _landing_line"
            ).fetchall()
        ]
        _keep_accepted(con, parsed, keep_as)
        _release(con)
    return parsed


PARSERS = {"csv": parse_csv, "jsonl": parse_jsonl, "parquet": parse_parquet}


def parse_file(
    path: Path,
    table: SourceTable,
    relative: str,
    con=None,
    keep_as: str | None = None,
    line_count: int | Callable[[], int] | None = None,
) -> ParsedFile:
    """Parse one landing file of `table`; raises FileRejected if it cannot load at all.

    With `con` and `keep_as`, the work happens in that connection (the warehouse itself on
    the DuckDB fast path) and the accepted rows stay there as the temp table `keep_as`.
    """
    parsed = PARSERS[table.format](path, table, relative, con=con, keep_as=keep_as, line_count=line_count)
    if parsed.rows_read != parsed.rows_accepted + parsed.rows_quarantined:
        raise RuntimeError(
            f"{relative}: {parsed.rows_read} rows read but {parsed.rows_accepted} accepted "
            f"and {parsed.rows_quarantined} quarantined; refusing to lose rows"
        )
    return parsed
