"""HNSW indexes over a vector store, one hnswlib graph per index, labels = slots.

Owns: building an index from the live slots of a store (both cores), persisting it
(`<db>/indexes/<name>.hnsw` + `<name>.json` with the slot range it covers), loading it lazily,
searching it (with an `ef`, optionally a label filter), and extending it with slots appended
after the build (the "growing tail", scanned exactly until the optimizer thread adds it).

An index covers every slot in `[0, covered)`; slots at or past `covered` are the tail.  Dead
slots (old versions, deleted or rolled back rows) are in the graph too — a slot an in-flight
transaction appended may still commit — and are dropped by the caller's live mask.
hnswlib spaces: `l2` is squared L2, `ip` is 1 - dot, `cosine` is 1 - cos (it normalises on
insert); callers rescore candidates exactly, so only the order matters here.

Must not: know SQL or DuckDB.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

from engine.vector_store import VectorStore

SPACE = {"l2": "l2", "cosine": "cosine", "ip": "ip"}
BUILD_THREADS = max(1, min(2, os.cpu_count() or 1))
TAIL_EXTEND_ROWS = 5000  # the optimizer folds a tail this long into the graph


@dataclass
class SearchStats:
    ef: int = 0
    k: int = 0
    returned: int = 0


class HnswIndex:
    def __init__(
        self, name: str, metric: str, dim: int, m: int, ef_construction: int, path: Path | None
    ) -> None:
        self.name = name
        self.metric = metric
        self.dim = dim
        self.m = m
        self.ef_construction = ef_construction
        self.path = path
        self._covered = 0
        self._index: hnswlib.Index | None = None
        self._lock = threading.Lock()
        self._extending = False
        self.build_seconds = 0.0

    @property
    def covered(self) -> int:
        """Slots below this are in the graph (loads the index: the range lives in its meta)."""
        if self._index is None and self.available():
            self._load()
        return self._covered

    # ------------------------------------------------------------------ build
    def build(self, store: VectorStore) -> None:
        """Build the graph over every slot of `store` appended so far.

        Every slot, not only the rows visible to the caller: a slot appended by a transaction
        still in flight may commit later, and a slot below `covered` is never scanned as tail.
        Dead slots cost graph space and are dropped by the caller's live mask.
        """
        t0 = time.perf_counter()
        covered = len(store)
        idx = hnswlib.Index(space=SPACE[self.metric], dim=self.dim)
        idx.init_index(
            max_elements=max(16, covered),
            M=self.m,
            ef_construction=self.ef_construction,
            random_seed=100,
            allow_replace_deleted=False,
        )
        if covered:
            idx.add_items(
                store.view()[:covered],
                np.arange(covered, dtype=np.int64),
                num_threads=BUILD_THREADS,
            )
        with self._lock:
            self._index = idx
            self._covered = covered
        self.build_seconds = time.perf_counter() - t0
        self.save()

    def extend(self, store: VectorStore) -> None:
        """Add the slots appended since the graph was built or last extended (all of them,
        for the reason given in `build`)."""
        idx = self._load()
        start, upto = self._covered, len(store)
        if upto <= start:
            return
        with self._lock:
            need = idx.get_current_count() + (upto - start)
            if need > idx.get_max_elements():
                idx.resize_index(max(need, 2 * idx.get_max_elements()))
        labels = np.arange(start, upto, dtype=np.int64)
        idx.add_items(store.view()[start:upto], labels, num_threads=BUILD_THREADS)
        with self._lock:
            self._covered = max(self._covered, upto)
        self.save()

    def extend_in_background(self, store: VectorStore) -> bool:
        """Start folding the tail into the graph unless that is already running."""
        with self._lock:
            if self._extending:
                return False
            self._extending = True

        def work() -> None:
            try:
                self.extend(store)
            finally:
                with self._lock:
                    self._extending = False

        threading.Thread(target=work, name=f"hnsw-extend-{self.name}", daemon=True).start()
        return True

    # ---------------------------------------------------------------- persist
    def save(self) -> None:
        if self.path is None or self._index is None:
            return
        tmp = self.path.with_suffix(".hnsw.tmp")
        with self._lock:
            self._index.save_index(str(tmp))
            meta = {"covered": self._covered, "metric": self.metric, "dim": self.dim}
        os.replace(tmp, self.path.with_suffix(".hnsw"))
        mtmp = self.path.with_suffix(".json.tmp")
        mtmp.write_text(json.dumps(meta))
        os.replace(mtmp, self.path.with_suffix(".json"))

    def available(self) -> bool:
        """Built (in memory, or on disk to be loaded)."""
        if self._index is not None:
            return True
        return self.path is not None and self.path.with_suffix(".json").exists()

    def _load(self) -> hnswlib.Index:
        if self._index is not None:
            return self._index
        with self._lock:
            if self._index is None:
                assert self.path is not None
                meta = json.loads(self.path.with_suffix(".json").read_text())
                idx = hnswlib.Index(space=SPACE[self.metric], dim=self.dim)
                idx.load_index(str(self.path.with_suffix(".hnsw")))
                self._covered = int(meta["covered"])
                self._index = idx
            return self._index

    def remove_files(self) -> None:
        if self.path is None:
            return
        for suffix in (".hnsw", ".json"):
            try:
                self.path.with_suffix(suffix).unlink()
            except FileNotFoundError:
                pass

    # ----------------------------------------------------------------- search
    @property
    def count(self) -> int:
        return self._load().get_current_count()

    def search(
        self, q: np.ndarray, k: int, ef: int, keep: Callable[[int], bool] | None = None
    ) -> tuple[np.ndarray, SearchStats]:
        """Labels (slots) of up to k approximate nearest neighbours of q."""
        idx = self._load()
        n = idx.get_current_count()
        k = min(k, n)
        if k <= 0:
            return np.empty(0, dtype=np.int64), SearchStats(ef=ef, k=0)
        ef = max(ef, k)
        with self._lock:
            idx.set_ef(ef)
            try:
                labels, _ = idx.knn_query(q.reshape(1, -1), k=k, filter=keep)
            except RuntimeError:
                # fewer than k reachable (a selective filter): ask for what exists
                labels = self._search_short(idx, q, k, keep)
        out = np.asarray(labels, dtype=np.int64).reshape(-1)
        return out, SearchStats(ef=ef, k=k, returned=len(out))

    @staticmethod
    def _search_short(idx: hnswlib.Index, q: np.ndarray, k: int, keep) -> np.ndarray:
        while k > 1:
            k //= 2
            try:
                labels, _ = idx.knn_query(q.reshape(1, -1), k=k, filter=keep)
                return labels
            except RuntimeError:
                continue
        return np.empty((1, 0), dtype=np.int64)
