"""Append-only float32 vector files: the slot space behind a table's vector column.

Owns: one file per vector column (`vectors/<store_id>.f32`, raw little-endian float32 rows of
`dim` values), read either through `numpy.memmap` (`storage = 'memmap'`, the default for a
store on disk: opening reads no vector data, the page cache holds what queries touch) or
from an in-RAM copy that grows by doubling (`storage = 'memory'`, and every in-memory
database); appends under a lock; and the store's quantized copies.  A slot is a row number
in the file; it is never reused or rewritten, so the transactional pointer to it (held in
the table's DuckDB row) decides visibility, and a rolled back or crashed append only leaves
an unreferenced slot behind.  `sync()` fsyncs appended rows; the session calls it before
DuckDB commits the rows that point at them.

Must not: know about SQL, tables or transactions.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from engine.quantization import QuantizedCopy

STORAGE_MODES = ("memmap", "memory")
log = logging.getLogger("vecgres")


class VectorStore:
    """Vectors of one column: `append` returns slots, `take` gathers rows by slot."""

    def __init__(self, path: Path | None, dim: int, storage: str = "memmap") -> None:
        self.path = path
        self.dim = dim
        self.storage = "memory" if path is None else storage
        self._lock = threading.Lock()
        self._dirty = False
        self._count = 0
        self._quantized: dict[str, QuantizedCopy] = {}
        self._map: np.ndarray = np.empty((0, dim), dtype=np.float32)
        row_bytes = 4 * dim
        if path is not None and path.exists():
            size = path.stat().st_size
            whole = size - size % row_bytes
            if whole != size:  # a torn append from a crash: no committed row points there
                log.warning(
                    "vector file %s: cut a torn tail of %d bytes (a crash mid-append)",
                    path,
                    size - whole,
                )
                with open(path, "r+b") as f:
                    f.truncate(whole)
            self._count = whole // row_bytes
        self._buf = np.empty((0, dim), dtype=np.float32)
        if self.storage == "memory":
            data = (
                np.fromfile(path, dtype="<f4").reshape(-1, dim)
                if path is not None and self._count
                else np.empty((0, dim), dtype=np.float32)
            )
            self._buf = np.empty((max(1024, 2 * len(data)), dim), dtype=np.float32)
            self._buf[: len(data)] = data
        self._file = open(path, "ab") if path is not None else None  # noqa: SIM115

    def __len__(self) -> int:
        return self._count

    def append(self, vectors: np.ndarray) -> np.ndarray:
        """Append rows ([n, dim] float32); returns their slots (int64)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        n = len(vectors)
        with self._lock:
            start = self._count
            if self.storage == "memory":
                if start + n > len(self._buf):
                    cap = max(2 * len(self._buf), start + n)
                    grown = np.empty((cap, self.dim), dtype=np.float32)
                    grown[:start] = self._buf[:start]
                    self._buf = grown
                self._buf[start : start + n] = vectors
            if self._file is not None:
                self._file.write(vectors.astype("<f4", copy=False).tobytes())
                if self.storage == "memmap":
                    self._file.flush()  # the next mapping must see these rows
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
        """All rows appended so far (read-only; a memmap in `memmap` storage)."""
        if self.storage == "memory":
            return self._buf[: self._count]
        with self._lock:
            if len(self._map) != self._count:
                assert self.path is not None
                if self._count == 0:
                    self._map = np.empty((0, self.dim), dtype=np.float32)
                else:
                    # a plain ndarray view of the mapping: indexing a np.memmap subclass
                    # costs ~40 us more per gather
                    self._map = np.asarray(
                        np.memmap(self.path, dtype="<f4", mode="r", shape=(self._count, self.dim))
                    )
            return self._map

    def take(self, slots: np.ndarray) -> np.ndarray:
        """Rows at `slots` ([len(slots), dim] float32, a copy)."""
        return np.asarray(self.view()[np.asarray(slots, dtype=np.int64)])

    def resident_bytes(self) -> int:
        """Bytes this store keeps in process memory (maps excluded), quantized copies included."""
        own = self._buf.nbytes if self.storage == "memory" else 0
        return own + sum(q.nbytes() for q in self._quantized.values())

    def quantized(self, mode: str) -> QuantizedCopy:
        """The store's `mode` ("int8" | "binary") copy, brought up to date with appends."""
        with self._lock:
            qc = self._quantized.get(mode)
            if qc is None:
                qc = QuantizedCopy(mode, self.dim)
                self._quantized[mode] = qc
        qc.extend(self.view())
        return qc

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None
