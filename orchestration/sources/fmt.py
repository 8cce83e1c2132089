"""Fast, vectorized rendering of values into the text of CSV and JSON-lines exports."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86400
_B62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def epoch(s: str) -> int:
    return int(np.datetime64(s, "s").astype(np.int64))


def _civil(days: np.ndarray):
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = y + (m <= 2)
    return y, m, d


_TWO = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], np.uint8)


def _put(mat, col, v, width):
    v = np.asarray(v).astype(np.int32)
    if width == 2:
        mat[:, col:col + 2] = _TWO[v]
    elif width == 4:
        mat[:, col:col + 2] = _TWO[v // 100]
        mat[:, col + 2:col + 4] = _TWO[v % 100]
    else:
        for k in range(width - 1, -1, -1):
            mat[:, col + k] = 48 + (v % 10)
            v = v // 10


def _to_arrow(mat: np.ndarray, width: int) -> pa.Array:
    n = mat.shape[0]
    buf = pa.py_buffer(np.ascontiguousarray(mat).tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, buf])


def fmt_timestamp(secs: np.ndarray, offset_min: np.ndarray | None = None) -> pa.Array:
    """ISO 8601: 'YYYY-MM-DDTHH:MM:SSZ', or with '+HH:MM' where offset_min != 0 (same instant).

    `secs` is float or int epoch seconds; NaN gives null.
    """
    secs = np.asarray(secs)
    null = np.isnan(secs) if secs.dtype.kind == "f" else np.zeros(len(secs), bool)
    s = np.where(null, 0, secs).astype(np.int64)
    n = len(s)
    if offset_min is None:
        offset_min = np.zeros(n, np.int64)
    local = s + offset_min.astype(np.int64) * 60
    days = np.floor_divide(local, DAY)
    tod = (local - days * DAY).astype(np.int32)
    y, m, d = _civil(days.astype(np.int32))
    off = offset_min != 0
    anyoff = bool(off.any())
    mat = np.empty((n, 25 if anyoff else 20), np.uint8)
    _put(mat, 0, y, 4); mat[:, 4] = 45
    _put(mat, 5, m, 2); mat[:, 7] = 45
    _put(mat, 8, d, 2); mat[:, 10] = 84
    _put(mat, 11, tod // 3600, 2); mat[:, 13] = 58
    _put(mat, 14, (tod // 60) % 60, 2); mat[:, 16] = 58
    _put(mat, 17, tod % 60, 2)
    if not anyoff:
        mat[:, 19] = 90
        arr = _to_arrow(mat, 20)
    else:
        ao = np.abs(offset_min)
        mat[:, 19] = np.where(off, np.where(offset_min > 0, 43, 45), 90)
        _put(mat, 20, ao // 60, 2); mat[:, 22] = 58
        _put(mat, 23, ao % 60, 2)
        arr = _to_arrow(mat, 25)
        short = pc.utf8_slice_codeunits(arr, 0, 20)
        arr = pc.if_else(pa.array(off), arr, short)
    if null.any():
        arr = pc.if_else(pa.array(null), pa.scalar(None, pa.string()), arr)
    return arr


def fmt_date(secs: np.ndarray) -> pa.Array:
    secs = np.asarray(secs, dtype=np.float64)
    null = np.isnan(secs)
    s = np.where(null, 0, secs).astype(np.int64)
    y, m, d = _civil(np.floor_divide(s, DAY).astype(np.int32))
    mat = np.empty((len(s), 10), np.uint8)
    _put(mat, 0, y, 4); mat[:, 4] = 45
    _put(mat, 5, m, 2); mat[:, 7] = 45
    _put(mat, 8, d, 2)
    arr = _to_arrow(mat, 10)
    if null.any():
        arr = pc.if_else(pa.array(null), pa.scalar(None, pa.string()), arr)
    return arr


def base62_ids(prefix: str, idx: np.ndarray, digits: int = 10, scramble: int = 0) -> pa.Array:
    """Unique ids: prefix + `digits` base-62 characters of idx (optionally scrambled)."""
    v = np.asarray(idx, dtype=np.int64)
    if scramble:
        mod = np.int64(62) ** min(digits, 10)
        v = (v * np.int64(scramble) + np.int64(7919)) % mod
    p = np.frombuffer(prefix.encode(), np.uint8)
    w = len(p) + digits
    mat = np.empty((len(v), w), np.uint8)
    mat[:, : len(p)] = p
    for k in range(w - 1, len(p) - 1, -1):
        mat[:, k] = _B62[v % 62]
        v = v // 62
    return _to_arrow(mat, w)


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    hx = np.empty((n, 36), np.uint8)
    pos = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]
    for i, p in enumerate(pos):
        hx[:, p] = _HEX[b[:, i] >> 4]
        hx[:, p + 1] = _HEX[b[:, i] & 15]
    hx[:, [8, 13, 18, 23]] = 45
    return _to_arrow(hx, 36)


def int_str(v: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(v, dtype=np.int64)), pa.string())


def take(vocab, idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(list(vocab), pa.string()), pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays / python strings (null if any is null)."""
    parts = [pa.scalar(p, pa.string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*parts, "")
