"""Quantized copies of a vector store and the SIMD kernels that scan them.

Owns: int8 scalar quantization (symmetric, the range clipped at a quantile of |x| — 0.99 by
default, like Qdrant) and binary quantization (one sign bit per dimension, compared by
Hamming distance), each a compact in-RAM copy of a store's rows that grows with it; and
`approx`, the ranking of rows by approximate distance that `engine.knn.quantized_topk`
rescores exactly against the float32 originals.  A copy serialises to bytes (`to_bytes`), so
a sealed segment keeps its copy in a file and a restart only reads it.

Kernels: `simsimd` (SIMD int8 dot products and bit Hamming distances; numpy has no integer
BLAS, so its int8 product is no faster than float32).  Measured on 100k x 384 (2 cores):
float32 BLAS matrix-vector 5.0 ms, simsimd int8 dot 2.3 ms, simsimd Hamming 0.43 ms; over
10k gathered rows: float32 2.3 ms, int8 0.78 ms.

Must not: know SQL or tables.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import simsimd

MODES = ("none", "int8", "binary")
THREADS = max(1, min(2, os.cpu_count() or 1))  # simsimd splits a scan over both cores


class QuantizedCopy:
    """One quantized copy of a segment's rows ([0, count)), grown by `append`."""

    def __init__(self, mode: str, dim: int, quantile: float = 0.99) -> None:
        self.mode = mode
        self.dim = dim
        self.quantile = quantile
        self.scale = 1.0
        self.center: np.ndarray | None = None  # binary: sign of (x - mean), not of x
        self.fitted = False
        # binary: set bits per row; int8: the norm of each row's codes
        self._popcount = np.empty(0, dtype=np.float32)
        self.count = 0
        width = dim if mode == "int8" else (dim + 7) // 8
        self._buf = np.empty((0, width), dtype=np.int8 if mode == "int8" else np.uint8)
        self._lock = threading.Lock()
        self.building = threading.Lock()  # one builder at a time

    def fit(self, sample: np.ndarray) -> None:
        self.fitted = True
        if not len(sample):
            return
        if self.mode == "int8":
            bound = float(np.quantile(np.abs(sample), self.quantile))
            self.scale = 127.0 / bound if bound > 0 else 1.0
        else:
            # Text embeddings share a large common component: the sign of each coordinate
            # relative to the mean splits the data far better than the raw sign does.
            self.center = sample.mean(axis=0).astype(np.float32)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        if self.mode == "int8":
            return np.clip(np.rint(rows * self.scale), -127, 127).astype(np.int8)
        centered = rows - self.center if self.center is not None else rows
        return np.packbits(centered > 0, axis=1)

    def append(self, rows: np.ndarray) -> None:
        """Quantize `rows`, the segment's rows [count, count + len(rows)) (the first rows
        quantized also fit the scale or centre)."""
        if not len(rows):
            return
        with self._lock:
            if not self.fitted:
                self.fit(rows[:50_000])
            new = self.encode(rows)
            n = self.count + len(new)
            if len(self._buf) < n:
                grown = np.empty((max(n, 2 * len(self._buf)), self._buf.shape[1]), self._buf.dtype)
                grown[: self.count] = self._buf[: self.count]
                self._buf = grown
                grown_pc = np.empty(len(grown), dtype=np.float32)
                grown_pc[: self.count] = self._popcount[: self.count]
                self._popcount = grown_pc
            self._buf[self.count : n] = new
            if self.mode == "binary":
                pc = np.bitwise_count(new).sum(axis=1, dtype=np.int32).astype(np.float32)
                self._popcount[self.count : n] = pc
            else:  # int8 row norms: cosine is a SIMD dot product divided by them
                self._popcount[self.count : n] = _int8_norms(new)
            self.count = n

    # --------------------------------------------------------------- persistence
    def to_bytes(self) -> bytes:
        """A header line of JSON (mode, count, scale, centre) then the codes."""
        head = {
            "mode": self.mode,
            "count": self.count,
            "scale": self.scale,
            "center": None if self.center is None else self.center.tolist(),
        }
        return json.dumps(head).encode() + b"\n" + self._buf[: self.count].tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes, dim: int) -> QuantizedCopy:
        nl = blob.index(b"\n")
        head = json.loads(blob[:nl])
        qc = cls(head["mode"], dim)
        qc.fitted = True
        qc.scale = float(head["scale"])
        if head["center"] is not None:
            qc.center = np.asarray(head["center"], dtype=np.float32)
        codes = np.frombuffer(blob, dtype=qc._buf.dtype, offset=nl + 1)
        codes = codes.reshape(-1, qc._buf.shape[1])
        if len(codes) != int(head["count"]):
            raise ValueError("quantized copy: truncated")
        qc._buf = codes.copy()
        qc.count = len(codes)
        if qc.mode == "binary":
            qc._popcount = np.bitwise_count(qc._buf).sum(axis=1, dtype=np.int32).astype(np.float32)
        else:
            qc._popcount = _int8_norms(qc._buf)
        return qc

    def _asymmetric(
        self, data: np.ndarray, rows: np.ndarray | None, q: np.ndarray, metric: str
    ) -> np.ndarray:
        pc = self._popcount[: self.count] if rows is None else self._popcount[rows]
        return _binary_score(self, data, pc, q)

    def nbytes(self) -> int:
        return self.count * self._buf.shape[1] * self._buf.itemsize

    def candidates(
        self, rows: np.ndarray | None, q: np.ndarray, metric: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions in `rows` — or row numbers when None — of the `n` best, their
        approximate distances)."""
        total = self.count if rows is None else len(rows)
        if self.mode == "binary" and total > 4 * PRESELECT * n:
            data = self._buf[: self.count] if rows is None else self._buf[rows]
            qb = self.encode(q.reshape(1, -1))
            ham = simsimd.cdist(qb, data, metric="hamming", dtype="bin8", threads=THREADS)
            ham = np.asarray(ham)[0]
            pre = np.argpartition(ham, PRESELECT * n - 1)[: PRESELECT * n]
            sub = pre if rows is None else rows[pre]
            score = self._asymmetric(self._buf[sub], sub, q, metric)
            best = np.argpartition(score, n - 1)[:n]
            return pre[best], score[best]
        approx = self.approx(rows, q, metric)
        if n >= total:
            return np.arange(total), approx
        best = np.argpartition(approx, n - 1)[:n]
        return best, approx[best]

    def approx(self, rows: np.ndarray | None, q: np.ndarray, metric: str) -> np.ndarray:
        """Approximate distances of `rows` (all when None; smaller is nearer, only the order
        matters)."""
        data = self._buf[: self.count] if rows is None else self._buf[rows]
        if self.mode == "binary":
            return self._asymmetric(data, rows, q, metric)
        qi = self.encode(q.reshape(1, -1))
        if metric in ("cosine", "ip"):
            dots = np.asarray(simsimd.cdist(qi, data, metric="dot", dtype="int8", threads=THREADS))
            dots = dots[0]
            if metric == "ip":
                return -dots
            norms = self._popcount[: self.count] if rows is None else self._popcount[rows]
            with np.errstate(invalid="ignore", divide="ignore"):
                return -dots / np.maximum(norms, 1e-9)
        # l2 / l1: rank by squared L2 on the quantized values
        d = simsimd.cdist(qi, data, metric="sqeuclidean", dtype="int8", threads=THREADS)
        return np.asarray(d)[0]


def _int8_norms(codes: np.ndarray) -> np.ndarray:
    c = codes.astype(np.float32)
    return np.sqrt(np.einsum("ij,ij->i", c, c))


QUERY_BITS = 4
# binary: a symmetric Hamming pass (1-bit query) keeps this many times the wanted candidates
# for the 4-bit asymmetric score; one SIMD pass over every row instead of four
PRESELECT = 8


def _binary_score(qc: QuantizedCopy, data: np.ndarray, pc: np.ndarray, q: np.ndarray) -> np.ndarray:
    """-<q, sign(x - c)> up to an affine map, from Hamming distances only.

    The query keeps 4 bits per dimension (asymmetric: the data has 1): with u the query's
    4-bit codes and b a row's bits, sum_i q_i b_i = lo * |b| + step * sum_j 2^j |b & u_j|,
    and |b & u_j| = (|b| + |u_j| - hamming(b, u_j)) / 2.  Four SIMD Hamming passes instead
    of one, for recall@10 0.94 instead of 0.84 at oversampling 4 on the corpus (384 dims).
    """
    qq = q - qc.center if qc.center is not None else q
    lo, hi = float(qq.min()), float(qq.max())
    step = (hi - lo) / (2**QUERY_BITS - 1) or 1.0
    u = np.rint((qq - lo) / step).astype(np.int64)
    weighted = np.zeros(len(data), dtype=np.float64)
    for j in range(QUERY_BITS):
        plane_bits = ((u >> j) & 1).astype(bool)
        plane = np.packbits(plane_bits).reshape(1, -1)
        ham = np.asarray(simsimd.cdist(plane, data, metric="hamming", dtype="bin8"))[0]
        weighted += (2**j) * (plane_bits.sum() - ham)
    score = (lo + step * (2**QUERY_BITS - 1) / 2) * pc + (step / 2) * weighted
    return -score
