"""Cut the simulated record versions into a connector's export files, with the mess.

File model: the first export day (CUTOFF's date) carries an initial sync of every table:
the latest version of every record that the connector had received before CUTOFF. Each
later export day D carries a delta: the latest version of every record received during the
day before D (new records, newer versions of exported ones, late arrivals).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .fmt import DAY, fmt_date, fmt_timestamp
from .mess import MessConfig
from .schemas import TABLES, SourceTable
from .simulate import CUTOFF, HORIZON, START, World
from . import vocabulary as V

TZ_OFFSETS = np.array([60, 120, -300, -240, 330, 540, -420, 600], np.int64)
# touched-up records: entity tables a person edits after the initial sync
UPDATABLE = ("salesforce.account", "salesforce.contact", "salesforce.lead", "salesforce.opportunity",
             "salesforce.task", "salesforce.campaign_member", "hubspot.contact", "hubspot.company",
             "stripe.customer", "zendesk.user", "zendesk.ticket", "zendesk.organization")


def day_str(t: int) -> str:
    return str(np.datetime64(int(t), "s").astype("datetime64[D]"))


def export_day_times(n_days: int) -> list[int]:
    """Window ends: export day k's file holds what arrived before export_day_times[k]."""
    return [CUTOFF + k * DAY for k in range(n_days + 1)]


def max_delta_days() -> int:
    return int((HORIZON - CUTOFF) // DAY)


# ---------------------------------------------------------------------------- version mess
def _sorted_index(rid: np.ndarray, vt: np.ndarray):
    order = np.lexsort((np.arange(len(rid)), vt, rid))
    return order


def _version_at(rid_s, vt_s, q_rid, q_t):
    """Index (into the sorted arrays) of the latest version of q_rid with vt <= q_t, or -1."""
    key_s = rid_s.astype(np.int64) * (1 << 32) + (np.floor(vt_s) - START + (1 << 30)).astype(np.int64)
    key_q = q_rid.astype(np.int64) * (1 << 32) + (np.floor(q_t) - START + (1 << 30)).astype(np.int64)
    pos = np.searchsorted(key_s, key_q, side="right") - 1
    ok = (pos >= 0) & (rid_s[np.maximum(pos, 0)] == q_rid)
    return np.where(ok, pos, -1)


def apply_version_mess(world: World, rng: np.random.Generator) -> dict:
    """Soft deletes, edits after the initial export and late arrivals, on the versions."""
    mess, counts = world.mess, {"soft_delete": 0, "update_after_export": 0, "late_arrival": 0}
    for key in list(world.tables):
        tbl = world.tables.pop(key)
        spec = TABLES[key]
        if tbl.num_rows == 0:
            world.tables[key] = tbl
            continue
        rid = tbl["_rid"].to_numpy()
        vt = tbl["_vt"].to_numpy()
        order = _sorted_index(rid, vt)
        tbl = tbl.take(pa.array(order))
        rid, vt = rid[order], vt[order]
        recs, first_i = np.unique(rid, return_index=True)
        # soft deletes
        if spec.deleted_flag and mess.soft_delete > 0 and spec.event_time is None:
            deleted_now = tbl[spec.deleted_flag].to_numpy(zero_copy_only=False)
            last_i = np.r_[first_i[1:], len(rid)] - 1
            pick = (rng.random(len(recs)) < mess.soft_delete) & ~deleted_now[last_i]
            t_first = vt[first_i[pick]]
            t_del = np.floor(t_first + 60 + rng.random(pick.sum()) * np.maximum(HORIZON - t_first - 120, 0))
            q = _version_at(rid, vt, recs[pick], t_del)
            ok = q >= 0
            q, t_del, drecs = q[ok], t_del[ok], recs[pick][ok]
            counts["soft_delete"] += len(q)
            # versions after the deletion disappear
            del_at = np.full(len(recs), np.inf)
            del_at[np.searchsorted(recs, drecs)] = t_del
            keep = vt <= del_at[np.searchsorted(recs, rid)]
            newv = tbl.take(pa.array(q))
            newv = _set(newv, spec.deleted_flag, pa.array(np.ones(len(q), bool)))
            newv = _set(newv, "_vt", pa.array(t_del)); newv = _set(newv, "_arr", pa.array(t_del))
            tbl = pa.concat_tables([tbl.filter(pa.array(keep)), newv])
        # edits after the initial export
        if key in UPDATABLE and mess.update_after_export > 0:
            rid = tbl["_rid"].to_numpy(); vt = tbl["_vt"].to_numpy()
            order = _sorted_index(rid, vt); tbl = tbl.take(pa.array(order)); rid, vt = rid[order], vt[order]
            recs, first_i = np.unique(rid, return_index=True)
            days = max_delta_days()
            n = rng.binomial(len(recs) * days, mess.update_after_export)
            q_rid = recs[rng.integers(0, len(recs), n)]
            q_t = np.floor(CUTOFF + rng.random(n) * (HORIZON - CUTOFF))
            q = _version_at(rid, vt, q_rid, q_t)
            ok = q >= 0
            if spec.deleted_flag:
                ok &= ~tbl[spec.deleted_flag].to_numpy(zero_copy_only=False)[np.maximum(q, 0)]
            q, q_t = q[ok], q_t[ok]
            counts["update_after_export"] += len(q)
            newv = tbl.take(pa.array(q))
            newv = _set(newv, "_vt", pa.array(q_t)); newv = _set(newv, "_arr", pa.array(q_t))
            tbl = pa.concat_tables([tbl, newv])
        # late arrivals
        if spec.event_time and mess.late_arrival > 0:
            arr = tbl["_arr"].to_numpy().copy()
            late = rng.random(len(arr)) < mess.late_arrival
            arr[late] += np.floor(rng.uniform(1, 5, late.sum()) * DAY)
            counts["late_arrival"] += int(late.sum())
            tbl = _set(tbl, "_arr", pa.array(arr))
        # final order: by record, then version time (stable)
        rid = tbl["_rid"].to_numpy(); vt = tbl["_vt"].to_numpy()
        tbl = tbl.take(pa.array(_sorted_index(rid, vt)))
        world.tables[key] = tbl
    return counts


def _set(tbl: pa.Table, name: str, arr) -> pa.Table:
    i = tbl.schema.get_field_index(name)
    return tbl.set_column(i, name, arr)


# ---------------------------------------------------------------------------- selection
def select_versions(tbl: pa.Table, a: float, b: float) -> pa.Table:
    """Latest version per record among versions that arrived in [a, b), in time order."""
    if tbl.num_rows == 0:
        return tbl
    arr = tbl["_arr"].to_numpy()
    idx = np.nonzero((arr >= a) & (arr < b))[0]
    if len(idx) == 0:
        return tbl.slice(0, 0)
    rid = tbl["_rid"].to_numpy()[idx]
    vt = tbl["_vt"].to_numpy()[idx]
    # the table is sorted by (rid, vt): the last of each rid run is the latest version
    last = np.r_[rid[1:] != rid[:-1], True]
    idx, vt, rid = idx[last], vt[last], rid[last]
    o = np.lexsort((rid, vt))
    return tbl.take(pa.array(idx[o]))


# ---------------------------------------------------------------------------- rendering
@dataclass
class FileResult:
    path: str
    rows: int
    malformed: list = field(default_factory=list)     # (line, kind, column)
    injected: dict = field(default_factory=dict)


def _synced(arr: np.ndarray, rid: np.ndarray) -> np.ndarray:
    lag = 30 + (rid.astype(np.int64) * 2654435761) % 1800
    eod = (np.floor(arr / DAY) + 1) * DAY - 1
    return np.minimum(np.floor(arr) + lag, eod)


def _values(tbl: pa.Table, spec: SourceTable) -> dict:
    """Column -> numpy (numbers, times, bools) or pa string array, with the auto columns."""
    rid = tbl["_rid"].to_numpy()
    vt = tbl["_vt"].to_numpy()
    arr = tbl["_arr"].to_numpy()
    synced = _synced(arr, rid)
    out = {}
    for c in spec.columns:
        typ = spec.types[c]
        if c in ("_fivetran_synced", "received_at"):
            out[c] = synced
        elif c == spec.updated_at or c == "system_modstamp":
            out[c] = np.floor(vt)
        elif typ == "s":
            out[c] = tbl[c].combine_chunks()
        else:
            out[c] = tbl[c].to_numpy(zero_copy_only=False)
    return out


def _inject_value_mess(vals: dict, spec: SourceTable, rng, mess: MessConfig, n: int, inj: dict):
    # nulls in optional columns
    if mess.null_optional > 0:
        for c in sorted(spec.optional):
            m = rng.random(n) < mess.null_optional
            v = vals[c]
            if isinstance(v, (pa.Array, pa.ChunkedArray)):
                m &= ~np.asarray(v.is_null(), bool)
                vals[c] = pc.if_else(pa.array(m), pa.scalar(None, v.type), v)
            else:
                m &= ~np.isnan(v)
                v = v.copy(); v[m] = np.nan; vals[c] = v
            inj["null_optional"] = inj.get("null_optional", 0) + int(m.sum())
    # stage values the governed mapping does not know
    if mess.unknown_stage > 0:
        for (sy, tb, col), unknown in V.UNKNOWN_STAGE_VALUES.items():
            if (sy, tb) != (spec.system, spec.table):
                continue
            m = rng.random(n) < mess.unknown_stage
            if spec.table == "contact_property_history":
                m &= np.asarray(pc.equal(vals["name"], "hs_lead_status").fill_null(False), bool)
            m &= ~np.asarray(vals[col].is_null(), bool)
            repl = pa.array(np.asarray(unknown, object)[rng.integers(0, len(unknown), n)], pa.string())
            vals[col] = pc.if_else(pa.array(m), repl, vals[col])
            inj["unknown_stage"] = inj.get("unknown_stage", 0) + int(m.sum())


def _tokens(vals: dict, spec: SourceTable, rng, mess: MessConfig, n: int, json: bool, inj: dict) -> list:
    toks = []
    for c in spec.columns:
        typ, v = spec.types[c], vals[c]
        if typ == "t":
            off = None
            if mess.tz_offset > 0:
                m = (rng.random(n) < mess.tz_offset) & ~np.isnan(v)
                off = np.where(m, TZ_OFFSETS[rng.integers(0, len(TZ_OFFSETS), n)], 0)
                inj["tz_offset"] = inj.get("tz_offset", 0) + int(m.sum())
            s = fmt_timestamp(v, off)
            quoted = True
        elif typ == "d":
            s, quoted = fmt_date(v), True
        elif typ == "i":
            nul = np.isnan(v)
            s = pc.cast(pa.array(np.where(nul, 0, v).astype(np.int64), mask=nul), pa.string())
            quoted = False
        elif typ == "f":
            nul = np.isnan(v)
            s = pc.cast(pa.array(np.round(np.where(nul, 0, v), 2), mask=nul), pa.string())
            quoted = False
        elif typ == "b":
            s = pc.if_else(pa.array(np.asarray(v, bool)), pa.scalar("true"), pa.scalar("false"))
            quoted = False
        else:
            s = v if isinstance(v, pa.Array) else v.combine_chunks()
            if json:
                s = pc.replace_substring(pc.replace_substring(s, "\\", "\\\\"), '"', '\\"')
            else:
                need = pc.match_substring_regex(s, '[,"\\n]')
                s = pc.if_else(need, pc.binary_join_element_wise('"', pc.replace_substring(s, '"', '""'), '"', ""), s)
            quoted = True
        if json:
            pre = '"' + c + '":'
            if quoted:
                s = pc.binary_join_element_wise(pre + '"', s, '"', "")
            else:
                s = pc.binary_join_element_wise(pre, s, "")
            s = s.fill_null(pre + "null")
        else:
            s = s.fill_null("")
        toks.append(s)
    return toks


def _malformed(toks: list, spec: SourceTable, rng, rate: float, n: int, json: bool):
    """Pick lines to corrupt; returns (row indices, replacement lines, kinds, columns)."""
    if rate <= 0 or n == 0:
        return [], [], [], []
    rows = np.nonzero(rng.random(n) < rate)[0]
    if len(rows) == 0:
        return [], [], [], []
    tcols = [i for i, c in enumerate(spec.columns) if spec.types[c] in ("t", "d")]
    ncols = [i for i, c in enumerate(spec.columns) if spec.types[c] in ("i", "f")]
    kinds_avail = (["invalid_json", "wrong_type", "unparseable_date"] if json
                   else ["wrong_column_count", "unparseable_date", "bad_number"])
    if not tcols:
        kinds_avail = [k for k in kinds_avail if k != "unparseable_date"]
    if not ncols:
        kinds_avail = [k for k in kinds_avail if k not in ("bad_number", "wrong_type")]
    kind_i = rng.integers(0, len(kinds_avail), len(rows))
    pick = rng.integers(0, 1 << 30, len(rows))
    sub = [t.take(pa.array(rows)).to_pylist() for t in toks]
    lines, kinds, cols = [], [], []
    for j in range(len(rows)):
        fields_ = [s[j] for s in sub]
        kind = kinds_avail[kind_i[j]]
        col = ""
        if kind == "wrong_column_count":
            if pick[j] % 2:
                fields_.append("unexpected")
            else:
                fields_ = fields_[:-2]
        elif kind == "unparseable_date":
            ci = tcols[pick[j] % len(tcols)]
            col = spec.columns[ci]
            bad = ("31/06/2026 25:61", "not a date", "2026-13-45T99:00:00Z")[pick[j] % 3]
            fields_[ci] = f'"{col}":"{bad}"' if json else bad
        elif kind == "bad_number":
            ci = ncols[pick[j] % len(ncols)]
            col = spec.columns[ci]
            fields_[ci] = ("12O.5x", "1.234.567", "NaN%")[pick[j] % 3]
        elif kind == "wrong_type":
            ci = ncols[pick[j] % len(ncols)]
            col = spec.columns[ci]
            fields_[ci] = f'"{col}":' + ('"n/a"', '{"value": 1}', '[1, 2]')[pick[j] % 3]
        line = ("{" + ",".join(fields_) + "}") if json else ",".join(fields_)
        if kind == "invalid_json":
            line = line[: max(len(line) // 2, 2)]
        lines.append(line); kinds.append(kind); cols.append(col)
    return rows, lines, kinds, cols


def render_file(tbl: pa.Table, spec: SourceTable, path: str, rng: np.random.Generator,
                mess: MessConfig, write: bool = True, chunk: int = 200_000) -> FileResult:
    n = tbl.num_rows
    res = FileResult(path, n)
    # out-of-order rows
    if mess.out_of_order > 0 and n > 1:
        pos = np.arange(n, dtype=np.float64)
        m = rng.random(n) < mess.out_of_order
        pos[m] = rng.random(m.sum()) * n
        res.injected["out_of_order"] = int(m.sum())
        tbl = tbl.take(pa.array(np.argsort(pos, kind="stable")))
    if spec.format == "parquet":
        if write:
            _write_parquet(tbl, spec, path)
        return res
    json = spec.format == "jsonl"
    if write:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") if write else _NullFile() as fh:
        if not json:
            fh.write((",".join(spec.columns) + "\n").encode())
        for s0 in range(0, max(n, 1), chunk):
            part = tbl.slice(s0, chunk)
            m_ = part.num_rows
            if m_ == 0:
                break
            vals = _values(part, spec)
            _inject_value_mess(vals, spec, rng, mess, m_, res.injected)
            toks = _tokens(vals, spec, rng, mess, m_, json, res.injected)
            rows, bad_lines, kinds, cols = _malformed(toks, spec, rng, mess.malformed, m_, json)
            if not write:
                for r, k, c in zip(rows, kinds, cols):
                    res.malformed.append((int(s0 + r) + (1 if json else 2), k, c))
                continue
            if json:
                lines = pc.binary_join_element_wise("{", pc.binary_join_element_wise(*toks, ","), "}\n", "")
            else:
                lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*toks, ","), "\n", "")
            if len(rows):
                mask = np.zeros(m_, bool); mask[rows] = True
                lines = pc.replace_with_mask(lines, pa.array(mask), pa.array([x + "\n" for x in bad_lines], pa.string()))
                for r, k, c in zip(rows, kinds, cols):
                    res.malformed.append((int(s0 + r) + (1 if json else 2), k, c))
            lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
            offs = np.frombuffer(lines.buffers()[1], np.int32, m_ + 1, lines.offset * 4)
            data = lines.buffers()[2]
            fh.write(memoryview(data)[offs[0]:offs[-1]])
    return res


class _NullFile:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def write(self, b):
        pass


_PQ_TYPES = {"s": pa.string(), "i": pa.int64(), "f": pa.float64(), "b": pa.bool_(),
             "t": pa.timestamp("us", tz="UTC"), "d": pa.date32()}


def _write_parquet(tbl: pa.Table, spec: SourceTable, path: str):
    vals = _values(tbl, spec)
    cols = {}
    for c in spec.columns:
        typ, v = spec.types[c], vals[c]
        if typ == "s":
            cols[c] = v.cast(pa.string())
        elif typ in ("i", "f"):
            nul = np.isnan(v)
            a = np.where(nul, 0, v)
            cols[c] = pa.array(a.astype(np.int64) if typ == "i" else np.round(a, 2), mask=nul)
        elif typ == "b":
            cols[c] = pa.array(np.asarray(v, bool))
        elif typ == "t":
            nul = np.isnan(v)
            cols[c] = pa.array((np.where(nul, 0, v).astype(np.int64) * 1_000_000), mask=nul).cast(_PQ_TYPES["t"])
        elif typ == "d":
            nul = np.isnan(v)
            cols[c] = pa.array(np.floor_divide(np.where(nul, 0, v), DAY).astype(np.int32), mask=nul).cast(pa.date32())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    table = pa.table(cols, schema=pa.schema([(c, _PQ_TYPES[spec.types[c]]) for c in spec.columns]))
    pq.write_table(table, path, compression="zstd", write_statistics=True)
