"""A vector column's store: its segments, the manifest that lists them, and slot lookups.

Owns: the slot space behind one vector column, split into segments like Qdrant's (see
`engine.segment`): one growing segment takes appends; when it holds `capacity` rows it is
sealed and a new growing segment opens above it; the optimizer (`engine.optimizer`) later
quantizes, indexes, merges and vacuums sealed segments and swaps its output in with
`replace`.  Slots are never reused or renumbered, so the DuckDB row pointing at a slot (its
`STRUCT(__vg<id> BIGINT)`) finds the same vector whichever segment holds it now.

On disk: `vectors/<store_id>/manifest.json` lists the segments (written to a temp file,
fsync'd, renamed); `seg-<n>.f32` holds float32 rows, `seg-<n>.slots` a compact segment's
slots, `seg-<n>.int8` / `seg-<n>.binary` a sealed segment's quantized copy.  Files the
manifest does not list (an interrupted merge's output, or a merge's inputs after the swap)
are removed when the store opens.

Storage: `memmap` maps segment files (opening reads no vector data), except sealed segments
smaller than `memmap_threshold_kb`, held in RAM like Qdrant's; `memory` holds every segment in
RAM.  Quantized copies are always in RAM (`always_ram`).

Must not: know about SQL, tables or transactions.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.distance import distances
from engine.segment import Segment, SegmentMeta, write_compact

STORAGE_MODES = ("memmap", "memory")
DEFAULT_SEGMENT_ROWS = 131_072
log = logging.getLogger("vecgres")
# Score a whole segment in place rather than gather when asked for more than this share of it.
_GATHER_FRACTION = 0.4
_CHUNK = 4096


@dataclass
class StorageConfig:
    """Server-wide storage defaults (`vecgres serve --storage/--memmap-threshold-kb`)."""

    storage: str = "memmap"
    memmap_threshold_kb: int = 20_000  # Qdrant's default indexing/memmap threshold


class VectorStore:
    """Vectors of one column: `append` returns slots, `take` gathers rows by slot."""

    def __init__(
        self,
        directory: Path | None,
        dim: int,
        storage: str = "memmap",
        capacity: int = DEFAULT_SEGMENT_ROWS,
        memmap_threshold_kb: int = StorageConfig.memmap_threshold_kb,
    ) -> None:
        self.dir = directory
        self.dim = dim
        self.storage = "memory" if directory is None else storage
        self.capacity = max(1, capacity)
        self.memmap_threshold_kb = memmap_threshold_kb
        self._lock = threading.RLock()
        self._next_id = 0
        # (segments, their lo slots): replaced whole, so a reader sees one consistent pair
        self._state: tuple[tuple[Segment, ...], np.ndarray] = ((), np.empty(0, np.int64))
        self.on_seal: list = []  # callbacks: a segment was sealed (the optimizer's wake-up)
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        metas = self._read_manifest()
        segs = [self._open(m) for m in metas]
        self._set_segments(segs)
        if directory is not None:
            self._remove_unlisted()
        if not segs or segs[-1].sealed:
            self._open_growing()
        elif segs[-1].count >= self.capacity:
            self._seal_growing()

    # ----------------------------------------------------------------- manifest
    def _read_manifest(self) -> list[SegmentMeta]:
        if self.dir is None:
            return []
        mf = self.dir / "manifest.json"
        if not mf.exists():
            return []
        doc = json.loads(mf.read_text())
        self._next_id = int(doc["next_id"])
        return [SegmentMeta(**m) for m in doc["segments"]]

    def _write_manifest(self) -> None:
        if self.dir is None:
            return
        doc = {"next_id": self._next_id, "segments": [s.meta.to_json() for s in self.segments]}
        tmp = self.dir / "manifest.json.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(doc))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / "manifest.json")
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _remove_unlisted(self) -> None:
        assert self.dir is not None
        listed = {s.id for s in self.segments}
        for f in self.dir.glob("seg-*"):
            sid = f.name.split(".")[0][4:]
            if sid.isdigit() and int(sid) not in listed:
                f.unlink(missing_ok=True)

    # ----------------------------------------------------------------- segments
    def _in_ram(self, meta: SegmentMeta) -> bool:
        if self.storage == "memory":
            return True
        if not meta.sealed:
            return False
        return meta.count * self.dim * 4 < self.memmap_threshold_kb * 1024

    def _open(self, meta: SegmentMeta) -> Segment:
        return Segment(self.dir, meta, self.dim, self._in_ram(meta))

    def _set_segments(self, segs: list[Segment]) -> None:
        los = np.fromiter((s.lo for s in segs), dtype=np.int64, count=len(segs))
        self._state = (tuple(segs), los)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self._state[0]

    def _new_id(self) -> int:
        i = self._next_id
        self._next_id += 1
        return i

    def _open_growing(self) -> None:
        lo = max((s.hi for s in self.segments), default=0)
        meta = SegmentMeta(id=self._new_id(), lo=lo, hi=lo + self.capacity)
        seg = self._open(meta)
        self._set_segments([*self.segments, seg])
        self._write_manifest()  # listed before the first row goes in

    def _seal_growing(self) -> Segment:
        """Seal the growing segment at its current size and open the next one."""
        old = self.segments[-1]
        old.seal()
        sealed = old
        if self.dir is not None and old.in_ram != self._in_ram(old.meta):
            sealed = self._open(old.meta)  # reopened: small sealed segments live in RAM
            sealed._quantized = old._quantized  # the copies built while it grew stay valid
        self._set_segments([*self.segments[:-1], sealed])
        self._open_growing()
        if sealed is not old:
            old.close()
        for cb in self.on_seal:
            cb(self)
        return sealed

    @property
    def growing(self) -> Segment:
        return self.segments[-1]

    def sealed_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.sealed]

    def __len__(self) -> int:
        """Rows held (live or dead) in all segments."""
        return sum(s.count for s in self.segments)

    def slot_end(self) -> int:
        """One past the highest slot holding a vector (size of a mask over slots)."""
        return max((s.slot_end() for s in self.segments), default=0)

    # ------------------------------------------------------------------- writes
    def append(self, vectors: np.ndarray) -> np.ndarray:
        """Append rows ([n, dim] float32) to the growing segment, sealing it when full."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        out = []
        with self._lock:
            done = 0
            while done < len(vectors):
                seg = self.segments[-1]
                room = self.capacity - seg.count
                if room <= 0:
                    self._seal_growing()
                    continue
                part = vectors[done : done + room]
                out.append(seg.append(part))
                done += len(part)
                if seg.count >= self.capacity:
                    self._seal_growing()
        if not out:
            return np.empty(0, dtype=np.int64)
        return out[0] if len(out) == 1 else np.concatenate(out)

    def sync(self) -> None:
        """Make every appended row durable (flush + fsync)."""
        self.segments[-1].sync()

    def seal(self) -> Segment | None:
        """Seal the growing segment now (if it holds rows)."""
        with self._lock:
            if self.segments[-1].count == 0:
                return None
            return self._seal_growing()

    def replace(self, old: list[Segment], new: Segment | None) -> None:
        """Swap sealed segments `old` (adjacent) for `new` (their merge or vacuum), durably."""
        with self._lock:
            ids = {s.id for s in old}
            segs = []
            for s in self.segments:
                if s.id in ids:
                    if new is not None and s.id == old[0].id:
                        segs.append(new)
                    continue
                segs.append(s)
            self._set_segments(segs)
            self._write_manifest()
        for s in old:
            s.remove_files()

    def new_compact_segment(self, lo: int, hi: int, slots: np.ndarray, chunks) -> Segment:
        """Write a compact segment over [lo, hi) holding `slots` (not yet listed)."""
        with self._lock:
            meta = SegmentMeta(id=self._new_id(), lo=lo, hi=hi)
            # persist next_id now: after a crash the id is not handed out again, so files a
            # half-done merge left (this segment's, its graphs') never pass for another's
            self._write_manifest()
        meta.count = len(slots)
        in_ram = self._in_ram(SegmentMeta(0, lo, hi, sealed=True, count=len(slots)))
        return write_compact(self.dir, meta, self.dim, slots, chunks, in_ram)

    def set_storage(self, storage: str) -> None:
        """Switch between `memmap` and `memory` (reopens the segments)."""
        if self.dir is None or storage == self.storage:
            return
        with self._lock:
            self.storage = storage
            self.sync()
            segs = []
            for s in self.segments:
                fresh = self._open(s.meta)
                fresh._quantized = s._quantized
                if not s.sealed:
                    fresh.count = s.count
                s.close()
                segs.append(fresh)
            self._set_segments(segs)

    # -------------------------------------------------------------------- reads
    def group(
        self, slots: np.ndarray, is_sorted: bool = False
    ) -> Iterator[tuple[Segment, np.ndarray | slice]]:
        """(segment, positions in `slots` of that segment's slots), for non-empty groups;
        positions are a slice when `slots` is sorted (no gather, no argsort)."""
        segs, los = self._state
        if len(segs) == 1:
            yield segs[0], slice(0, len(slots))
            return
        if is_sorted:
            bounds = np.searchsorted(slots, los).tolist() + [len(slots)]
            for i, seg in enumerate(segs):
                if bounds[i + 1] > bounds[i]:
                    yield seg, slice(bounds[i], bounds[i + 1])
            return
        which = np.searchsorted(los, slots, side="right") - 1
        if len(slots) and which[0] == which[-1] and (np.all(which == which[0])):
            yield segs[int(which[0])], np.arange(len(slots))
            return
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(segs) + 1))
        for i, seg in enumerate(segs):
            a, b = bounds[i], bounds[i + 1]
            if b > a:
                yield seg, order[a:b]

    def take(self, slots: np.ndarray) -> np.ndarray:
        """Rows at `slots` ([len(slots), dim] float32, a copy)."""
        slots = np.asarray(slots, dtype=np.int64)
        segs = self.segments
        if len(segs) == 1:
            seg = segs[0]
            return seg.gather(seg.rows_of(slots), pread=True)
        out = np.empty((len(slots), self.dim), dtype=np.float32)
        for seg, pos in self.group(slots):
            out[pos] = seg.gather(seg.rows_of(slots[pos]), pread=True)
        return out

    def score(
        self,
        metric: str,
        q: np.ndarray,
        slots: np.ndarray,
        is_sorted: bool = False,
        pread: bool = False,
    ) -> np.ndarray:
        """Distances of the vectors at `slots` to `q`, aligned with `slots` (float64);
        `pread` reads few-row gathers without the mapping (see `Segment.gather`)."""
        slots = np.asarray(slots, dtype=np.int64)
        out = np.empty(len(slots), dtype=np.float64)
        for seg, pos in self.group(slots, is_sorted):
            rows = seg.rows_of(slots[pos])
            if len(rows) > _GATHER_FRACTION * seg.count:
                out[pos] = distances(metric, seg.data(), q)[rows]
            elif len(rows) <= _CHUNK:
                out[pos] = distances(metric, seg.gather(rows, pread), q)
            else:
                data = seg.data()
                part = np.empty(len(rows), dtype=np.float64)
                for s in range(0, len(rows), _CHUNK):
                    part[s : s + _CHUNK] = distances(metric, data[rows[s : s + _CHUNK]], q)
                out[pos] = part
        return out

    def all_slots(self) -> np.ndarray:
        """Every slot holding a vector (live or dead), sorted."""
        parts = [s.slots() for s in self.segments if s.count]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def score_all(self, metric: str, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(slots, distances) of every vector in the store."""
        parts = [(s.slots(), distances(metric, s.data(), q)) for s in self.segments if s.count]
        if not parts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def resident_bytes(self) -> int:
        """Bytes held in process memory (maps excluded), quantized copies included."""
        return sum(s.resident_bytes() for s in self.segments)

    def close(self) -> None:
        for s in self.segments:
            s.close()


def migrate_single_file(vectors_dir: Path, store_id: int) -> None:
    """Data dirs written before segments kept a store in `vectors/<id>.f32`: make that file the
    first (growing) segment of `vectors/<id>/`; the store seals it if it is past capacity."""
    legacy = vectors_dir / f"{store_id}.f32"
    target = vectors_dir / str(store_id)
    if legacy.exists() and not (target / "manifest.json").exists():
        target.mkdir(exist_ok=True)
        os.replace(legacy, target / "seg-0.f32")
        doc = {
            "next_id": 1,
            "segments": [SegmentMeta(id=0, lo=0, hi=1 << 62).to_json()],
        }
        (target / "manifest.json").write_text(json.dumps(doc))
