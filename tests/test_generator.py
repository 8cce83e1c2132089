"""The source generator: determinism, connector shapes, truth consistency, mess rates, append."""
from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.sources import vocabulary as V
from orchestration.sources.generate import append_days, generate_company, main
from orchestration.sources.mess import MessConfig
from orchestration.sources.schemas import SOURCE_TABLES, TABLES

MESSY = MessConfig(email_variation=0.2, duplicate=0.1, soft_delete=0.05, update_after_export=0.01,
                   late_arrival=0.05, out_of_order=0.05, tz_offset=0.2, null_optional=0.1,
                   unknown_stage=0.05, malformed=0.01)
OFFSET_RE = re.compile(r"[+-]\d\d:\d\d$")


# ------------------------------------------------------------------------------ helpers
def epoch(s: str) -> int:
    return int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def read_file(path: Path, spec, skip_lines=()):
    """Rows as dicts of strings / JSON values; lines listed in skip_lines (1-based) skipped."""
    if spec.format == "csv":
        with open(path, newline="") as fh:
            r = csv.reader(fh)
            header = next(r)
            assert header == list(spec.columns), f"{path}: header {header}"
            rows = []
            for i, rec in enumerate(r, start=2):
                if i in skip_lines:
                    continue
                assert len(rec) == len(header), f"{path}:{i} has {len(rec)} fields"
                rows.append({k: (v if v != "" else None) for k, v in zip(header, rec)})
            return rows
    if spec.format == "jsonl":
        rows = []
        with open(path) as fh:
            for i, line in enumerate(fh, start=1):
                if i in skip_lines:
                    continue
                d = json.loads(line)
                assert list(d) == list(spec.columns), f"{path}:{i} keys"
                rows.append(d)
        return rows
    t = pq.read_table(path)
    assert t.column_names == list(spec.columns)
    return t.to_pylist()


class Company:
    def __init__(self, root: Path, report: dict):
        self.root, self.report = root, report
        self.landing, self.truth = root / "landing", root / "truth"
        self.manifest = json.loads((self.truth / "manifest.json").read_text())
        self.malformed = {}
        with open(self.truth / "malformed_rows.csv") as fh:
            for r in csv.DictReader(fh):
                self.malformed.setdefault(r["file"], {})[int(r["line"])] = r
        self._cache = {}

    def files(self, key):
        spec = TABLES[key]
        d = self.landing / spec.system / spec.table
        return sorted(d.glob(f"*.{spec.ext}"))

    def rows(self, key, with_file=False):
        if key not in self._cache:
            spec = TABLES[key]
            out = []
            for f in self.files(key):
                rel = f"{spec.system}/{spec.table}/{f.name}"
                for r in read_file(f, spec, self.malformed.get(rel, {})):
                    r["__file"] = f.name
                    out.append(r)
            self._cache[key] = out
        return self._cache[key]

    def identities(self):
        t = pq.read_table(self.truth / "identities.parquet").to_pylist()
        return {(r["system"], r["table"], r["record_id"]): (r["true_person_id"], r["true_account_id"]) for r in t}


def _gen(tmp_path_factory, name, **kw):
    root = tmp_path_factory.mktemp(name)
    rep = generate_company(root / "landing", root / "truth", **kw)
    return Company(root, rep)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return _gen(tmp_path_factory, "clean", scale=0.6, seed=7, mess=MessConfig.none())


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return _gen(tmp_path_factory, "messy", scale=0.3, seed=11, mess=MESSY)


def _all_bytes(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------ determinism
def test_same_scale_and_seed_give_byte_identical_files(tmp_path):
    a = generate_company(tmp_path / "a" / "landing", tmp_path / "a" / "truth", scale=0.1, seed=42)
    generate_company(tmp_path / "b" / "landing", tmp_path / "b" / "truth", scale=0.1, seed=42)
    fa, fb = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert fa.keys() == fb.keys()
    assert len(fa) == len(SOURCE_TABLES) * 4 + 8
    different = [k for k in fa if fa[k] != fb[k]]
    assert not different
    c = generate_company(tmp_path / "c" / "landing", tmp_path / "c" / "truth", scale=0.1, seed=43)
    assert c["touch_events"] != a["touch_events"] or _all_bytes(tmp_path / "c") != fa


# ------------------------------------------------------------------------------ shapes
def test_every_table_present_in_its_format_with_connector_columns(clean):
    days = clean.manifest["export_days"]
    assert days == ["2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04"]
    fmt = {"salesforce": "csv", "zendesk": "csv", "stripe": "csv", "hubspot": "jsonl",
           "segment": "jsonl", "ads": "parquet", "product": "parquet"}
    for spec in SOURCE_TABLES:
        assert spec.format == fmt[spec.system]
        files = clean.files(spec.key)
        assert [f.stem for f in files] == days, spec.key
        rows = clean.rows(spec.key)                      # read_file asserts the exact columns
        assert rows, f"{spec.key} is empty"
        for c in (spec.updated_at, *spec.primary_key):
            assert c in spec.columns
        if spec.deleted_flag:
            assert spec.deleted_flag in spec.columns
        # primary key unique within each file
        for f in files:
            keys = [tuple(r[c] for c in spec.primary_key) for r in rows if r["__file"] == f.name]
            assert len(keys) == len(set(keys)), f"{spec.key} {f.name}: duplicate keys"
    # the initial file carries the history, the deltas are small
    pages = clean.rows("segment.pages")
    initial = sum(r["__file"] == "2026-07-01.jsonl" for r in pages)
    assert initial > 0.9 * len(pages)


def test_source_vocabularies_as_the_systems_have_them(clean):
    lcs = {r["value"] for r in clean.rows("hubspot.contact_property_history") if r["name"] == "lifecyclestage"}
    assert lcs <= set(V.HUBSPOT_LIFECYCLE_STAGES) and {"lead", "marketingqualifiedlead", "customer"} <= lcs
    lss = {r["value"] for r in clean.rows("hubspot.contact_property_history") if r["name"] == "hs_lead_status"}
    assert lss <= set(V.HUBSPOT_LEAD_STATUSES) and {"NEW", "UNQUALIFIED", "OPEN_DEAL"} <= lss
    assert {r["status"] for r in clean.rows("salesforce.lead")} <= set(V.SALESFORCE_LEAD_STATUSES)
    st = {r["stage_name"] for r in clean.rows("salesforce.opportunity_history")}
    assert st <= set(V.SALESFORCE_OPPORTUNITY_STAGES) and {"Prospecting", "Closed Won", "Closed Lost"} <= st
    assert {r["status"] for r in clean.rows("stripe.subscription")} <= set(V.STRIPE_SUBSCRIPTION_STATUSES)


def test_scale_one_is_about_2500_people_and_100k_touch_events(tmp_path):
    rep = generate_company(tmp_path / "landing", tmp_path / "truth", scale=1.0, seed=42)
    assert 2200 <= rep["truth"]["persons"] <= 2900
    assert 80_000 <= rep["touch_events"] <= 125_000


# ------------------------------------------------------------------------------ truth
ID_COLUMNS = {  # table -> (identity table, id column) for person- / account-bearing records
    "salesforce.account": ("account", "id"), "salesforce.contact": ("contact", "id"),
    "salesforce.lead": ("lead", "id"), "salesforce.opportunity": ("opportunity", "id"),
    "salesforce.opportunity_history": ("opportunity_history", "id"), "salesforce.task": ("task", "id"),
    "salesforce.event": ("event", "id"), "salesforce.campaign_member": ("campaign_member", "id"),
    "hubspot.contact": ("contact", "id"), "hubspot.company": ("company", "id"),
    "hubspot.email_event": ("email_event", "id"),
    "hubspot.contact_form_submission": ("contact_form_submission", "conversion_id"),
    "segment.identifies": ("identifies", "id"), "segment.pages": ("anonymous_id", "anonymous_id"),
    "stripe.customer": ("customer", "id"), "stripe.subscription": ("subscription", "id"),
    "stripe.invoice": ("invoice", "id"), "zendesk.ticket": ("ticket", "id"),
    "zendesk.organization": ("organization", "id"), "product.daily_usage": ("daily_usage", "account_id"),
}


def test_every_source_record_maps_to_exactly_one_true_identity(clean):
    ident = pq.read_table(clean.truth / "identities.parquet").to_pylist()
    keys = [(r["system"], r["table"], r["record_id"]) for r in ident]
    assert len(keys) == len(set(keys)), "an identity row is listed twice"
    ids = clean.identities()
    persons = {r["true_person_id"] for r in pq.read_table(clean.truth / "persons.parquet").to_pylist()}
    for key, (itable, col) in ID_COLUMNS.items():
        system = key.split(".")[0]
        for r in clean.rows(key):
            rid = str(r[col])
            assert (system, itable, rid) in ids, f"{key} {rid} has no true identity"
            p, a = ids[(system, itable, rid)]
            assert p is None or p in persons
            assert p is not None or a is not None
    for r in clean.rows("segment.pages"):
        if r["user_id"] is not None:
            assert ("segment", "user_id", r["user_id"]) in ids
    for r in clean.rows("zendesk.user"):
        if r["role"] == "end-user":
            assert ("zendesk", "user", str(r["id"])) in ids
    # the same person behind a HubSpot contact and its Salesforce lead
    lead_person = {ids[("salesforce", "lead", r["id"])][0] for r in clean.rows("salesforce.lead")}
    contact_person = {ids[("hubspot", "contact", str(r["id"]))][0] for r in clean.rows("hubspot.contact")}
    assert lead_person <= contact_person


def _latest(rows, spec):
    out = {}
    for r in sorted(rows, key=lambda r: (r["__file"],)):
        out[tuple(r[c] for c in spec.primary_key)] = r
    return list(out.values())


def test_every_stage_transition_has_evidence_in_the_sources(clean):
    ids = clean.identities()
    tl = pq.read_table(clean.truth / "person_stage_timeline.parquet").to_pylist()
    assert {r["funnel_stage"] for r in tl} >= {"visitor", "engaged", "lead", "mql", "sal", "sql", "sqo",
                                              "negotiation", "won", "lost", "onboarding", "active"}
    ev = set()   # (person, kind, value, epoch)
    for r in clean.rows("segment.pages"):
        ev.add((ids[("segment", "anonymous_id", r["anonymous_id"])][0], "page", None, epoch(r["timestamp"])))
    for r in clean.rows("segment.identifies"):
        ev.add((ids[("segment", "identifies", r["id"])][0], "identify", None, epoch(r["timestamp"])))
    for r in clean.rows("hubspot.contact_property_history"):
        p = ids[("hubspot", "contact", str(r["contact_id"]))][0]
        ev.add((p, r["name"], r["value"], epoch(r["timestamp"])))
    for r in clean.rows("salesforce.opportunity_history"):
        p = ids[("salesforce", "opportunity_history", r["id"])][0]
        ev.add((p, "opp_stage", r["stage_name"], epoch(r["created_date"])))
    for r in clean.rows("salesforce.lead"):
        ev.add((ids[("salesforce", "lead", r["id"])][0], "sf_lead_created", None, epoch(r["created_date"])))
    subs = _latest(clean.rows("stripe.subscription"), TABLES["stripe.subscription"])
    for r in subs:
        p = ids[("stripe", "subscription", r["id"])][0]
        ev.add((p, "sub_created", None, epoch(r["created"])))
        if r["canceled_at"]:
            ev.add((p, "sub_canceled", r["status"], epoch(r["canceled_at"])))
    for r in _latest(clean.rows("stripe.invoice"), TABLES["stripe.invoice"]):
        p = ids[("stripe", "invoice", r["id"])][0]
        ev.add((p, "invoice", r["billing_reason"], epoch(r["period_start"])))
    # lead status at any time (for handover outcomes)
    status_any = {(p, v) for (p, k, v, t) in ev if k == "hs_lead_status"}
    need = {
        "visitor": [("page", None)], "engaged": [("identify", None), ("lifecyclestage", ("subscriber", "other"))],
        "lead": [("lifecyclestage", "lead")],
        "mql": [("lifecyclestage", "marketingqualifiedlead"), ("sf_lead_created", None)],
        "sal": [("hs_lead_status", ("CONNECTED", "IN_PROGRESS"))],
        "sql": [("opp_stage", "Prospecting"), ("lifecyclestage", "salesqualifiedlead")],
        "sqo": [("opp_stage", "Needs Analysis"), ("lifecyclestage", "opportunity")],
        "negotiation": [("opp_stage", "Proposal/Price Quote")],
        "won": [("opp_stage", "Closed Won"), ("lifecyclestage", "customer")],
        "lost": [("opp_stage", "Closed Lost")],
        "onboarding": [("sub_created", None)], "active": [("invoice", "subscription_cycle")],
        "expanded": [("invoice", "subscription_update")], "renewed": [("invoice", "subscription_cycle")],
        "churned": [("sub_canceled", "canceled")],
    }
    missing = []
    for r in tl:
        p, st, t = r["true_person_id"], r["funnel_stage"], int(r["entered_at"].timestamp())
        for kind, val in need[st]:
            vals = val if isinstance(val, tuple) else (val,)
            if not any((p, kind, v, t) in ev for v in vals):
                missing.append((p, st, kind, val, t))
        if st == "mql" and r["outcome"]:
            expect = {"accepted": ("CONNECTED", "IN_PROGRESS"), "rejected": ("UNQUALIFIED",),
                      "recycled": ("BAD_TIMING",)}[r["outcome"]]
            if not any((p, v) in status_any for v in expect):
                missing.append((p, "handover", r["outcome"]))
    assert not missing, missing[:10]
    # a won opportunity is a Closed Won opportunity in the latest opportunity export
    won_opps = {r["id"] for r in _latest(clean.rows("salesforce.opportunity"), TABLES["salesforce.opportunity"])
                if r["stage_name"] == "Closed Won"}
    otl = pq.read_table(clean.truth / "opportunity_stage_timeline.parquet").to_pylist()
    assert {r["opportunity_id"] for r in otl if r["stage_name"] == "Closed Won"} == won_opps
    # funnel counts agree with the timeline
    with open(clean.truth / "funnel_counts_monthly.csv") as fh:
        fc = list(csv.DictReader(fh))
    total_mql = sum(int(r["persons"]) for r in fc if r["funnel_stage"] == "mql")
    assert total_mql == sum(r["funnel_stage"] == "mql" for r in tl)
    # a funnel counts each person once per stage, in the month of the first entry
    first = {}
    for r in tl:
        key = (r["true_person_id"], r["funnel_stage"])
        first[key] = min(first.get(key, r["entered_at"]), r["entered_at"])
    expect = Counter((t.strftime("%Y-%m"), s) for (_, s), t in first.items())
    assert {(r["month"], r["funnel_stage"]): int(r["persons"]) for r in fc} == dict(expect)


# ------------------------------------------------------------------------------ mess
def _timestamp_values(company, skip_formats=("parquet",)):
    vals = []
    for spec in SOURCE_TABLES:
        if spec.format in skip_formats:
            continue
        tcols = [c for c in spec.columns if spec.types[c] == "t"]
        for r in company.rows(spec.key):
            vals.extend(r[c] for c in tcols if isinstance(r[c], str))
    return vals


def test_timezone_offsets_at_their_rate(clean, messy):
    assert not any(OFFSET_RE.search(v) for v in _timestamp_values(clean))
    vals = _timestamp_values(messy)
    share = sum(bool(OFFSET_RE.search(v)) for v in vals) / len(vals)
    assert abs(share - MESSY.tz_offset) < 0.02
    v = next(v for v in vals if OFFSET_RE.search(v))
    datetime.fromisoformat(v)                       # still a valid ISO 8601 instant


def _optional_nulls(company):
    n = nul = 0
    for spec in SOURCE_TABLES:
        for c in spec.optional:
            for r in company.rows(spec.key):
                n += 1
                nul += r[c] is None
    return nul, n


def test_nulls_in_optional_fields_at_their_rate(clean, messy):
    nul, n = _optional_nulls(clean)
    assert nul / n < 0.05 and clean.manifest["mess_injected"]["null_optional"] == 0
    nul, n = _optional_nulls(messy)
    inj = messy.manifest["mess_injected"]["null_optional"]
    assert nul >= inj
    # blanked among the values that were there: the configured rate
    assert abs(inj / (n - (nul - inj)) - MESSY.null_optional) < 0.01


STAGE_COLUMNS = [(k.split(".")[0], k.split(".")[1], c, vocab) for k, c, vocab in (
    ("hubspot.contact", "property_lifecyclestage", V.HUBSPOT_LIFECYCLE_STAGES),
    ("hubspot.contact", "property_hs_lead_status", V.HUBSPOT_LEAD_STATUSES),
    ("salesforce.lead", "status", V.SALESFORCE_LEAD_STATUSES),
    ("salesforce.opportunity", "stage_name", V.SALESFORCE_OPPORTUNITY_STAGES),
    ("salesforce.opportunity_history", "stage_name", V.SALESFORCE_OPPORTUNITY_STAGES),
    ("stripe.subscription", "status", V.STRIPE_SUBSCRIPTION_STATUSES))]


def _unknown_share(company):
    n = bad = 0
    for system, table, col, vocab in STAGE_COLUMNS:
        for r in company.rows(f"{system}.{table}"):
            if r[col] is not None:
                n += 1
                bad += r[col] not in vocab
    return bad / n


def test_unknown_stage_values_at_their_rate(clean, messy):
    assert _unknown_share(clean) == 0
    assert abs(_unknown_share(messy) - MESSY.unknown_stage) < 0.025


def _is_malformed(spec, line: str, kind: str, column: str) -> bool:
    if spec.format == "csv":
        rec = next(csv.reader([line]))
        if len(rec) != len(spec.columns):
            return kind == "wrong_column_count"
        v = rec[spec.columns.index(column)]
        if kind == "unparseable_date":
            try:
                datetime.fromisoformat(v.replace("Z", "+00:00"))
                return False
            except ValueError:
                return True
        try:
            float(v)
            return False
        except ValueError:
            return kind == "bad_number"
    try:
        d = json.loads(line)
    except json.JSONDecodeError:
        return kind == "invalid_json"
    v = d[column]
    if kind == "wrong_type":
        return not isinstance(v, (int, float)) or isinstance(v, bool)
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
        return False
    except (ValueError, AttributeError):
        return kind == "unparseable_date"


def test_malformed_rows_listed_in_the_truth_at_their_rate(clean, messy):
    assert not clean.malformed
    lines = bad = 0
    kinds = set()
    for spec in SOURCE_TABLES:
        if spec.format == "parquet":
            continue
        for f in messy.files(spec.key):
            rel = f"{spec.system}/{spec.table}/{f.name}"
            text = f.read_text().split("\n")[:-1]
            listed = messy.malformed.get(rel, {})
            lines += len(text) - (spec.format == "csv")
            bad += len(listed)
            for ln, r in listed.items():
                assert _is_malformed(spec, text[ln - 1], r["kind"], r["column"]), (rel, ln, r)
                kinds.add(r["kind"])
            # every line not listed parses (read_file raises otherwise)
            read_file(f, spec, listed)
    assert kinds == {"wrong_column_count", "unparseable_date", "bad_number", "invalid_json", "wrong_type"}
    assert abs(bad / lines - MESSY.malformed) < 0.004


EMAIL_COLUMNS = (("salesforce.lead", "email"), ("salesforce.contact", "email"), ("hubspot.contact", "property_email"),
                 ("segment.identifies", "email"), ("stripe.customer", "email"), ("zendesk.user", "email"))


def _email_variation(company):
    n = var = 0
    for key, col in EMAIL_COLUMNS:
        seen = set()
        for r in company.rows(key):
            pk = r["id"]
            if pk in seen or r[col] is None:
                continue
            seen.add(pk)
            n += 1
            var += r[col] != r[col].strip().lower()
    return var / n


def test_email_case_and_spacing_vary_at_their_rate(clean, messy):
    assert _email_variation(clean) == 0
    assert abs(_email_variation(messy) - MESSY.email_variation) < 0.05


def test_duplicates_and_merges_at_their_rate(clean, messy):
    for company, rate in ((clean, 0.0), (messy, MESSY.duplicate)):
        ids = company.identities()
        per_person = {}
        for r in company.rows("hubspot.contact"):
            per_person.setdefault(ids[("hubspot", "contact", str(r["id"]))][0], set()).add(r["id"])
        share = sum(len(v) > 1 for v in per_person.values()) / len(per_person)
        assert abs(share - rate) < 0.04
        merged = [r for r in company.rows("salesforce.lead") if r["master_record_id"]]
        merged_hs = [r for r in company.rows("hubspot.contact") if r["property_hs_calculated_merged_vids"]]
        assert bool(merged) == (rate > 0) and bool(merged_hs) == (rate > 0)
        for r in merged:
            assert r["is_deleted"] == "true"


def test_soft_deletes_at_their_rate(clean, messy):
    keys = ("salesforce.task", "salesforce.opportunity", "salesforce.event", "stripe.invoice", "zendesk.ticket")
    for company, rate in ((clean, 0.0), (messy, MESSY.soft_delete)):
        n = d = 0
        for key in keys:
            spec = TABLES[key]
            for r in _latest(company.rows(key), spec):
                n += 1
                d += r[spec.deleted_flag] in ("true", True)
        assert abs(d / n - rate) < 0.025, (d, n)


def test_updates_after_export_late_and_out_of_order_arrivals(clean, messy):
    static = ("hubspot.company", "salesforce.contact", "zendesk.organization", "stripe.customer")
    for company, rate in ((clean, 0.0), (messy, MESSY.update_after_export)):
        again = n_initial = 0
        for key in static:
            spec = TABLES[key]
            rows = company.rows(key)
            initial = {r["id"] for r in rows if r["__file"].startswith("2026-07-01")}
            n_initial += len(initial)
            again += len({r["id"] for r in rows if not r["__file"].startswith("2026-07-01")} & initial)
        expected = rate * n_initial * 3
        assert (again == 0) if rate == 0 else (0.4 * expected <= again <= 1.8 * expected), (again, expected)
        # late arrivals: delta files holding events from before their window
        late = 0
        for key in ("segment.pages", "hubspot.email_event", "hubspot.contact_form_submission"):
            spec = TABLES[key]
            for r in company.rows(key):
                day = r["__file"].split(".")[0]
                if day != "2026-07-01":
                    start = epoch(day + "T00:00:00Z") - 86400
                    late += epoch(r[spec.event_time]) < start
        assert (late == 0) if rate == 0 else late > 0
    # out-of-order rows within files (updated-at column, where it is the version time)
    for company, rate in ((clean, 0.0), (messy, MESSY.out_of_order)):
        inv = n = 0
        for spec in SOURCE_TABLES:
            if spec.format == "parquet" or spec.updated_at in ("_fivetran_synced", "received_at"):
                continue
            for f in company.files(spec.key):
                rel = f"{spec.system}/{spec.table}/{f.name}"
                ts = [epoch(r[spec.updated_at]) for r in read_file(f, spec, company.malformed.get(rel, {}))]
                n += len(ts)
                inv += sum(b < a for a, b in zip(ts, ts[1:]))
        share = inv / n
        assert share == 0 if rate == 0 else 0.4 * rate <= share <= 2.5 * rate


def test_mess_counts_are_reported(messy, clean):
    inj = messy.manifest["mess_injected"]
    for k in MessConfig.none().as_dict():
        if k in ("email_variation", "malformed"):
            continue
        assert inj.get(k, 0) > 0, k
    assert messy.manifest["malformed_rows"] == sum(len(v) for v in messy.malformed.values())
    assert all(v == 0 for v in clean.manifest["mess_injected"].values())
    assert clean.manifest["mess"] == MessConfig.none().as_dict()


# ------------------------------------------------------------------------------ append
def test_append_days_adds_the_following_days_and_never_rewrites(tmp_path, capsys):
    land, truth = tmp_path / "landing", tmp_path / "truth"
    generate_company(land, truth, scale=0.1, seed=5)
    before = _all_bytes(land)
    rep = append_days(land, truth, days=1)
    after = _all_bytes(land)
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(set(after) - set(before))
    assert len(new) == len(SOURCE_TABLES) and all("2026-07-05" in k for k in new)
    assert rep["export_days_written"] == ["2026-07-05"]
    assert main(["--out", str(land), "--truth", str(truth), "--append-days", "2"]) == 0
    out = capsys.readouterr().out
    assert "touch events" in out
    names = {p.name.split(".")[0] for p in land.rglob("*.*")}
    assert {"2026-07-06", "2026-07-07"} <= names
    m = json.loads((truth / "manifest.json").read_text())
    assert m["delta_days"] == 6 and m["last_export_day"] == "2026-07-07"
    # the same files as a company generated with six delta days at once
    generate_company(tmp_path / "direct" / "landing", tmp_path / "direct" / "truth", scale=0.1, seed=5, delta_days=6)
    assert _all_bytes(tmp_path / "direct" / "landing") == _all_bytes(land)
    for name in ("identities.parquet", "person_stage_timeline.parquet", "malformed_rows.csv", "funnel_counts_monthly.csv"):
        assert (tmp_path / "direct" / "truth" / name).read_bytes() == (truth / name).read_bytes(), name
    with pytest.raises(FileExistsError):
        os.makedirs(land / "segment" / "pages", exist_ok=True)
        (land / "segment" / "pages" / "2026-07-08.jsonl").write_text("")
        append_days(land, truth, days=1)


def test_distinct_accounts_have_distinct_names_and_domains(tmp_path):
    """Two true accounts never share a domain or a name: nothing in the sources could
    tell them apart, so identity resolution would rightly merge them."""
    generate_company(tmp_path / "landing", tmp_path / "truth", scale=1.0, seed=7)
    accounts = pq.read_table(tmp_path / "truth" / "accounts.parquet").to_pylist()
    assert len({a["domain"] for a in accounts}) == len(accounts)
    assert len({a["name"].lower() for a in accounts}) == len(accounts)


def test_every_opportunity_moves_forward_through_its_stages(tmp_path):
    """Moving a stage's time into working hours must never put it before the stage it follows.

    It did at scale 110 (two opportunities of 16,000 entered Needs Analysis after Proposal
    on the same day), and the audit's stage-order suite then refused the publish; scale 20
    is the smallest company where the old code produced such an opportunity.
    """
    import pyarrow.parquet as pq

    truth = tmp_path / "truth"
    generate_company(tmp_path / "landing", truth, scale=20, seed=42)
    timeline = pq.read_table(truth / "opportunity_stage_timeline.parquet").to_pylist()
    order = {name: k for k, name in enumerate(V.SALESFORCE_OPPORTUNITY_STAGES)}
    by_opportunity: dict[str, list] = {}
    for row in sorted(timeline, key=lambda r: (r["opportunity_id"], r["entered_at"])):
        by_opportunity.setdefault(row["opportunity_id"], []).append(row["stage_name"])
    backward = [
        (opportunity, stages) for opportunity, stages in by_opportunity.items()
        if any(order[b] < order[a] for a, b in zip(stages, stages[1:]) if "Closed" not in b)
    ]
    assert not backward, backward[:3]
