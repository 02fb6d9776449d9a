"""The background optimizer of one database: what sealed segments carry, merges and vacuum.

Owns: a thread that, woken when a segment seals and every 30 s, brings every vector
store's sealed segments up to date — their quantized copy for the table's `quantization`,
a graph for each HNSW index on the column — and compacts segments like Qdrant's merge and
vacuum optimizers: a run of adjacent sealed segments that are small (fewer live rows than
half a segment) or dirty (≥ 20% dead rows, at least `VACUUM_MIN_DEAD`) is rewritten as one
compact segment holding only the live rows, with its quantized copy and graphs built before
it is swapped in.  `VACUUM [table]` runs the same work synchronously.

Which rows are live is read from DuckDB at a quiescent moment (`Database.quiescent`: no write
transaction open), so no transaction can later commit a pointer to a slot the merge drops —
a row appended by a transaction still in flight, or a pointer copied from a row another
transaction deleted.  Slots do not change, so DuckDB is never rewritten; queries running
during a swap hold the segments they started with.

Must not: parse SQL.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from engine import memory
from engine.segment import READ_CHUNK_ROWS, Segment
from engine.vector_store import VectorStore

if TYPE_CHECKING:
    from engine.catalog import ColumnDef, TableDef
    from engine.database import Database
    from engine.hnsw import HnswIndex

log = logging.getLogger("vecgres")
DEAD_FRACTION = 0.2  # Qdrant's deleted_threshold
VACUUM_MIN_DEAD = 64
QUIESCENT_WAIT = 2.0  # seconds the optimizer waits for a moment with no write open
THROTTLE = 0.5  # seconds between background passes


@dataclass
class PassReport:
    """What one pass did (VACUUM VERBOSE prints it)."""

    lines: list[str] = field(default_factory=list)
    busy: bool = False  # a compaction was due but no quiescent moment came


class Optimizer:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._run_lock = threading.Lock()  # one pass at a time (background or VACUUM)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="vecgres-optimizer", daemon=True)
        self._thread.start()

    def wake(self, *_: object) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=30)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                report = self.run_pass(compact=True, background=True)
                memory.trim()
                if report.busy:
                    self._wake.set()  # try again after the throttle
            except Exception:  # noqa: BLE001 - the optimizer must outlive a failed pass
                log.exception("optimizer pass failed")
            self._stop.wait(THROTTLE)

    # -------------------------------------------------------------------- passes
    def run_pass(
        self, compact: bool = True, only: str | None = None, background: bool = False
    ) -> PassReport:
        """One pass over every table (or `only`); a background pass skips tables with
        `autovacuum_enabled = off`, as Postgres's autovacuum does."""
        report = PassReport()
        with self._run_lock:
            catalog = self._catalog()
            if only is None and any(self.db.unreferenced(catalog)):
                self._reap(report)
                catalog = self._catalog()
            for table in catalog.values():
                if only is not None and table.name != only:
                    continue
                if background and table.options.get("autovacuum_enabled") == "off":
                    continue
                for col in table.vector_columns():
                    if self._stop.is_set():
                        return report
                    self._column(table, col, compact, report)
        return report

    def _catalog(self) -> dict[str, TableDef]:
        cur = self.db.cursor()
        try:
            return self.db.load_catalog(cur)
        finally:
            cur.close()

    def _reap(self, report: PassReport) -> None:
        """Delete the stores and indexes of committed drops, at a moment no transaction is
        open (one that began before the DROP committed may still read the table)."""
        with self.db.quiescent(QUIESCENT_WAIT) as ok:
            if not ok:
                report.busy = True
                return
            for what in self.db.reap(self._catalog()):
                report.lines.append(f"removed {what} (dropped)")

    def _column(self, table: TableDef, col: ColumnDef, compact: bool, report: PassReport) -> None:
        db = self.db
        store = db.store_for(table, col)
        if getattr(store, "sparse", False):
            return  # a sparse store has no segments, copies or graphs
        mode = str(table.options.get("quantization", "none"))
        indexes = [
            h
            for ix in table.indexes
            if ix.method == "hnsw" and ix.columns == [col.name]
            for h in [db.hnsw(ix, col.dim)]
            if h.available()
        ]
        for seg in store.sealed_segments():
            if mode != "none" and not seg.has_quantized(mode):
                seg.quantized(mode)
                report.lines.append(f'"{table.name}": quantized segment {seg.id} ({mode})')
            for h in indexes:
                g = h.graph(seg)
                if g is None or (not seg.meta.compact and g.covered < seg.count):
                    h.extend(seg)
                    report.lines.append(f'"{table.name}": indexed segment {seg.id} ({h.name})')
        if compact:
            self._compact(table, col, store, mode, indexes, report)

    def _live_counts(self, store: VectorStore, live: np.ndarray, segs: list[Segment]) -> list[int]:
        bounds = np.searchsorted(live, [x for s in segs for x in (s.lo, s.hi)])
        return [int(bounds[2 * i + 1] - bounds[2 * i]) for i in range(len(segs))]

    def _plan_run(self, store: VectorStore, live: np.ndarray) -> list[Segment]:
        """The first run of adjacent sealed segments worth rewriting (empty: none)."""
        sealed = list(store.segments[:-1])
        counts = self._live_counts(store, live, sealed)
        half = store.capacity // 2
        run: list[Segment] = []
        total = 0
        dirty = False
        for seg, n in zip(sealed, counts, strict=True):
            dead = seg.count - n
            is_dirty = dead >= VACUUM_MIN_DEAD and dead >= DEAD_FRACTION * seg.count
            small = n < half
            if (small or is_dirty) and total + n <= store.capacity:
                run.append(seg)
                total += n
                dirty = dirty or is_dirty
                continue
            if len(run) >= 2 or dirty:
                return run
            run, total, dirty = [], 0, False
            if small or is_dirty:
                run, total, dirty = [seg], n, is_dirty
        if len(run) >= 2 or dirty:
            return run
        return []

    def _compact(
        self,
        table: TableDef,
        col: ColumnDef,
        store: VectorStore,
        mode: str,
        indexes: list[HnswIndex],
        report: PassReport,
    ) -> None:
        db = self.db
        cur = db.cursor()
        try:
            # decide on the cached live set (cheap); confirm at a quiescent moment
            live = db.live_slots(cur, table.name, col.name, col.store_id, cacheable=True)  # type: ignore[arg-type]
            if not self._plan_run(store, live):
                return
            with db.quiescent(QUIESCENT_WAIT) as quiet:
                if not quiet:
                    report.busy = True
                    return
                live = db.live_slots(cur, table.name, col.name, col.store_id, cacheable=False)  # type: ignore[arg-type]
        finally:
            cur.close()
        run = self._plan_run(store, live)
        if not run:
            return
        lo, hi = run[0].lo, run[-1].hi
        keep = live[np.searchsorted(live, lo) : np.searchsorted(live, hi)]
        before = sum(s.count for s in run)

        def chunks():  # noqa: ANN202
            for s in range(0, len(keep), READ_CHUNK_ROWS):
                yield store.take(keep[s : s + READ_CHUNK_ROWS])

        new = store.new_compact_segment(lo, hi, keep, chunks()) if len(keep) else None
        if new is not None:
            if mode != "none":
                new.quantized(mode)
            for h in indexes:
                h.install(h.build_graph(new))
        store.replace(run, new)
        for h in indexes:
            h.drop_segments([s.id for s in run])
        ids = ", ".join(str(s.id) for s in run)
        report.lines.append(
            f'"{table.name}": rewrote segments {ids} into '
            + (f"segment {new.id}" if new is not None else "nothing")
            + f": {len(keep)} live vectors kept, {before - len(keep)} dead removed"
        )
        log.info("optimizer: %s", report.lines[-1])
