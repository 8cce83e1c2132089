"""Generate a B2B software company's export files (the landing zone) and its ground truth.

    python -m orchestration.sources.generate --out <landing_dir> --truth <truth_dir>
        [--scale S] [--seed N] [--append-days K]

Python API: `generate_company(landing_dir, truth_dir, scale=0.1, seed=42, mess=None)` and
`append_days(landing_dir, truth_dir, days=1)`; both return a report dict.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .export import (apply_version_mess, day_str, export_day_times, max_delta_days,
                     render_file, select_versions)
from .mess import MessConfig
from .schemas import SOURCE_TABLES
from .simulate import START, World, simulate

DEFAULT_DELTA_DAYS = 3
FUNNEL_STAGES = ("visitor", "engaged", "lead", "mql", "sal", "sql", "sqo", "negotiation", "won",
                 "lost", "onboarding", "active", "expanded", "renewed", "churned")
TOUCH_TABLES = ("segment.pages", "hubspot.email_event", "hubspot.contact_form_submission")
MANIFEST = "manifest.json"
MALFORMED_COLUMNS = ("system", "table", "file", "line", "kind", "column")


def generate_company(landing_dir, truth_dir, scale: float = 0.1, seed: int = 42,
                     mess: MessConfig | None = None, delta_days: int = DEFAULT_DELTA_DAYS) -> dict:
    """Write the initial export plus `delta_days` daily delta files per table, and the truth."""
    mess = MessConfig() if mess is None else mess
    return _run(str(landing_dir), str(truth_dir), float(scale), int(seed), mess,
                n_days=int(delta_days), write_from=0, previous=None)


def append_days(landing_dir, truth_dir, days: int = 1) -> dict:
    """Write the next `days` daily delta files of the company already in these folders."""
    truth_dir, landing_dir = str(truth_dir), str(landing_dir)
    with open(os.path.join(truth_dir, MANIFEST)) as fh:
        prev = json.load(fh)
    n_prev = int(prev["delta_days"])
    n_new = n_prev + int(days)
    if n_new > max_delta_days():
        raise ValueError(f"the simulated future ends after {max_delta_days()} delta days; "
                         f"{n_prev} are written, {days} more asked")
    mess = MessConfig.from_dict(prev["mess"])
    return _run(landing_dir, truth_dir, float(prev["scale"]), int(prev["seed"]), mess,
                n_days=n_new, write_from=n_prev + 1, previous=prev)


# ------------------------------------------------------------------------------- the run
def _run(landing, truth, scale, seed, mess, n_days, write_from, previous):
    t_start = time.perf_counter()
    world = simulate(scale, seed, mess)
    version_mess = apply_version_mess(world, np.random.default_rng([seed, 7001]))
    ends = export_day_times(n_days)
    day_names = [day_str(e) for e in ends]            # ends[0] = CUTOFF: the initial export day
    t_last = ends[-1]
    files, rows_per_table, malformed, injected = {}, {}, [], dict(version_mess)
    for k in ("null_optional", "unknown_stage", "tz_offset", "out_of_order"):
        injected.setdefault(k, 0)
    injected["duplicate"] = world.mess_counts.get("duplicate", 0)
    exported: dict[str, np.ndarray] = {}
    seg_ids, product_accounts = [], []
    ad_clicks = 0.0
    if previous is not None:
        files.update(previous["files"])
        for k, v in previous.get("mess_injected", {}).items():
            if k not in version_mess and k != "duplicate":
                injected[k] = v
        malformed.extend(_read_malformed(truth))
    for ti, spec in enumerate(SOURCE_TABLES):
        tbl = world.tables.pop(spec.key)          # freed once its files are written
        rid_max = int(pc.max(tbl["_rid"]).as_py()) + 1 if tbl.num_rows else 0
        seen = np.zeros(rid_max, bool)
        for di, day in enumerate(day_names):
            a = -np.inf if di == 0 else ends[di - 1]
            sel = select_versions(tbl, a, ends[di])
            if sel.num_rows:
                seen[sel["_rid"].to_numpy()] = True
                if spec.system == "segment":
                    _collect_segment(sel, seg_ids)
                if spec.key == "product.daily_usage":
                    product_accounts.append(sel.select(["account_id", "_account"]))
            rel = f"{spec.system}/{spec.table}/{day}.{spec.ext}"
            if di < write_from:
                continue
            path = os.path.join(landing, rel)
            if previous is not None and os.path.exists(path):
                raise FileExistsError(f"{path} exists: append never rewrites a file")
            rng = np.random.default_rng([seed, ti, di, 4242])
            res = render_file(sel, spec, path, rng, mess)
            files[rel] = res.rows
            for line, kind, col in res.malformed:
                malformed.append((spec.system, spec.table, rel, line, kind, col))
            for k, v in res.injected.items():
                injected[k] = injected.get(k, 0) + v
        exported[spec.key] = seen
        if spec.key == "ads.campaign_spend" and tbl.num_rows:
            rid = tbl["_rid"].to_numpy()
            clicks = tbl["clicks"].to_numpy()
            u, first = np.unique(rid, return_index=True)
            ad_clicks = float(clicks[first][seen[u]].sum())
    for rel, n in files.items():
        key = ".".join(rel.split("/")[:2])
        rows_per_table[key] = rows_per_table.get(key, 0) + n
    touch_events = int(sum(int(exported[k].sum()) for k in TOUCH_TABLES) + ad_clicks)
    malformed.sort(key=lambda r: (r[2], r[3]))
    truth_counts = _write_truth(world, truth, t_last, exported, seg_ids, product_accounts, malformed)
    manifest = {
        "scale": scale, "seed": seed, "mess": mess.as_dict(),
        "history_start": day_str(START), "first_export_day": day_names[0],
        "delta_days": n_days, "export_days": day_names, "last_export_day": day_names[-1],
        "data_until": str(np.datetime64(int(t_last), "s")) + "Z",
        "files": dict(sorted(files.items())), "rows_per_table": dict(sorted(rows_per_table.items())),
        "touch_events": touch_events,
        "touch_events_detail": {k: int(exported[k].sum()) for k in TOUCH_TABLES} | {"ads.campaign_spend.clicks": int(ad_clicks)},
        "malformed_rows": len(malformed), "mess_injected": dict(sorted(injected.items())),
        "truth": truth_counts,
    }
    os.makedirs(truth, exist_ok=True)
    with open(os.path.join(truth, MANIFEST), "w") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")
    written = [r for r in files if (r.rsplit("/", 1)[1].split(".")[0] in day_names[write_from:])]
    rows_per_system = {}
    for rel in written:
        rows_per_system[rel.split("/")[0]] = rows_per_system.get(rel.split("/")[0], 0) + files[rel]
    return {
        "landing_dir": landing, "truth_dir": truth, "scale": scale, "seed": seed,
        "files_written": sorted(written), "export_days_written": day_names[write_from:],
        "rows_per_table": manifest["rows_per_table"], "rows_per_system_written": rows_per_system,
        "touch_events": touch_events, "malformed_rows": len(malformed),
        "mess_injected": manifest["mess_injected"], "truth": truth_counts,
        "seconds": round(time.perf_counter() - t_start, 2),
    }


def _collect_segment(sel: pa.Table, out: list):
    p = sel["_person"]; a = sel["_account"]
    out.append(pa.table({"table": pa.array(["anonymous_id"] * sel.num_rows, pa.string()),
                         "record_id": sel["anonymous_id"], "p": p, "a": a}))
    uid = sel["user_id"]
    m = pc.is_valid(uid)
    out.append(pa.table({"table": pa.array(["user_id"] * sel.num_rows, pa.string()),
                         "record_id": uid, "p": p, "a": a}).filter(m))


def _read_malformed(truth):
    path = os.path.join(truth, "malformed_rows.csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return [(r["system"], r["table"], r["file"], int(r["line"]), r["kind"], r["column"])
                for r in csv.DictReader(fh)]


def _nullable(a: np.ndarray) -> pa.Array:
    a = np.asarray(a, np.int64)
    return pa.array(a, mask=a < 0)


def _ts(a) -> pa.Array:
    a = np.asarray(a, np.float64)
    return pa.array((np.floor(a) * 1_000_000).astype(np.int64)).cast(pa.timestamp("us", tz="UTC"))


def _ts_nullable(a) -> pa.Array:
    a = np.asarray(a, np.float64)
    nul = np.isnan(a)
    return pa.array((np.floor(np.where(nul, 0, a)) * 1_000_000).astype(np.int64), mask=nul).cast(pa.timestamp("us", tz="UTC"))


def _write_truth(world: World, truth: str, t_last: float, exported, seg_ids, product_accounts, malformed) -> dict:
    os.makedirs(truth, exist_ok=True)
    # identities: every exported person- or account-bearing record
    idt = world.identifiers
    parts = []
    for (system, table), g in _groups(idt):
        key = f"{system}.{table}"
        seen = exported.get(key)
        rid = g["_rid"].to_numpy()
        m = (rid < len(seen)) & seen[np.minimum(rid, max(len(seen) - 1, 0))] if seen is not None and len(seen) else np.zeros(len(rid), bool)
        parts.append(g.filter(pa.array(m)))
    ident = pa.concat_tables(parts).select(["system", "table", "record_id", "true_person_id", "true_account_id"])
    extra = []
    if seg_ids:
        s = pa.concat_tables(seg_ids).group_by(["table", "record_id"]).aggregate([("p", "min"), ("a", "min")])
        extra.append(pa.table({"system": pa.array(["segment"] * s.num_rows, pa.string()), "table": s["table"],
                               "record_id": s["record_id"], "true_person_id": s["p_min"], "true_account_id": s["a_min"]}))
    if product_accounts:
        s = pa.concat_tables(product_accounts).group_by(["account_id"]).aggregate([("_account", "min")])
        extra.append(pa.table({"system": pa.array(["product"] * s.num_rows, pa.string()),
                               "table": pa.array(["daily_usage"] * s.num_rows, pa.string()),
                               "record_id": s["account_id"], "true_person_id": pa.array(np.full(s.num_rows, -1, np.int64)),
                               "true_account_id": s["_account_min"]}))
    ident = pa.concat_tables([ident] + extra)
    ident = ident.sort_by([("system", "ascending"), ("table", "ascending"), ("record_id", "ascending")])
    ident = pa.table({
        "system": ident["system"], "table": ident["table"], "record_id": ident["record_id"],
        "true_person_id": _nullable(ident["true_person_id"].to_numpy()),
        "true_account_id": _nullable(ident["true_account_id"].to_numpy()),
    })
    pq.write_table(ident, os.path.join(truth, "identities.parquet"), compression="zstd")
    # person stage timeline
    tl = world.person_timeline
    m = pc.less(tl["entered_at"], t_last)
    tl = tl.filter(m)
    decided = pc.less(tl["outcome_at"], t_last).fill_null(False)
    tl = tl.set_column(tl.schema.get_field_index("outcome"), "outcome",
                       pc.if_else(decided, tl["outcome"], pa.scalar(None, pa.string())))
    touched = pc.less(tl["first_touch_at"], t_last).fill_null(False)
    order_map = {s: i for i, s in enumerate(FUNNEL_STAGES)}
    so = np.array([order_map[s] for s in tl["funnel_stage"].to_pylist()], np.int64) if tl.num_rows else np.zeros(0, np.int64)
    o = np.lexsort((so, tl["entered_at"].to_numpy(), tl["true_person_id"].to_numpy()))
    tl = tl.take(pa.array(o))
    ptl = pa.table({"true_person_id": tl["true_person_id"], "funnel_stage": tl["funnel_stage"],
                    "entered_at": _ts(tl["entered_at"].to_numpy()), "outcome": tl["outcome"],
                    "first_touch_at": _ts_nullable(np.where(np.asarray(touched, bool), tl["first_touch_at"].to_numpy(), np.nan)),
                    "outcome_at": _ts_nullable(np.where(np.asarray(decided, bool), tl["outcome_at"].to_numpy(), np.nan))})
    pq.write_table(ptl, os.path.join(truth, "person_stage_timeline.parquet"), compression="zstd")
    # opportunity stage timeline
    otl = world.opportunity_timeline
    otl = otl.filter(pc.less(otl["entered_at"], t_last))
    o = np.lexsort((otl["entered_at"].to_numpy(), np.asarray(otl["opportunity_id"].to_pylist(), object).astype(str) if otl.num_rows else np.zeros(0)))
    otl = otl.take(pa.array(o))
    otl = pa.table({"opportunity_id": otl["opportunity_id"], "true_person_id": otl["true_person_id"],
                    "true_account_id": otl["true_account_id"], "stage_name": otl["stage_name"],
                    "entered_at": _ts(otl["entered_at"].to_numpy())})
    pq.write_table(otl, os.path.join(truth, "opportunity_stage_timeline.parquet"), compression="zstd")
    # funnel counts per month: persons reaching the stage for the first time in the month.
    # A funnel counts each person once per stage (the timeline keeps every entry: a customer
    # renews once per term, and every renewal stays in person_stage_timeline)
    first = pa.table({"p": ptl["true_person_id"], "s": ptl["funnel_stage"], "t": ptl["entered_at"]})
    first = first.group_by(["p", "s"]).aggregate([("t", "min")])
    months = pc.strftime(first["t_min"], format="%Y-%m")
    fc = pa.table({"month": months, "funnel_stage": first["s"], "p": first["p"]})
    fc = fc.group_by(["month", "funnel_stage"]).aggregate([("p", "count_distinct")])
    rows = sorted(zip(fc["month"].to_pylist(), fc["funnel_stage"].to_pylist(), fc["p_count_distinct"].to_pylist()),
                  key=lambda r: (r[0], order_map[r[1]]))
    with open(os.path.join(truth, "funnel_counts_monthly.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["month", "funnel_stage", "persons"])
        w.writerows(rows)
    with open(os.path.join(truth, "malformed_rows.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(MALFORMED_COLUMNS)
        w.writerows(malformed)
    # persons and accounts behind the story (for tests and analysis)
    persons = world.persons.filter(pc.less(world.persons["first_seen_at"], t_last))
    persons = persons.set_column(persons.schema.get_field_index("first_seen_at"), "first_seen_at", _ts(persons["first_seen_at"].to_numpy()))
    persons = persons.set_column(1, "true_account_id", _nullable(persons["true_account_id"].to_numpy()))
    pq.write_table(persons, os.path.join(truth, "persons.parquet"), compression="zstd")
    pq.write_table(world.accounts, os.path.join(truth, "accounts.parquet"), compression="zstd")
    stage_counts = {}
    for s in ptl["funnel_stage"].to_pylist():
        stage_counts[s] = stage_counts.get(s, 0) + 1
    return {"persons": persons.num_rows, "accounts": world.accounts.num_rows, "identities": ident.num_rows,
            "stage_entries": {s: stage_counts.get(s, 0) for s in FUNNEL_STAGES},
            "opportunity_stage_entries": otl.num_rows}


def _groups(t: pa.Table):
    sys_ = t["system"]; tab = t["table"]
    combo = pc.binary_join_element_wise(sys_, tab, ".")
    for key in sorted(set(pc.unique(combo).to_pylist())):
        system, table = key.split(".", 1)
        yield (system, table), t.filter(pc.equal(combo, key))


# ------------------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m orchestration.sources.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="landing directory (<out>/<system>/<table>/<day>.<ext>)")
    ap.add_argument("--truth", required=True, help="ground-truth directory (never read by the pipeline)")
    ap.add_argument("--scale", type=float, default=0.1, help="1.0 = ~2,500 people and ~100k touch events (default 0.1)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--append-days", type=int, default=None, metavar="K",
                    help="append the next K days of exports to the company in --out/--truth")
    ap.add_argument("--clean", action="store_true", help="no mess at all (MessConfig.none())")
    args = ap.parse_args(argv)
    if argv is None:
        # a standalone run: the system allocator hands freed memory back sooner (lower peak RSS)
        pa.set_memory_pool(pa.system_memory_pool())
    if args.append_days is not None:
        rep = append_days(args.out, args.truth, args.append_days)
    else:
        rep = generate_company(args.out, args.truth, args.scale, args.seed,
                               MessConfig.none() if args.clean else None)
    print(f"generated scale={rep['scale']} seed={rep['seed']} days={','.join(rep['export_days_written'])}")
    print(f"  files written: {len(rep['files_written'])} in {rep['landing_dir']}")
    for system, n in sorted(rep["rows_per_system_written"].items()):
        print(f"  {system:<11} {n:>12,} rows")
    print(f"  touch events: {rep['touch_events']:,}   malformed rows: {rep['malformed_rows']:,}   "
          f"persons: {rep['truth']['persons']:,}")
    print(f"  truth: {rep['truth_dir']}   seconds: {rep['seconds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
