"""HNSW indexes over a vector store: one hnswlib graph per segment, labels = slots.

Owns: building an index's graphs (both cores), persisting them
(`<db>/indexes/<name>/seg-<id>.hnsw` + `seg-<id>.json` with how many of the segment's rows the
graph holds, and `index.json` once the index is built), loading them lazily, searching one
(with an `ef`, optionally a label filter), extending the growing segment's graph with rows
appended after the build (the "tail", scanned exactly until the optimizer thread adds it), and
building graphs for segments the optimizer seals or merges, installed when it swaps them in.

A segment's graph holds its rows `[0, covered)`: every row, live or dead — a slot an in-flight
transaction appended may still commit — and the caller's live mask drops the dead.
hnswlib spaces: `l2` is squared L2, `ip` is 1 - dot, `cosine` is 1 - cos (it normalises on
insert); `search` turns its float32 distances into pgvector's (`<->`, `<#>`, `<=>`): good for
ranking candidates, while callers that show a distance rescore it exactly.

Must not: know SQL or DuckDB.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import hnswlib
import numpy as np

from engine.segment import Segment
from engine.vector_store import VectorStore

SPACE = {"l2": "l2", "cosine": "cosine", "ip": "ip"}
_GRAPH_FILE = re.compile(r"seg-(\d+)\.(?:hnsw|json)(\.tmp)?")
BUILD_THREADS = max(1, min(2, os.cpu_count() or 1))
TAIL_EXTEND_ROWS = 5000  # the optimizer folds a tail this long into the graph


@dataclass
class SearchStats:
    ef: int = 0
    k: int = 0
    returned: int = 0
    visited: int | None = None  # graph nodes visited, when counted


class _VisitCounter:
    """A filter for hnswlib that counts its calls (one per node the search visits) and
    otherwise answers as `keep` would (everything, without one)."""

    __slots__ = ("keep", "n")

    def __init__(self, keep: Callable[[int], bool] | None) -> None:
        self.keep = keep
        self.n = 0

    def __call__(self, label: int) -> bool:
        self.n += 1
        return True if self.keep is None else self.keep(label)


@dataclass
class SegmentGraph:
    """The graph of one segment: hnswlib index over its rows [0, covered)."""

    seg_id: int
    index: hnswlib.Index
    covered: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    extending: bool = False
    dropped: bool = False
    ef: int = 0  # the ef set on `index` last

    def covered_end(self, seg: Segment) -> int:
        """Slots of `seg` below this are in the graph."""
        if seg.meta.compact:
            return seg.hi
        return seg.lo + self.covered

    def knn_query(
        self, q: np.ndarray, k: int, ef: int, keep: Callable[[int], bool] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """hnswlib's `knn_query` of one vector at `ef` (set on the index only when it
        changes), under the graph's lock.  Raises RuntimeError, as hnswlib does, when fewer
        than k rows are reachable."""
        with self.lock:
            if self.ef != ef:
                self.index.set_ef(ef)
                self.ef = ef
            return self.index.knn_query(q.reshape(1, -1), k=k, filter=keep)


class HnswIndex:
    def __init__(
        self, name: str, metric: str, dim: int, m: int, ef_construction: int, path: Path | None
    ) -> None:
        self.name = name
        self.metric = metric
        self.dim = dim
        self.m = m
        self.ef_construction = ef_construction
        self.dir = path  # indexes/<name>/ (None: an in-memory database)
        self._graphs: dict[int, SegmentGraph] = {}
        self._lock = threading.Lock()
        self._built = False
        self.build_seconds = 0.0
        if path is not None:
            _migrate_single_graph(path)

    # ------------------------------------------------------------------ build
    def _new_graph(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space=SPACE[self.metric], dim=self.dim)
        idx.init_index(
            max_elements=max(16, capacity),
            M=self.m,
            ef_construction=self.ef_construction,
            random_seed=100,
            allow_replace_deleted=False,
        )
        return idx

    def build_graph(self, seg: Segment) -> SegmentGraph:
        """A graph over every row `seg` holds now (not installed: see `install`)."""
        count = seg.count
        idx = self._new_graph(count)
        if count:
            slots = seg.slots()
            data = seg.data()
            idx.add_items(data[:count], slots[:count], num_threads=BUILD_THREADS)
        return SegmentGraph(seg.id, idx, count)

    def build(self, store: VectorStore) -> None:
        """Build a graph for every segment of `store` (CREATE INDEX / REINDEX).

        Every slot, not only the rows visible to the caller: a slot appended by a transaction
        still in flight may commit later, and a slot a graph covers is never scanned as tail.
        """
        t0 = time.perf_counter()
        graphs = {seg.id: self.build_graph(seg) for seg in store.segments}
        with self._lock:
            old = self._graphs
            self._graphs = graphs
            self._built = True
        for g in old.values():
            g.dropped = True
        self.build_seconds = time.perf_counter() - t0
        if self.dir is not None:
            if self.dir.exists():
                shutil.rmtree(self.dir)
            self.dir.mkdir(parents=True)
            for g in graphs.values():
                self._save(g)
            self._write_meta()

    def install(self, graph: SegmentGraph) -> None:
        """Make `graph` (built for a segment about to be swapped in) live; the graphs of the
        segments it replaces go with `drop_segments` after the swap."""
        self._save(graph)
        with self._lock:
            self._graphs[graph.seg_id] = graph

    def drop_segments(self, ids: list[int]) -> None:
        """Forget the graphs of segments that are gone (vacuumed away entirely)."""
        with self._lock:
            gone = [self._graphs.pop(i, None) for i in ids]
        for i, g in zip(ids, gone, strict=True):
            if g is not None:
                g.dropped = True
            self._remove_graph_files(i)

    def extend(self, seg: Segment) -> None:
        """Add the rows `seg` gained since its graph was built or last extended (all of them,
        for the reason given in `build`); a segment without a graph gets one."""
        g = self.graph(seg)
        if g is None:
            g = self.build_graph(seg)
            with self._lock:
                if seg.id in self._graphs:
                    return
                self._graphs[seg.id] = g
            self._save(g)
            return
        if seg.meta.compact:
            return
        start, upto = g.covered, seg.count
        if upto <= start:
            return
        with g.lock:
            need = g.index.get_current_count() + (upto - start)
            if need > g.index.get_max_elements():
                g.index.resize_index(max(need, 2 * g.index.get_max_elements()))
        labels = np.arange(seg.lo + start, seg.lo + upto, dtype=np.int64)
        g.index.add_items(seg.data()[start:upto], labels, num_threads=BUILD_THREADS)
        with g.lock:
            g.covered = max(g.covered, upto)
        self._save(g)

    def extend_in_background(self, seg: Segment) -> bool:
        """Start folding `seg`'s tail into its graph unless that is already running."""
        g = self.graph(seg)
        if g is None:
            return False
        with g.lock:
            if g.extending:
                return False
            g.extending = True

        def work() -> None:
            try:
                self.extend(seg)
            finally:
                with g.lock:
                    g.extending = False

        threading.Thread(target=work, name=f"hnsw-extend-{self.name}", daemon=True).start()
        return True

    # ---------------------------------------------------------------- persist
    def _graph_path(self, seg_id: int, suffix: str) -> Path:
        assert self.dir is not None
        return self.dir / f"seg-{seg_id}.{suffix}"

    def _save(self, g: SegmentGraph) -> None:
        if self.dir is None or g.dropped:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._graph_path(g.seg_id, "hnsw.tmp")
        with g.lock:
            g.index.save_index(str(tmp))
            meta = {"covered": g.covered, "metric": self.metric, "dim": self.dim}
        os.replace(tmp, self._graph_path(g.seg_id, "hnsw"))
        mtmp = self._graph_path(g.seg_id, "json.tmp")
        mtmp.write_text(json.dumps(meta))
        os.replace(mtmp, self._graph_path(g.seg_id, "json"))

    def _write_meta(self) -> None:
        assert self.dir is not None
        (self.dir / "index.json").write_text(json.dumps({"metric": self.metric, "m": self.m}))

    def _remove_graph_files(self, seg_id: int) -> None:
        if self.dir is None:
            return
        for suffix in ("hnsw", "json"):
            self._graph_path(seg_id, suffix).unlink(missing_ok=True)

    def remove_orphan_files(self, segment_ids: set[int]) -> list[Path]:
        """Delete graph files of segments the store no longer lists (a merge that crashed
        before its manifest swap leaves its output's graphs behind; ids are never reused)
        and half-written `.tmp` files.  Only safe before the optimizer starts."""
        if self.dir is None or not self.dir.exists():
            return []
        removed = []
        for f in self.dir.iterdir():
            m = _GRAPH_FILE.fullmatch(f.name)
            if m is None:
                continue
            if m.group(2) or int(m.group(1)) not in segment_ids:
                f.unlink(missing_ok=True)
                removed.append(f)
        return removed

    def available(self) -> bool:
        """Built (in memory, or on disk to be loaded)."""
        if self._built:
            return True
        if self.dir is not None and (self.dir / "index.json").exists():
            self._built = True
            return True
        return False

    def loaded(self, seg_id: int) -> SegmentGraph | None:
        """The graph of segment `seg_id` if it is in memory now (no loading, no lock)."""
        return self._graphs.get(seg_id)

    def graph(self, seg: Segment) -> SegmentGraph | None:
        """The graph of `seg` (loaded on first use), or None if it has none yet."""
        g = self._graphs.get(seg.id)
        if g is not None or self.dir is None:
            return g
        meta_path = self._graph_path(seg.id, "json")
        if not meta_path.exists():
            return None
        with self._lock:
            g = self._graphs.get(seg.id)
            if g is None:
                meta = json.loads(meta_path.read_text())
                idx = hnswlib.Index(space=SPACE[self.metric], dim=self.dim)
                idx.load_index(str(self._graph_path(seg.id, "hnsw")))
                g = SegmentGraph(seg.id, idx, int(meta["covered"]))
                self._graphs[seg.id] = g
            return g

    def remove_files(self) -> None:
        with self._lock:
            for g in self._graphs.values():
                g.dropped = True
            self._graphs.clear()
            self._built = False
        if self.dir is not None and self.dir.exists():
            shutil.rmtree(self.dir)

    # ----------------------------------------------------------------- search
    def search(
        self,
        g: SegmentGraph,
        q: np.ndarray,
        k: int,
        ef: int,
        keep: Callable[[int], bool] | None = None,
        count_visits: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, SearchStats]:
        """Labels (slots) of up to k approximate nearest neighbours of q in graph `g`, and
        their distances in the index's metric as pgvector defines it (float64).

        `count_visits` (EXPLAIN ANALYZE) fills `SearchStats.visited`: the nodes the traversal
        admitted to its candidate queue, whose neighbours it then scores.  hnswlib exposes no
        counter, but calls a filter exactly once per such node, so a pass-through filter
        counts them (and slows the search it measures by the callbacks)."""
        counter: _VisitCounter | None = None
        if count_visits:
            keep = counter = _VisitCounter(keep)
        k = min(k, g.index.get_current_count())
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0), SearchStats(ef=ef, k=0)
        ef = max(ef, k)
        try:
            labels, dist = g.knn_query(q, k, ef, keep)
        except RuntimeError:
            # fewer than k reachable (a selective filter): ask for what exists
            labels, dist = _search_short(g, q, k, ef, keep)
        out = labels[0].astype(np.int64)
        d = _TO_PGVECTOR[self.metric](dist[0].astype(np.float64))
        visited = counter.n if counter is not None else None
        return out, d, SearchStats(ef=ef, k=k, returned=len(out), visited=visited)


# hnswlib's distance -> pgvector's: sqrt of squared L2; -dot from 1 - dot; 1 - cos as it is
_TO_PGVECTOR: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "l2": lambda d: np.sqrt(np.maximum(d, 0.0, out=d), out=d),
    "ip": lambda d: np.subtract(d, 1.0, out=d),
    "cosine": lambda d: d,
}


def _search_short(g: SegmentGraph, q: np.ndarray, k: int, ef: int, keep):  # noqa: ANN001, ANN202
    while k > 1:
        k //= 2
        try:
            return g.knn_query(q, k, ef, keep)
        except RuntimeError:
            continue
    return np.empty((1, 0), dtype=np.int64), np.empty((1, 0), dtype=np.float32)


def _migrate_single_graph(directory: Path) -> None:
    """Indexes written before segments were one graph `indexes/<name>.hnsw` over slots
    `[0, covered)`: exactly the graph of segment 0 of a migrated store."""
    legacy = directory.with_suffix(".hnsw")
    legacy_meta = directory.with_suffix(".json")
    if legacy.exists() and legacy_meta.exists() and not directory.exists():
        directory.mkdir(parents=True)
        meta = json.loads(legacy_meta.read_text())
        os.replace(legacy, directory / "seg-0.hnsw")
        (directory / "seg-0.json").write_text(json.dumps(meta))
        (directory / "index.json").write_text(json.dumps({"metric": meta.get("metric")}))
        legacy_meta.unlink()
