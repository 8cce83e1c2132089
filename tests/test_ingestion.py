"""Ingestion over the generator's output: accounting, quarantine, idempotence, upserts,
changed files, schema drift and the landing-zone sensor."""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    Definitions,
    RunRequest,
    build_sensor_context,
    materialize,
)
from dagster_dlt import DagsterDltResource

from orchestration.ingestion.assets import FILES_ACCEPTED_CHECK, ROW_ACCOUNTING_CHECK, build_ingestion_assets
from orchestration.ingestion.sensor import build_landing_sensor
from orchestration.sources.generate import append_days, generate_company
from orchestration.sources.mess import MessConfig
from orchestration.sources.schemas import SOURCE_TABLES, get_table
from tests.conftest import make_settings

MESSY = MessConfig(malformed=0.02, soft_delete=0.05)


def ingest(settings, selection=None):
    assets = build_ingestion_assets(settings)
    result = materialize(
        assets,
        selection=selection,
        resources={"dlt_resource": DagsterDltResource()},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def metadata(result, system: str, table: str) -> dict:
    key = AssetKey(["raw", system, table])
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def check(result, system: str, table: str, name: str):
    key = AssetKey(["raw", system, table])
    return next(
        e for e in result.get_asset_check_evaluations()
        if e.asset_check_key.asset_key == key and e.asset_check_key.name == name
    )


def table_checksums(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content checksum of every raw table."""
    sums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_name not like '_dlt%' "
            "and table_schema not like '%_staging'"
        ).fetchall()
        for schema, name in tables:
            count, digest = con.execute(
                f'select count(*), coalesce(sum(hash(t)), 0)::varchar '
                f'from (select columns(lambda c: c not like \'_dlt%\') from "{schema}"."{name}") t'
                if name not in ("_ingest_ledger", "_quarantine")
                else f'select count(*), coalesce(sum(hash(t.relative_path)), 0)::varchar from "{schema}"."{name}" t'
            ).fetchall()[0]
            sums[f"{schema}.{name}"] = (count, digest)
    return sums


def physical_rows(path: Path, file_format: str) -> int:
    if path.stat().st_size == 0:
        return 0
    if file_format == "parquet":
        with duckdb.connect() as con:
            return con.execute("select count(*) from read_parquet(?)", [str(path)]).fetchall()[0][0]
    lines = [line for line in path.read_bytes().split(b"\n") if line.strip()]
    return len(lines) - (1 if file_format == "csv" else 0)


@pytest.fixture(scope="module")
def company(tmp_path_factory, dbt_manifest):
    root = tmp_path_factory.mktemp("ingest")
    generate_company(root / "landing", root / "truth", scale=0.05, seed=7, mess=MESSY)
    settings = make_settings(root, root / "landing")
    first = ingest(settings)
    return settings, first


def test_every_file_accounted_for(company):
    settings, _ = company
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for table in SOURCE_TABLES:
            ledger = dict(
                (row[0], row[1:])
                for row in con.execute(
                    f"select relative_path, status, rows_read, rows_loaded, rows_quarantined "
                    f"from raw_{table.system}._ingest_ledger where source_table = ?",
                    [table.table],
                ).fetchall()
            )
            files = sorted((settings.landing_dir / table.system / table.table).glob("*"))
            assert files, table.key
            for path in files:
                relative = path.relative_to(settings.landing_dir).as_posix()
                status, read, loaded, quarantined = ledger[relative]
                assert status == "loaded"
                # the independent count: physical lines (or Parquet rows) of the file
                assert read == physical_rows(path, table.format), relative
                assert read == loaded + quarantined, relative


def test_dlt_path_loads_the_same_rows_as_the_duckdb_path(company, tmp_path):
    """The dlt path (Arrow + parquet loader, for any dlt destination) and the DuckDB fast
    path leave the same raw tables, quarantine and ledger counts."""
    settings, _ = company
    other = make_settings(tmp_path, settings.landing_dir, ingest_engine="dlt")
    ingest(other)
    make_settings(settings.warehouse_dir.parent, settings.landing_dir)  # back to the company's warehouse
    def non_empty(sums):  # the DuckDB path also creates empty quarantine tables
        return {name: value for name, value in sums.items() if value[0]}

    assert non_empty(table_checksums(other.warehouse_path)) == non_empty(table_checksums(settings.warehouse_path))


def _bookkeeping(path: Path) -> dict[str, list[tuple]]:
    """Every ledger and quarantine row of every system, without the load's id and times."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            system: con.execute(
                f"select relative_path, source_table, size_bytes, sha256, status, rows_read, rows_loaded, "
                f"rows_quarantined, new_columns, error from raw_{system}._ingest_ledger order by relative_path"
            ).fetchall()
            + con.execute(
                f"select relative_path, source_table, line_number, raw_content, reason "
                f"from raw_{system}._quarantine order by relative_path, line_number"
            ).fetchall()
            for system in sorted({t.system for t in SOURCE_TABLES})
        }


def test_tables_loaded_side_by_side_leave_what_one_at_a_time_leaves(company, tmp_path):
    """The DuckDB engine loads a system's tables on two cursors at once; one at a time, the
    raw tables, ledger and quarantine come out the same."""
    from orchestration.ingestion import native
    from orchestration.ingestion.tables import tables_by_system

    settings, _ = company
    assert native.TABLES_AT_ONCE == 2  # what the assets run (the company above)
    one = make_settings(tmp_path, settings.landing_dir)
    for system, tables in tables_by_system().items():
        native.load_system(one, system, tables, log=lambda message: None, tables_at_once=1)
    make_settings(settings.warehouse_dir.parent, settings.landing_dir)  # back to the company's warehouse
    assert table_checksums(one.warehouse_path) == table_checksums(settings.warehouse_path)
    assert _bookkeeping(one.warehouse_path) == _bookkeeping(settings.warehouse_path)


def test_two_tables_of_a_system_are_parsed_at_the_same_time(tmp_path, dbt_manifest, monkeypatch):
    """Side by side means at once: the first files of two tables are both being parsed
    before either finishes (a barrier of two that one table at a time would never pass),
    and what is logged still follows the order of the tables."""
    import threading

    from orchestration.ingestion import native

    settings = make_settings(tmp_path)
    generate_company(settings.landing_dir, tmp_path / "truth", scale=0.01, seed=3)
    tables = [get_table("salesforce", "account"), get_table("salesforce", "contact")]
    both_parsing = [threading.Barrier(2, timeout=30)]
    parse = native.parse_file

    def parse_once_both_are_parsing(path, *args, **kwargs):
        if path.name == sorted(path.parent.glob("*"))[0].name:  # each table's first file
            both_parsing[0].wait()
        return parse(path, *args, **kwargs)

    monkeypatch.setattr(native, "parse_file", parse_once_both_are_parsing)
    logged = []
    loads = native.load_system(settings, "salesforce", tables, log=logged.append)
    assert [l.table.table for l in loads] == ["account", "contact"]
    assert [m.split(":")[0] for m in logged[:2]] == ["salesforce.account", "salesforce.contact"]
    assert all(l.rows_loaded and l.rows_read == l.rows_loaded + l.rows_quarantined for l in loads)
    # one at a time, the barrier is never passed: the proof that the test can fail
    both_parsing[0] = threading.Barrier(2, timeout=3)
    one_at_a_time = make_settings(tmp_path / "one", settings.landing_dir)
    with pytest.raises(threading.BrokenBarrierError):
        native.load_system(one_at_a_time, "salesforce", tables, log=logged.append, tables_at_once=1)


def test_row_accounting_checks_pass_and_metadata_adds_up(company):
    _, result = company
    for table in SOURCE_TABLES:
        assert check(result, table.system, table.table, ROW_ACCOUNTING_CHECK).passed
        meta = metadata(result, table.system, table.table)
        assert meta["rows_read"] == meta["rows_loaded"] + meta["rows_quarantined"]


def test_every_malformed_row_is_quarantined_with_its_reason(company):
    settings, _ = company
    with (settings.truth_dir / "malformed_rows.csv").open() as handle:
        injected = list(csv.DictReader(handle))
    assert len(injected) >= 10, "the messy company should carry malformed rows"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        quarantined = {}
        for system in {t.system for t in SOURCE_TABLES}:
            try:
                rows = con.execute(
                    f"select relative_path, line_number, reason, raw_content from raw_{system}._quarantine"
                ).fetchall()
            except duckdb.CatalogException:
                continue
            quarantined.update({(r[0], r[1]): (r[2], r[3]) for r in rows})
    expected = {(row["file"], int(row["line"])) for row in injected}
    assert set(quarantined) == expected
    for row in injected:
        reason, raw = quarantined[(row["file"], int(row["line"]))]
        assert raw, "the raw content is kept"
        if row["column"]:
            assert row["column"] in reason, (row, reason)
        if row["kind"] in ("invalid_json",):
            assert "malformed JSON" in reason
        if row["kind"] in ("wrong_column_count", "too_many_columns", "too_few_columns"):
            assert "COLUMNS" in reason


def test_rerun_loads_nothing_and_changes_nothing(company):
    settings, _ = company
    before = table_checksums(settings.warehouse_path)
    again = ingest(settings)
    assert table_checksums(settings.warehouse_path) == before
    for table in SOURCE_TABLES:
        meta = metadata(again, table.system, table.table)
        assert meta["rows_read"] == 0 and meta["files_loaded"] == []
        assert meta["files_skipped_unchanged"] >= 1


def test_next_day_upserts_newest_versions_and_keeps_soft_deletes(company, tmp_path):
    settings, _ = company
    append_days(settings.landing_dir, settings.truth_dir, days=1)
    result = ingest(settings)
    loaded = sum(metadata(result, t.system, t.table)["rows_loaded"] for t in SOURCE_TABLES)
    assert loaded > 0
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for table in SOURCE_TABLES:
            keys = ", ".join(table.primary_key)
            duplicates = con.execute(
                f"select count(*) from (select {keys} from raw_{table.system}.{table.table} "
                f"group by {keys} having count(*) > 1)"
            ).fetchall()[0][0]
            assert duplicates == 0, table.key
        # newest wins: the raw row carries the latest last_modified_date of any export
        lead = get_table("salesforce", "lead")
        files = [str(p) for p in sorted((settings.landing_dir / "salesforce" / "lead").glob("*.csv"))]
        con.execute("set TimeZone = 'UTC'")
        newest = dict(
            con.execute(
                "select id, max(try_cast(last_modified_date as timestamptz)) from read_csv(?, header = true, "
                "all_varchar = true, ignore_errors = true, union_by_name = true) group by id",
                [files],
            ).fetchall()
        )
        in_raw = dict(con.execute(f"select id, {lead.updated_at} from raw_salesforce.lead").fetchall())
        assert in_raw.keys() <= newest.keys()
        assert all(in_raw[k] == newest[k] for k in in_raw)
        # soft deletes stay in raw as a flag, for staging to drop
        deleted = sum(
            con.execute(
                f"select count(*) from raw_{t.system}.{t.table} where {t.deleted_flag}"
            ).fetchall()[0][0]
            for t in SOURCE_TABLES
            if t.deleted_flag
        )
        assert deleted > 0


def _one_more_file(settings, system: str, table: str, name: str, mutate) -> Path:
    folder = settings.landing_dir / system / table
    source = sorted(folder.glob("*.csv"))[0]
    target = folder / name
    with source.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = mutate(rows[0], rows[1:3])
    with target.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *body])
    return target


def test_older_version_does_not_overwrite_newer(tmp_path, dbt_manifest):
    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "landing", landing)
    settings = make_settings(tmp_path, landing)
    ingest(settings, selection=[AssetKey(["raw", "salesforce", "lead"])])

    def older(header, rows):
        modified = header.index("last_modified_date")
        status = header.index("status")
        row = list(rows[0])
        row[modified] = "2026-05-01T00:00:00Z"  # older than what raw holds
        row[status] = "Recycled"
        return header, [row]

    _one_more_file(settings, "salesforce", "lead", "2026-07-01.csv", older)
    result = ingest(settings, selection=[AssetKey(["raw", "salesforce", "lead"])])
    assert metadata(result, "salesforce", "lead")["rows_stale_not_applied"] == 1
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select status from raw_salesforce.lead where id = '00Q1'").fetchall() == [
            ("Open - Not Contacted",)
        ]


def test_changed_file_is_reported_and_not_reloaded(tmp_path, dbt_manifest):
    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "landing", landing)
    settings = make_settings(tmp_path, landing)
    lead = [AssetKey(["raw", "salesforce", "lead"])]
    ingest(settings, selection=lead)
    before = table_checksums(settings.warehouse_path)["raw_salesforce.lead"]
    path = landing / "salesforce" / "lead" / "2026-06-30.csv"
    path.write_text(path.read_text().replace("Acme", "Acme Corp"))
    result = ingest(settings, selection=lead)
    evaluation = check(result, "salesforce", "lead", FILES_ACCEPTED_CHECK)
    assert not evaluation.passed
    assert "salesforce/lead/2026-06-30.csv: changed after it was loaded" in str(evaluation.metadata["problems"].value)
    assert table_checksums(settings.warehouse_path)["raw_salesforce.lead"] == before


def test_schema_drift_new_column_added_missing_column_rejects_only_that_file(tmp_path, dbt_manifest):
    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "landing", landing)
    settings = make_settings(tmp_path, landing)
    lead = [AssetKey(["raw", "salesforce", "lead"])]
    ingest(settings, selection=lead)

    def with_new_column(header, rows):
        return header + ["lead_grade"], [[r[0].replace("00Q", "00QN"), *r[1:], "A"] for r in rows]

    def without_email(header, rows):
        drop = header.index("email")
        return [h for i, h in enumerate(header) if i != drop], [
            [v.replace("00Q", "00QX") if i == 0 else v for i, v in enumerate(r) if i != drop] for r in rows
        ]

    _one_more_file(settings, "salesforce", "lead", "2026-07-01.csv", with_new_column)
    _one_more_file(settings, "salesforce", "lead", "2026-07-02.csv", without_email)
    result = ingest(settings, selection=lead)
    meta = metadata(result, "salesforce", "lead")
    assert meta["new_columns"] == ["lead_grade"]
    assert meta["files_loaded"] == ["salesforce/lead/2026-07-01.csv"]
    rejected = meta["files_rejected"]
    assert len(rejected) == 1 and rejected[0]["file"] == "salesforce/lead/2026-07-02.csv"
    assert "email" in rejected[0]["error"] and "salesforce/lead/2026-07-02.csv" in rejected[0]["error"]
    assert not check(result, "salesforce", "lead", FILES_ACCEPTED_CHECK).passed
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        grades = con.execute(
            "select id, lead_grade from raw_salesforce.lead where lead_grade is not null order by id"
        ).fetchall()
        assert grades == [("00QN1", "A"), ("00QN2", "A")]
        assert con.execute("select count(*) from raw_salesforce.lead where id like '00QX%'").fetchall()[0][0] == 0
        status = con.execute(
            "select status, error from raw_salesforce._ingest_ledger where relative_path like '%07-02.csv'"
        ).fetchall()
        assert status[0][0] == "rejected" and "email" in status[0][1]


def test_sensor_requests_only_the_affected_assets(tmp_path, dbt_manifest):
    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "landing", landing)
    settings = make_settings(tmp_path, landing)
    sensor = build_landing_sensor(settings)
    defs = Definitions(
        assets=build_ingestion_assets(settings), sensors=[sensor], resources={"dlt_resource": DagsterDltResource()}
    )

    def tick(cursor):
        return sensor.evaluate_tick(build_sensor_context(cursor=cursor, definitions=defs))

    first = tick(None)
    assert [r.asset_selection for r in first.run_requests] == [[AssetKey(["raw", "salesforce", "lead"])]]
    cursor = first.cursor

    quiet = tick(cursor)
    assert not quiet.run_requests and quiet.skip_message

    new = landing / "hubspot" / "contact" / "2026-07-01.jsonl"
    new.parent.mkdir(parents=True)
    new.write_text('{"id": 1}\n')
    later = tick(cursor)
    assert [r.asset_selection for r in later.run_requests] == [[AssetKey(["raw", "hubspot", "contact"])]]
    assert isinstance(later.run_requests[0], RunRequest)

    # a rewrite that keeps the size and puts the mtime back wakes it too (ctime)
    _same_size_edit(landing / "salesforce" / "lead" / "2026-06-30.csv", "Acme", "Acmf")
    edited = tick(later.cursor)
    assert [r.asset_selection for r in edited.run_requests] == [[AssetKey(["raw", "salesforce", "lead"])]]


def _same_size_edit(path: Path, old: str, new: str) -> None:
    """Change the file's bytes, keep its size and put its mtime back: only ctime moves."""
    assert len(old) == len(new)
    stat = path.stat()
    time.sleep(0.02)  # a tick of the file system's clock later
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


@pytest.mark.parametrize("engine", ["duckdb", "dlt"])
def test_a_rerun_reads_only_files_whose_stat_moved_and_still_sees_a_same_size_change(
    tmp_path, dbt_manifest, monkeypatch, engine
):
    """The checksum cache (orchestration/ingestion/ledger.py) spares re-reading unchanged
    landing files, and a change that keeps size and mtime is still caught (by ctime)."""
    from orchestration.ingestion import ledger

    landing = tmp_path / "landing"
    shutil.copytree(Path(__file__).parent / "fixtures" / "landing", landing)
    settings = make_settings(tmp_path, landing, ingest_engine=engine)
    lead = [AssetKey(["raw", "salesforce", "lead"])]
    files = sorted((landing / "salesforce" / "lead").glob("*.csv"))
    assert files
    # the fixture files are seconds old, not racily new: trust their stat at once
    monkeypatch.setattr(ledger, "RACY_NANOSECONDS", 0)
    read = []
    original = ledger.sha256_and_lines
    monkeypatch.setattr(ledger, "sha256_and_lines", lambda path: read.append(path.name) or original(path))

    ingest(settings, selection=lead)
    assert sorted(read) == [f.name for f in files]
    assert (settings.warehouse_dir / "landing_checksums" / "salesforce.json").exists()
    before = table_checksums(settings.warehouse_path)["raw_salesforce.lead"]

    read.clear()
    again = ingest(settings, selection=lead)
    assert read == []
    assert metadata(again, "salesforce", "lead")["files_skipped_unchanged"] == len(files)

    changed = landing / "salesforce" / "lead" / "2026-06-30.csv"
    _same_size_edit(changed, "Acme", "Acmf")
    result = ingest(settings, selection=lead)
    assert read == [changed.name]
    evaluation = check(result, "salesforce", "lead", FILES_ACCEPTED_CHECK)
    assert not evaluation.passed
    assert "salesforce/lead/2026-06-30.csv: changed after it was loaded" in str(evaluation.metadata["problems"].value)
    assert table_checksums(settings.warehouse_path)["raw_salesforce.lead"] == before


def test_a_file_changed_right_after_it_was_read_is_read_again(tmp_path):
    """Within the file system clock's tick of the read, the stat cannot tell: no trust."""
    from orchestration.ingestion.ledger import ChecksumCache, sha256_and_lines

    path = tmp_path / "a.csv"
    path.write_text("id\n1\n")
    cache = ChecksumCache(tmp_path / "cache.json")
    assert cache.checksum(path)[1:] == sha256_and_lines(path)
    assert cache.checksum(path)[1:] == sha256_and_lines(path)
    assert (cache.read_again, cache.reused) == (2, 0)
    cache.save()
    reloaded = ChecksumCache(tmp_path / "cache.json")
    assert str(path.resolve()) in reloaded.entries


def test_the_checksum_cache_forgets_files_that_are_gone_and_survives_a_corrupt_file(tmp_path, monkeypatch):
    from orchestration.ingestion import ledger

    monkeypatch.setattr(ledger, "RACY_NANOSECONDS", 0)
    kept, gone = tmp_path / "kept.csv", tmp_path / "gone.csv"
    kept.write_text("id\n1\n")
    gone.write_text("id\n2\n")
    cache = ledger.ChecksumCache(tmp_path / "cache.json")
    cache.checksum(kept), cache.checksum(gone)
    gone.unlink()
    cache.save()
    reloaded = ledger.ChecksumCache(tmp_path / "cache.json")
    assert set(reloaded.entries) == {str(kept.resolve())}
    assert reloaded.checksum(kept)[1:] == ledger.sha256_and_lines(kept) and reloaded.reused == 1
    (tmp_path / "cache.json").write_text("{not json")
    assert ledger.ChecksumCache(tmp_path / "cache.json").entries == {}
    # an entry without its fields is a miss, not a crash
    (tmp_path / "cache.json").write_text(json.dumps({"version": ledger.CHECKSUM_CACHE_VERSION,
                                                     "files": {str(kept.resolve()): {"sha256": "x"}}}))
    damaged = ledger.ChecksumCache(tmp_path / "cache.json")
    assert damaged.checksum(kept)[1:] == ledger.sha256_and_lines(kept) and damaged.read_again == 1
