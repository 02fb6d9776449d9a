"""Append-only float32 vector files: the slot space behind a table's vector column.

Owns: one file per vector column (`vectors/<store_id>.f32`, raw little-endian float32 rows of
`dim` values), an in-RAM copy that grows by doubling, and appends under a lock.  A slot is a
row number in the file; it is never reused or rewritten, so the transactional pointer to it
(held in the table's DuckDB row) decides visibility, and a rolled back or crashed append only
leaves an unreferenced slot behind.  `sync()` fsyncs appended rows; the session calls it
before DuckDB commits the rows that point at them.

Must not: know about SQL, tables or transactions.  Issue 3 replaces this with segments
(memmap originals, quantized copies); the `append/take/view` seam stays.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from engine.quantization import QuantizedCopy


class VectorStore:
    """Vectors of one column: `append` returns slots, `take` gathers rows by slot."""

    def __init__(self, path: Path | None, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._lock = threading.Lock()
        self._dirty = False
        self._count = 0
        row_bytes = 4 * dim
        data = np.empty((0, dim), dtype=np.float32)
        if path is not None and path.exists():
            size = path.stat().st_size
            whole = size - size % row_bytes
            if whole != size:  # a torn append from a crash: no committed row points there
                with open(path, "r+b") as f:
                    f.truncate(whole)
            data = np.fromfile(path, dtype="<f4").reshape(-1, dim)
        self._buf = np.empty((max(1024, 2 * len(data)), dim), dtype=np.float32)
        self._buf[: len(data)] = data
        self._count = len(data)
        self._file = open(path, "ab") if path is not None else None  # noqa: SIM115
        self._quantized: dict[str, QuantizedCopy] = {}

    def __len__(self) -> int:
        return self._count

    def append(self, vectors: np.ndarray) -> np.ndarray:
        """Append rows ([n, dim] float32); returns their slots (int64)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        n = len(vectors)
        with self._lock:
            start = self._count
            if start + n > len(self._buf):
                cap = max(2 * len(self._buf), start + n)
                grown = np.empty((cap, self.dim), dtype=np.float32)
                grown[:start] = self._buf[:start]
                self._buf = grown
            self._buf[start : start + n] = vectors
            if self._file is not None:
                self._file.write(vectors.astype("<f4", copy=False).tobytes())
                self._dirty = True
            self._count = start + n
        return np.arange(start, start + n, dtype=np.int64)

    def sync(self) -> None:
        """Make every appended row durable (flush + fsync)."""
        with self._lock:
            if self._file is not None and self._dirty:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._dirty = False

    def view(self) -> np.ndarray:
        """All rows appended so far (a view; do not write into it)."""
        return self._buf[: self._count]

    def take(self, slots: np.ndarray) -> np.ndarray:
        """Rows at `slots` ([len(slots), dim] float32, a copy)."""
        return self._buf[: self._count][np.asarray(slots, dtype=np.int64)]

    def quantized(self, mode: str) -> QuantizedCopy:
        """The store's `mode` ("int8" | "binary") copy, brought up to date with appends."""
        with self._lock:
            qc = self._quantized.get(mode)
            if qc is None:
                qc = QuantizedCopy(mode, self.dim)
                self._quantized[mode] = qc
            rows = self._buf[: self._count]
        qc.extend(rows)
        return qc

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None
