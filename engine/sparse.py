"""Sparse vectors: pgvector's `sparsevec` value, CSR distance kernels, and the sparse store.

Owns: `SparseVectorValue` (dim, 0-based sorted int32 indices, float32 values), pgvector's four
distances between one sparse query and many sparse rows held as CSR arrays (`sparse_distances`),
and `SparseStore`, the slot store of a `sparsevec(n)` column with n > `DENSE_MAX_DIM`.

Why a second store: `sparsevec(n)` allows n up to 1,000,000,000 with at most 16,000 non-zero
elements (SPLADE vectors are `sparsevec(30522)` with ~100 non-zeros), so such columns cannot
live in the dense float32 store (`engine.vector_store`).  A `SparseStore` keeps the rows in RAM
as CSR arrays (`indptr`, `indices`, `values`) and appends each row to one file; slots are row
numbers (`0, 1, …`), never reused, like the dense store's, so the DuckDB row pointing at a slot
(`STRUCT(__vg<id> BIGINT)`) works the same.  Searches over it are exact; it has no segments,
quantized copies or graphs.

On disk: `vectors/<store_id>/sparse.rows`, records of `<i4 nnz> <i4 indices[nnz]>
<f4 values[nnz]>` (little-endian); a torn record at the end (a crash mid-append, which no
committed row can point at) is cut when the store opens.

Must not: know about SQL, tables or transactions.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.errors import DataException

log = logging.getLogger("vecgres")

DENSE_MAX_DIM = 16000
"""Vectors of at most this many dimensions live in the dense store (vector, halfvec and
low-dimensional sparsevec); a store of more dimensions is a `SparseStore`."""

_ROWS_FILE = "sparse.rows"


class SparseVectorValue(NamedTuple):
    """A sparsevec: `dim`, 0-based sorted `indices` (int32) and their `values` (float32)."""

    dim: int
    indices: np.ndarray
    values: np.ndarray


def is_sparse_dim(dim: int | None) -> bool:
    """Whether a store of `dim` dimensions is sparse (only sparsevec allows more than 16000)."""
    return dim is not None and dim > DENSE_MAX_DIM


def vector_dim(v: object) -> int:
    """The dimension of a vector value: a `SparseVectorValue` or an array."""
    if isinstance(v, SparseVectorValue):
        return v.dim
    return len(v)  # type: ignore[arg-type]


def as_sparse(v: object) -> SparseVectorValue:
    """`v` as a `SparseVectorValue` (a dense array's non-zero elements)."""
    if isinstance(v, SparseVectorValue):
        return v
    a = np.asarray(v, dtype=np.float32).reshape(-1)
    idx = np.flatnonzero(a).astype(np.int32)
    return SparseVectorValue(len(a), idx, a[idx])


def same_vector(a: object, b: object) -> bool:
    """Whether two vector values (arrays or `SparseVectorValue`s) are the same vector."""
    if isinstance(a, SparseVectorValue) or isinstance(b, SparseVectorValue):
        if not (isinstance(a, SparseVectorValue) and isinstance(b, SparseVectorValue)):
            return False
        return (
            a.dim == b.dim
            and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.values, b.values)
        )
    return bool(np.array_equal(a, b))  # type: ignore[arg-type]


def check_sparse_dims(a: int, b: int) -> None:
    """pgvector's error for two sparsevecs of different dimensions."""
    if a != b:
        raise DataException(f"different sparsevec dimensions {a} and {b}")


# ------------------------------------------------------------------------------ kernels


def sparse_distances(
    metric: str,
    indptr: np.ndarray,
    indices: np.ndarray,
    values: np.ndarray,
    q: SparseVectorValue,
) -> np.ndarray:
    """Distance from `q` to each CSR row (`indptr` [n+1], `indices`, `values`), float64 [n].

    Each row element is matched with q's element of the same index (a binary search in q's
    sorted indices); per-row sums are `np.bincount` over the row number of each element, in
    float64 over float32 terms (pgvector sums in float4: the last bits may differ).
      * ip (`<#>`): ``-sum(a_i * q_i)`` over the shared indices.
      * cosine (`<=>`): ``1 - dot / sqrt(|a|^2 |q|^2)``, clamped; NaN for a zero norm.
      * l2 (`<->`): ``sqrt(sum((a_i - q_i)^2))`` over the union of indices: the shared ones'
        differences, the row's own elements, and q's elements the row lacks (``|q|^2`` minus
        q's shared part; exactly 0 when the row holds all of q's indices).
      * l1 (`<+>`): the same with absolute values.
    """
    n = len(indptr) - 1
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    qi = np.asarray(q.indices, dtype=np.int32)
    qv = np.asarray(q.values, dtype=np.float32)
    a = np.asarray(values, dtype=np.float32)
    if len(qi):
        pos = np.minimum(np.searchsorted(qi, indices), len(qi) - 1)
        hit = qi[pos] == indices
        qm = np.where(hit, qv[pos], np.float32(0))
    else:
        hit = np.zeros(len(a), dtype=bool)
        qm = np.zeros(len(a), dtype=np.float32)

    def per_row(w: np.ndarray) -> np.ndarray:
        return np.bincount(row_of, weights=w.astype(np.float64), minlength=n)

    if metric in ("ip", "cosine"):
        dot = per_row(a * qm)
        if metric == "ip":
            return -dot
        na = per_row(a * a)
        nb = float(np.dot(qv.astype(np.float64), qv.astype(np.float64)))
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = dot / np.sqrt(na * nb)
        np.clip(sim, -1.0, 1.0, out=sim)
        return 1.0 - sim
    if metric not in ("l2", "l1"):
        raise ValueError(f"unknown metric {metric!r}")
    diff = a - qm
    own = np.where(hit, diff, a)
    shared = per_row(hit)
    if metric == "l2":
        q_total = float(np.dot(qv.astype(np.float64), qv.astype(np.float64)))
        rest = q_total - per_row(qm * qm)
        rest[shared == len(qi)] = 0.0
        d2 = per_row(own * own) + np.maximum(rest, 0.0)
        return np.sqrt(d2)
    q_total = float(np.abs(qv).astype(np.float64).sum())
    rest = q_total - per_row(np.abs(qm))
    rest[shared == len(qi)] = 0.0
    return per_row(np.abs(own)) + np.maximum(rest, 0.0)


def sparse_pair(metric: str, a: SparseVectorValue, b: SparseVectorValue) -> float:
    """One distance between two sparsevecs (constant folding)."""
    check_sparse_dims(a.dim, b.dim)
    indptr = np.array([0, len(a.indices)], dtype=np.int64)
    return float(sparse_distances(metric, indptr, a.indices, a.values, b)[0])


def gather_csr(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr of the sub-matrix of `rows`, positions of its elements in the full arrays)."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    sub = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=sub[1:])
    pos = np.repeat(starts - sub[:-1], lens) + np.arange(sub[-1], dtype=np.int64)
    return sub, pos


# -------------------------------------------------------------------------------- store


class _Csr(NamedTuple):
    """A consistent view of the store's rows: `count` rows in the first entries."""

    count: int
    indptr: np.ndarray  # [capacity + 1] int64; indptr[:count + 1] valid
    indices: np.ndarray  # int32; [:indptr[count]] valid
    values: np.ndarray  # float32


class SparseStore:
    """Sparse vectors of one column, in RAM as CSR; `append` returns slots (row numbers)."""

    sparse = True

    def __init__(self, directory: Path | None, dim: int) -> None:
        self.dir = directory
        self.dim = dim
        self.storage = "memory"
        self.capacity = 0  # (segment size: a sparse store has no segments)
        self.on_seal: list = []
        self._lock = threading.Lock()
        self._state = _Csr(
            0, np.zeros(1025, np.int64), np.empty(0, np.int32), np.empty(0, np.float32)
        )
        self._file = None
        self._dirty = False
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._load(directory / _ROWS_FILE)
            self._file = open(directory / _ROWS_FILE, "ab")  # noqa: SIM115

    # ------------------------------------------------------------------ loading
    def _load(self, path: Path) -> None:
        if not path.exists():
            path.touch()
            return
        raw = np.fromfile(path, dtype="<i4")
        size = path.stat().st_size
        rows_i: list[np.ndarray] = []
        rows_v: list[np.ndarray] = []
        at, good = 0, 0
        while at < len(raw):
            nnz = int(raw[at])
            end = at + 1 + 2 * nnz
            if nnz < 0 or end > len(raw):
                break
            rows_i.append(raw[at + 1 : at + 1 + nnz].astype(np.int32))
            rows_v.append(raw[at + 1 + nnz : end].view("<f4").astype(np.float32))
            at = good = end
        if 4 * good != size:  # a torn append from a crash: no committed row points there
            log.warning(
                "sparse vector file %s: cut a torn tail of %d bytes (a crash mid-append)",
                path,
                size - 4 * good,
            )
            with open(path, "r+b") as f:
                f.truncate(4 * good)
        self._put(rows_i, rows_v)

    # ------------------------------------------------------------------- writes
    def _put(self, rows_i: list[np.ndarray], rows_v: list[np.ndarray]) -> np.ndarray:
        """Add rows to the CSR arrays (the caller holds the lock or owns the store)."""
        st = self._state
        n, add = st.count, len(rows_i)
        lens = np.fromiter((len(r) for r in rows_i), dtype=np.int64, count=add)
        end = int(st.indptr[n])
        total = end + int(lens.sum())
        indptr, indices, values = st.indptr, st.indices, st.values
        if n + add + 1 > len(indptr):
            indptr = np.zeros(max(2 * len(indptr), n + add + 1), np.int64)
            indptr[: n + 1] = st.indptr[: n + 1]
        if total > len(indices):
            cap = max(2 * len(indices), total, 4096)
            indices = np.empty(cap, np.int32)
            values = np.empty(cap, np.float32)
            indices[:end] = st.indices[:end]
            values[:end] = st.values[:end]
        np.cumsum(lens, out=indptr[n + 1 : n + add + 1])
        indptr[n + 1 : n + add + 1] += end
        if add:
            indices[end:total] = np.concatenate(rows_i) if total > end else indices[end:end]
            values[end:total] = np.concatenate(rows_v) if total > end else values[end:end]
        self._state = _Csr(n + add, indptr, indices, values)
        return np.arange(n, n + add, dtype=np.int64)

    def append(self, rows: list[SparseVectorValue]) -> np.ndarray:
        """Append sparse rows (each `dim` dimensions); returns their slots."""
        rows_i = [np.ascontiguousarray(r.indices, dtype=np.int32) for r in rows]
        rows_v = [np.ascontiguousarray(r.values, dtype=np.float32) for r in rows]
        for r in rows:
            if r.dim != self.dim:
                raise DataException(f"expected {self.dim} dimensions, not {r.dim}")
        with self._lock:
            if self._file is not None:
                parts = []
                for i, v in zip(rows_i, rows_v, strict=True):
                    parts.append(np.int32(len(i)).astype("<i4").tobytes())
                    parts.append(i.astype("<i4", copy=False).tobytes())
                    parts.append(v.astype("<f4", copy=False).tobytes())
                self._file.write(b"".join(parts))
                self._dirty = True
            return self._put(rows_i, rows_v)

    def sync(self) -> None:
        """Make every appended row durable (flush + fsync)."""
        with self._lock:
            if self._file is not None and self._dirty:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._dirty = False

    def seal(self) -> None:
        """A sparse store has no segments to seal."""
        return None

    def set_storage(self, storage: str) -> None:
        """Sparse stores are always held in RAM."""
        return None

    # -------------------------------------------------------------------- reads
    @property
    def segments(self) -> tuple:
        return ()

    def sealed_segments(self) -> list:
        return []

    def __len__(self) -> int:
        return self._state.count

    def slot_end(self) -> int:
        return self._state.count

    def all_slots(self) -> np.ndarray:
        return np.arange(self._state.count, dtype=np.int64)

    def take(self, slots: np.ndarray) -> list[SparseVectorValue]:
        """Rows at `slots`, as `SparseVectorValue`s (copies)."""
        st = self._state
        ptr = st.indptr
        out = []
        for s in np.asarray(slots, dtype=np.int64).tolist():
            a, b = int(ptr[s]), int(ptr[s + 1])
            out.append(SparseVectorValue(self.dim, st.indices[a:b].copy(), st.values[a:b].copy()))
        return out

    def take_dense(self, slots: np.ndarray) -> np.ndarray:
        """Rows at `slots` as a dense float32 matrix (for expressions DuckDB evaluates)."""
        st = self._state
        slots = np.asarray(slots, dtype=np.int64)
        sub, pos = gather_csr(st.indptr, slots)
        out = np.zeros((len(slots), self.dim), dtype=np.float32)
        rows = np.repeat(np.arange(len(slots)), np.diff(sub))
        out[rows, st.indices[pos]] = st.values[pos]
        return out

    def _query(self, q: object) -> SparseVectorValue:
        sq = as_sparse(q)
        check_sparse_dims(self.dim, sq.dim)
        return sq

    def score(
        self,
        metric: str,
        q: object,
        slots: np.ndarray,
        is_sorted: bool = False,
        pread: bool = False,
    ) -> np.ndarray:
        """Distances of the rows at `slots` to `q`, aligned with `slots` (float64)."""
        sq = self._query(q)
        st = self._state
        slots = np.asarray(slots, dtype=np.int64)
        sub, pos = gather_csr(st.indptr, slots)
        return sparse_distances(metric, sub, st.indices[pos], st.values[pos], sq)

    def score_all(self, metric: str, q: object) -> tuple[np.ndarray, np.ndarray]:
        """(slots, distances) of every row in the store."""
        sq = self._query(q)
        st = self._state
        n = st.count
        end = int(st.indptr[n])
        d = sparse_distances(metric, st.indptr[: n + 1], st.indices[:end], st.values[:end], sq)
        return np.arange(n, dtype=np.int64), d

    def resident_bytes(self) -> int:
        st = self._state
        return st.indptr.nbytes + st.indices.nbytes + st.values.nbytes

    def close(self) -> None:
        self.sync()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
