"""Quantized copies of a vector store and the SIMD kernels that scan them.

Owns: int8 scalar quantization (symmetric, the range clipped at a quantile of |x| — 0.99 by
default, like Qdrant) and binary quantization (one sign bit per dimension, compared by
Hamming distance), each a compact in-RAM copy of a store's rows that grows with it; and
`quantized_topk`, which ranks candidates on the quantized copy and rescores the best
`k * oversampling` of them exactly against the float32 originals.

Kernels: `simsimd` (SIMD int8 dot products and bit Hamming distances; numpy has no integer
BLAS, so its int8 product is no faster than float32).  Measured on 100k x 384 (2 cores):
float32 BLAS matrix-vector 5.0 ms, simsimd int8 dot 2.3 ms, simsimd Hamming 0.43 ms; over
10k gathered rows: float32 2.3 ms, int8 0.78 ms.

Must not: know SQL or tables.
"""

from __future__ import annotations

import threading

import numpy as np
import simsimd

from engine.distance import distances, topk

MODES = ("none", "int8", "binary")


class QuantizedCopy:
    """One quantized copy of a store's rows ([0, count))."""

    def __init__(self, mode: str, dim: int, quantile: float = 0.99) -> None:
        self.mode = mode
        self.dim = dim
        self.quantile = quantile
        self.scale = 1.0
        self.center: np.ndarray | None = None  # binary: sign of (x - mean), not of x
        self._popcount = np.empty(0, dtype=np.float32)  # binary: set bits per row
        self.count = 0
        width = dim if mode == "int8" else (dim + 7) // 8
        self._buf = np.empty((0, width), dtype=np.int8 if mode == "int8" else np.uint8)
        self._lock = threading.Lock()

    def fit(self, sample: np.ndarray) -> None:
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

    def extend(self, all_rows: np.ndarray) -> None:
        """Quantize rows appended to the store since the last call."""
        with self._lock:
            n = len(all_rows)
            if n <= self.count:
                return
            if self.count == 0:
                self.fit(all_rows[: min(n, 50_000)])
            new = self.encode(all_rows[self.count : n])
            if len(self._buf) < n:
                grown = np.empty((max(n, 2 * len(self._buf)), self._buf.shape[1]), self._buf.dtype)
                grown[: self.count] = self._buf[: self.count]
                self._buf = grown
            self._buf[self.count : n] = new
            if self.mode == "binary":
                pc = np.bitwise_count(new).sum(axis=1, dtype=np.int32).astype(np.float32)
                grown_pc = np.empty(len(self._buf), dtype=np.float32)
                grown_pc[: self.count] = self._popcount[: self.count]
                grown_pc[self.count : n] = pc
                self._popcount = grown_pc
            self.count = n

    def _asymmetric(
        self, data: np.ndarray, slots: np.ndarray | None, q: np.ndarray, metric: str
    ) -> np.ndarray:
        pc = self._popcount[: self.count] if slots is None else self._popcount[slots]
        return _binary_score(self, data, pc, q)

    def nbytes(self) -> int:
        return self.count * self._buf.shape[1] * self._buf.itemsize

    def approx(self, slots: np.ndarray | None, q: np.ndarray, metric: str) -> np.ndarray:
        """Approximate distances (smaller is nearer; only the order matters)."""
        data = self._buf[: self.count] if slots is None else self._buf[slots]
        if self.mode == "binary":
            return self._asymmetric(data, None if slots is None else slots, q, metric)
        qi = self.encode(q.reshape(1, -1))
        if metric == "cosine":
            return np.asarray(simsimd.cdist(qi, data, metric="cosine", dtype="int8"))[0]
        dots = np.asarray(simsimd.cdist(qi, data, metric="dot", dtype="int8"))[0]
        if metric == "ip":
            return -dots
        # l2 / l1: rank by squared L2 on the quantized values
        return np.asarray(simsimd.cdist(qi, data, metric="sqeuclidean", dtype="int8"))[0]


QUERY_BITS = 4


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


def quantized_topk(
    qc: QuantizedCopy,
    originals: np.ndarray,
    slots: np.ndarray,
    metric: str,
    q: np.ndarray,
    k: int,
    oversampling: float,
    rescore: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Top k of `slots`: rank on the quantized copy, rescore k*oversampling exactly.

    Returns (slots, distances, number of candidates rescored).  Without `rescore` the
    distances are the exact distances of the quantized ranking's first k (no re-ranking).
    """
    q = np.asarray(q, dtype=np.float32)
    whole = len(slots) == qc.count and len(slots) > 0 and slots[-1] == qc.count - 1
    approx = qc.approx(None if whole else slots, q, metric)
    n_cand = min(len(slots), max(k, int(np.ceil(k * oversampling))) if rescore else k)
    if n_cand < len(slots):
        part = np.argpartition(approx, n_cand - 1)[:n_cand]
    else:
        part = np.arange(len(slots))
    cand = slots[part]
    d = distances(metric, originals[cand], q)
    if not rescore:
        order = np.argsort(approx[part], kind="stable")[:k]
        return cand[order], d[order], len(cand)
    top_slots, top_d = topk(d, cand, k)
    return top_slots, top_d, len(cand)
