"""One segment of a vector store: a range of slots and the float32 vectors at them.

Owns: a segment's file (`seg-<id>.f32`, raw little-endian float32 rows), how it is read —
through `numpy.memmap` (no vector data read up front; the page cache holds what queries
touch) or from a copy in RAM — the mapping between its slots and its rows, appends (the
growing segment only), its quantized copies (in RAM; a sealed segment's are also kept in
`seg-<id>.<mode>` files so a restart does not recompute them), and chunked reads for builders
that must not pull a whole mapped file into the process's resident memory.

A *dense* segment holds slots `lo, lo+1, …, lo+count-1` (row = slot - lo): the growing segment
and every segment it sealed into.  A *compact* segment (the output of a merge or vacuum) holds
a sorted subset of its range, listed in `seg-<id>.slots`.  Slots never change: the DuckDB row
that points at a slot keeps pointing at the same vector wherever the optimizer moves it.

Must not: know about SQL, tables, transactions or indexes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.quantization import QuantizedCopy

log = logging.getLogger("vecgres")
READ_CHUNK_ROWS = 16384
PREAD_MAX_ROWS = 512  # gathers up to this many rows of a mapped segment use pread


@dataclass
class SegmentMeta:
    """What the store's manifest records of a segment."""

    id: int
    lo: int  # first slot of its range
    hi: int  # one past the last slot of its range (growing: lo + capacity)
    sealed: bool = False
    compact: bool = False  # slots listed in seg-<id>.slots (else dense from lo)
    count: int = 0  # rows (a growing segment's file may hold more: the file decides)

    def to_json(self) -> dict:
        return asdict(self)


class Segment:
    def __init__(self, directory: Path | None, meta: SegmentMeta, dim: int, in_ram: bool) -> None:
        self.meta = meta
        self.dim = dim
        self.dir = directory
        self.in_ram = in_ram or directory is None
        self._path = directory / f"seg-{meta.id}.f32" if directory is not None else None
        self._lock = threading.Lock()
        self._quantized: dict[str, QuantizedCopy] = {}
        self._persisted: set[str] = set()  # modes whose copy is in its file
        self._map: np.ndarray = np.empty((0, dim), dtype=np.float32)
        self._dirty = False
        self._file = None
        self._fd: int | None = None  # read-only descriptor for `gather`
        self._slots: np.ndarray | None = None
        row_bytes = 4 * dim
        count = meta.count
        path = self.path
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
            count = whole // row_bytes if not meta.sealed else min(meta.count, whole // row_bytes)
        elif path is not None:
            path.touch()
            count = 0
        self.count = count
        if meta.compact:
            assert path is not None
            self._slots = np.fromfile(self._file_path("slots"), dtype="<i8")[:count]
        self._buf = np.empty((0, dim), dtype=np.float32)
        if self.in_ram:
            data = self.read_rows(0, count) if path is not None and count else None
            self._buf = np.empty((max(1024, count), dim), dtype=np.float32)
            if data is not None:
                self._buf[:count] = data
        if path is not None and not meta.sealed:
            self._file = open(path, "ab")  # noqa: SIM115

    # ------------------------------------------------------------------ identity
    @property
    def id(self) -> int:
        return self.meta.id

    @property
    def lo(self) -> int:
        return self.meta.lo

    @property
    def hi(self) -> int:
        return self.meta.hi

    @property
    def sealed(self) -> bool:
        return self.meta.sealed

    @property
    def path(self) -> Path | None:
        return self._path

    def _file_path(self, suffix: str) -> Path | None:
        return self.dir / f"seg-{self.id}.{suffix}" if self.dir is not None else None

    def slots(self) -> np.ndarray:
        """The slot of each row, in row order (sorted)."""
        if self._slots is not None:
            return self._slots
        return np.arange(self.lo, self.lo + self.count, dtype=np.int64)

    def rows_of(self, slots: np.ndarray) -> np.ndarray:
        """Row numbers of `slots` (all of them in this segment)."""
        if self._slots is None:
            return slots - self.lo
        return np.searchsorted(self._slots, slots)

    def slot_end(self) -> int:
        """One past the highest slot that holds a vector."""
        if self._slots is not None:
            return int(self._slots[-1]) + 1 if self.count else self.lo
        return self.lo + self.count

    # ------------------------------------------------------------------ writes
    def append(self, vectors: np.ndarray) -> np.ndarray:
        """Append rows (growing segment; the caller checks capacity); returns their slots."""
        n = len(vectors)
        with self._lock:
            start = self.count
            if self.in_ram:
                if start + n > len(self._buf):
                    grown = np.empty((max(2 * len(self._buf), start + n), self.dim), np.float32)
                    grown[:start] = self._buf[:start]
                    self._buf = grown
                self._buf[start : start + n] = vectors
            if self._file is not None:
                self._file.write(vectors.astype("<f4", copy=False).tobytes())
                if not self.in_ram:
                    self._file.flush()  # the next mapping must see these rows
                self._dirty = True
            self.count = start + n
        return np.arange(self.lo + start, self.lo + start + n, dtype=np.int64)

    def sync(self) -> None:
        """Make every appended row durable (flush + fsync)."""
        with self._lock:
            if self._file is not None and self._dirty:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._dirty = False

    def seal(self) -> None:
        """No more appends: the rows so far are the segment (the caller writes the manifest)."""
        self.sync()
        with self._lock:
            self.meta.sealed = True
            self.meta.count = self.count
            self.meta.hi = self.lo + self.count
            if self._file is not None:
                self._file.close()
                self._file = None

    # ------------------------------------------------------------------- reads
    def data(self) -> np.ndarray:
        """All rows ([count, dim] float32, read-only; a mapping unless held in RAM)."""
        if self.in_ram:
            return self._buf[: self.count]
        with self._lock:
            if len(self._map) != self.count:
                if self.count == 0:
                    self._map = np.empty((0, self.dim), dtype=np.float32)
                else:
                    # a plain ndarray view of the mapping: indexing a np.memmap subclass
                    # costs ~40 us more per gather
                    self._map = np.asarray(
                        np.memmap(self.path, dtype="<f4", mode="r", shape=(self.count, self.dim))
                    )
            return self._map

    def gather(self, rows: np.ndarray, pread: bool = False) -> np.ndarray:
        """Rows at `rows` (a copy).  With `pread`, a few rows of a mapped segment are read
        with `pread` instead of through the mapping, so rescoring the candidates of quantized
        scans does not grow the process's resident memory by a page per candidate (the page
        cache still holds them); ~2 us a row slower than the mapping."""
        if len(rows) == 0:  # (memoryview cannot cast an empty array)
            return np.empty((0, self.dim), dtype=np.float32)
        if not pread or self.in_ram or len(rows) > PREAD_MAX_ROWS or self.path is None:
            return np.asarray(self.data()[rows])
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        width = 4 * self.dim
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        view = memoryview(out).cast("B")
        fd = self._fd
        for i, r in enumerate(rows.tolist()):
            view[i * width : (i + 1) * width] = os.pread(fd, width, r * width)
        return out

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) read with plain file reads (a builder's chunk: unlike a mapping,
        the pages stay in the page cache, not in this process's resident memory)."""
        if self.in_ram and len(self._buf) >= stop and self.count >= stop:
            return self._buf[start:stop]
        assert self.path is not None
        n = stop - start
        out = np.fromfile(self.path, dtype="<f4", count=n * self.dim, offset=4 * self.dim * start)
        return out.reshape(n, self.dim)

    def chunks(self, rows: int = READ_CHUNK_ROWS, start: int = 0):  # noqa: ANN201
        """(start, rows) over the segment from row `start` in chunks, by plain reads."""
        for s in range(start, self.count, rows):
            yield s, self.read_rows(s, min(self.count, s + rows))

    # --------------------------------------------------------------- quantized
    def quantized(self, mode: str) -> QuantizedCopy:
        """The `mode` copy of this segment, up to date with its rows (built or loaded once)."""
        with self._lock:
            qc = self._quantized.get(mode)
            if qc is None:
                qc = self._load_quantized(mode) or QuantizedCopy(mode, self.dim)
                self._quantized[mode] = qc
        if qc.count < self.count or (self.sealed and mode not in self._persisted):
            with qc.building:
                if qc.count < self.count:
                    for _, rows in self.chunks(start=qc.count):
                        qc.append(rows)
                if self.sealed and mode not in self._persisted:
                    self._save_quantized(qc)  # (a copy built while the segment grew, too)
                    self._persisted.add(mode)
        return qc

    def has_quantized(self, mode: str) -> bool:
        """A complete copy exists (for a sealed segment: on disk, so a restart reads it)."""
        if mode in self._persisted:
            return True
        if not self.sealed:
            return mode in self._quantized and self._quantized[mode].count >= self.count
        p = self._file_path(mode)
        return p is not None and p.exists()

    def _save_quantized(self, qc: QuantizedCopy) -> None:
        p = self._file_path(qc.mode)
        if p is None:
            return
        tmp = p.with_suffix(p.suffix + ".tmp")
        with open(tmp, "wb") as f:
            f.write(qc.to_bytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)

    def _load_quantized(self, mode: str) -> QuantizedCopy | None:
        p = self._file_path(mode)
        if p is None or not p.exists():
            return None
        try:
            qc = QuantizedCopy.from_bytes(p.read_bytes(), self.dim)
            self._persisted.add(mode)
            return qc
        except (ValueError, KeyError, json.JSONDecodeError):
            log.warning("quantized copy %s unreadable: rebuilding it", p)
            return None

    def resident_bytes(self) -> int:
        own = self._buf.nbytes if self.in_ram else 0
        return own + sum(q.nbytes() for q in self._quantized.values())

    # --------------------------------------------------------------- lifecycle
    def close(self) -> None:
        self.sync()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def remove_files(self) -> None:
        self.close()
        if self.dir is None:
            return
        for f in self.dir.glob(f"seg-{self.id}.*"):
            f.unlink(missing_ok=True)


def write_compact(
    directory: Path | None, meta: SegmentMeta, dim: int, slots: np.ndarray, chunks, in_ram: bool
) -> Segment:
    """Write a compact segment (its slots and the vectors `chunks` yields, in slot order),
    durable before it returns; the caller then lists it in the manifest."""
    meta.compact = True
    meta.sealed = True
    meta.count = len(slots)
    if directory is not None:
        with open(directory / f"seg-{meta.id}.f32", "wb") as f:
            for rows in chunks:
                f.write(np.ascontiguousarray(rows, dtype="<f4").tobytes())
            f.flush()
            os.fsync(f.fileno())
        with open(directory / f"seg-{meta.id}.slots", "wb") as f:
            f.write(np.ascontiguousarray(slots, dtype="<i8").tobytes())
            f.flush()
            os.fsync(f.fileno())
        return Segment(directory, meta, dim, in_ram)
    seg = Segment(None, meta, dim, True)
    seg._slots = np.ascontiguousarray(slots, dtype=np.int64)
    data = np.concatenate(list(chunks)) if len(slots) else np.empty((0, dim), np.float32)
    seg._buf = np.ascontiguousarray(data, dtype=np.float32)
    seg.count = len(slots)
    return seg
