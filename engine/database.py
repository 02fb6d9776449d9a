"""One database: its DuckDB file (scalar columns, catalog), its vector stores, its DDL.

Owns: the on-disk layout of one database directory —
    <data_dir>/<dbname>/scalars.duckdb      scalar columns + `__vg_tables` (the catalog)
    <data_dir>/<dbname>/vectors/<id>/       one VectorStore (segments) per vector column
    <data_dir>/<dbname>/indexes/<name>/     one hnswlib graph per segment per HNSW index
— opening it (dropping vector stores no committed table references), handing out one DuckDB
cursor per session (each its own transaction), creating and dropping tables inside the
caller's transaction, the catalog version counter sessions use to notice committed DDL, the
write gate (`writer_enter`/`writer_exit`, `quiescent`) the optimizer needs to see a moment
with no write transaction open, and the optimizer thread itself.

Must not: parse SQL or speak the protocol.  `path=None` is an in-memory database.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from engine import wal
from engine.catalog import SERIAL_TYPES, ColumnDef, IndexDef, TableDef, slot_field, slots_sql
from engine.catalog import quote_ident as _q
from engine.errors import DuplicateTable, UndefinedTable
from engine.hnsw import HnswIndex
from engine.optimizer import Optimizer
from engine.sparse import SparseStore, is_sparse_dim
from engine.vector_store import (
    DEFAULT_SEGMENT_ROWS,
    StorageConfig,
    VectorStore,
    migrate_single_file,
)

AnyStore = VectorStore | SparseStore

# DuckDB types whose numpy values convert back to the same Python values
FAST_TYPES = frozenset({"INTEGER", "BIGINT", "SMALLINT", "VARCHAR", "BOOLEAN", "DOUBLE", "FLOAT"})


log = logging.getLogger("vecgres")


@dataclass
class ColumnCache:
    version: int
    slots: np.ndarray  # sorted
    values: dict[str, np.ndarray | list]
    types: dict[str, str]  # DuckDB type names
    fast: bool = False  # every type round-trips through numpy unchanged (see planner.execute)


_BOOTSTRAP = (
    "CREATE TABLE IF NOT EXISTS __vg_tables (name VARCHAR PRIMARY KEY, oid BIGINT, def JSON)",
    "CREATE SEQUENCE IF NOT EXISTS __vg_oid_seq START 16400",
    "CREATE SEQUENCE IF NOT EXISTS __vg_store_seq START 1",
)


def _plain(col: np.ndarray) -> np.ndarray | list:
    if isinstance(col, np.ma.MaskedArray):
        if col.mask is np.ma.nomask or not col.mask.any():
            return np.asarray(col.data)
        return col.tolist()
    return col


class Database:
    def __init__(
        self, path: Path | None, name: str = "postgres", config: StorageConfig | None = None
    ) -> None:
        self.config = config or StorageConfig()
        self.name = name
        self.path = path
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            (path / "vectors").mkdir(exist_ok=True)
            wal.recover(path / "scalars.duckdb.wal")
            self._duck = duckdb.connect(str(path / "scalars.duckdb"))
        else:
            self._duck = duckdb.connect(":memory:")
        for stmt in _BOOTSTRAP:
            self._duck.execute(stmt)
        self._lock = threading.Lock()
        self.sessions = 0  # open sessions (DROP DATABASE waits for them to leave)
        self._sessions_changed = threading.Condition(self._lock)
        self._stores: dict[int, AnyStore] = {}
        self.catalog_version = 0
        # committed-write counter per table: keys the caches of live slots
        self.table_versions: dict[str, int] = {}
        self._live_cache: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
        self._indexes: dict[str, HnswIndex] = {}
        self._column_cache: dict[tuple, ColumnCache] = {}
        self._writers = 0  # write transactions open (the optimizer waits for none)
        self._gate = threading.Condition()
        self._gate_closed = False
        if path is not None:
            (path / "indexes").mkdir(exist_ok=True)
        self.optimizer = Optimizer(self)
        self._drop_orphan_stores()
        self.optimizer.start()

    # -- the write gate ---------------------------------------------------------------------
    def writer_enter(self) -> None:
        """A transaction (or an autocommit read) begins: it may write, or read a slot, so the
        optimizer waits for it to end before deciding which slots are dead."""
        with self._gate:
            while self._gate_closed:
                self._gate.wait()
            self._writers += 1

    def writer_exit(self) -> None:
        with self._gate:
            self._writers -= 1
            if self._writers == 0:  # what the optimizer waits for
                self._gate.notify_all()

    @contextmanager
    def quiescent(self, timeout: float) -> Iterator[bool]:
        """Hold a moment with no write transaction open (yields False if none came within
        `timeout`).  New writers wait until the block ends; running ones are never waited
        on while holding the gate, so a long transaction delays the optimizer, not writers."""
        with self._gate:
            ok = self._gate.wait_for(lambda: self._writers == 0, timeout)
            if ok:
                self._gate_closed = True
        try:
            yield ok
        finally:
            if ok:
                with self._gate:
                    self._gate_closed = False
                    self._gate.notify_all()

    # -- sessions -------------------------------------------------------------------------
    def enter_session(self) -> None:
        with self._lock:
            self.sessions += 1

    def leave_session(self) -> None:
        with self._lock:
            self.sessions -= 1
            self._sessions_changed.notify_all()

    def wait_for_no_sessions(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for every session to leave; the number still open."""
        with self._lock:
            self._sessions_changed.wait_for(lambda: self.sessions == 0, timeout)
            return self.sessions

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection to this database: one per session (its own transaction)."""
        return self._duck.cursor()

    def bump_catalog_version(self) -> None:
        """Committed DDL: sessions re-read the catalog; the optimizer reaps what it dropped."""
        with self._lock:
            self.catalog_version += 1
        self.optimizer.wake()

    def bump_table_versions(self, tables: set[str]) -> None:
        with self._lock:
            for t in tables:
                self.table_versions[t] = self.table_versions.get(t, 0) + 1

    # -- live slots -----------------------------------------------------------------------
    def live_slots(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        column: str,
        store_id: int,
        cacheable: bool,
    ) -> np.ndarray:
        """Sorted slots of the non-NULL vectors of `table.column` visible to `cur`.

        With `cacheable` (the session has no uncommitted writes to the table and runs each
        statement in a fresh snapshot) the answer is cached until the next committed write.
        """
        key = (table, column)
        version = self.table_versions.get(table, 0)
        if cacheable:
            hit = self._live_cache.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
        res = cur.execute(slots_sql(table, column, store_id)).fetchnumpy()
        slots = np.sort(res["s"].astype(np.int64, copy=False))
        if cacheable:
            self._live_cache[key] = (version, slots)
        return slots

    def column_cache(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        column: str,
        store_id: int,
        wanted: tuple[str, ...],
    ) -> ColumnCache:
        """Scalar columns of `table` by vector slot, cached until the next committed write."""
        key = (table, column, wanted)
        version = self.table_versions.get(table, 0)
        hit = self._column_cache.get(key)
        if hit is not None and hit.version == version:
            return hit
        cols = "".join(f", {_q(c)}" for c in wanted)
        res = cur.execute(
            f"SELECT struct_extract({_q(column)}, '{slot_field(store_id)}') AS __s{cols} "
            f"FROM {_q(table)} WHERE {_q(column)} IS NOT NULL ORDER BY __s"
        )
        types = {d[0]: str(d[1]) for d in res.description[1:]}
        data = res.fetchnumpy()
        # numpy arrays (8 bytes a value; 1M Python ints as a list take ~36 MB), lists only
        # where DuckDB returned NULLs (a masked array)
        values = {c: _plain(data[c]) for c in wanted}
        cache = ColumnCache(version, data["__s"].astype(np.int64), values, types)
        cache.fast = all(t in FAST_TYPES for t in types.values())
        self._column_cache[key] = cache
        return cache

    # -- indexes --------------------------------------------------------------------------
    def hnsw(self, ix: IndexDef, dim: int) -> HnswIndex:
        h = self._indexes.get(ix.name)  # the common case, without the lock
        if h is not None and h.metric == ix.metric and h.dim == dim:
            return h
        with self._lock:
            h = self._indexes.get(ix.name)
            if h is None or h.metric != ix.metric or h.dim != dim:
                path = self.path / "indexes" / ix.name if self.path is not None else None
                h = HnswIndex(
                    ix.name,
                    ix.metric or "l2",
                    dim,
                    int(ix.options.get("m", 16)),
                    int(ix.options.get("ef_construction", 64)),
                    path,
                )
                self._indexes[ix.name] = h
            return h

    def forget_index(self, name: str) -> None:
        """A DROP INDEX: stop using it.  Its files stay until the optimizer reaps them at a
        quiescent moment after the drop commits (a rolled-back DROP keeps a working index)."""
        with self._lock:
            self._indexes.pop(name, None)
        self.optimizer.wake()

    def save_table(self, cur: duckdb.DuckDBPyConnection, table: TableDef) -> None:
        """Persist a changed table definition (e.g. its index list) in the caller's txn."""
        cur.execute("UPDATE __vg_tables SET def = ? WHERE name = ?", [table.to_json(), table.name])

    def next_oid(self, cur: duckdb.DuckDBPyConnection) -> int:
        return int(cur.execute("SELECT nextval('__vg_oid_seq')").fetchall()[0][0])

    # -- catalog --------------------------------------------------------------------------
    @staticmethod
    def load_catalog(cur: duckdb.DuckDBPyConnection) -> dict[str, TableDef]:
        rows = cur.execute("SELECT def FROM __vg_tables").fetchall()
        return {t.name: t for t in (TableDef.from_json(r[0]) for r in rows)}

    def create_table(
        self, cur: duckdb.DuckDBPyConnection, table: TableDef, if_not_exists: bool = False
    ) -> bool:
        """Create `table` in the caller's transaction; False if it existed and if_not_exists."""
        # (fetchall, not fetchone: DuckDB refuses register() while a result is unfinished)
        (exists,) = cur.execute(
            "SELECT count(*) FROM __vg_tables WHERE name = ?", [table.name]
        ).fetchall()
        if exists[0]:
            if if_not_exists:
                return False
            raise DuplicateTable(f'relation "{table.name}" already exists')
        table.oid = int(cur.execute("SELECT nextval('__vg_oid_seq')").fetchall()[0][0])
        cols_sql = []
        for col in table.columns:
            if col.is_vector:
                col.store_id = int(cur.execute("SELECT nextval('__vg_store_seq')").fetchall()[0][0])
            if col.pg_type in SERIAL_TYPES:
                seq = f"{table.name}_{col.name}_seq"
                cur.execute(f"CREATE SEQUENCE {_q(seq)}")
                col.default_sql = f"nextval('{seq}')"
                col.not_null = True
            parts = [_q(col.name), col.duck_type()]
            if col.default_sql is not None:
                parts.append(f"DEFAULT {col.default_sql}")
            if col.not_null:
                parts.append("NOT NULL")
            cols_sql.append(" ".join(parts))
        if table.primary_key:
            cols_sql.append(f"PRIMARY KEY ({', '.join(_q(c) for c in table.primary_key)})")
        cur.execute(f"CREATE TABLE {_q(table.name)} ({', '.join(cols_sql)})")
        cur.execute(
            "INSERT INTO __vg_tables VALUES (?, ?, ?)", [table.name, table.oid, table.to_json()]
        )
        for col in table.vector_columns():
            self.store_for(table, col)
        return True

    def drop_table(self, cur: duckdb.DuckDBPyConnection, name: str, if_exists: bool) -> bool:
        rows = cur.execute("SELECT def FROM __vg_tables WHERE name = ?", [name]).fetchall()
        row = rows[0] if rows else None
        if row is None:
            if if_exists:
                return False
            raise UndefinedTable(f'table "{name}" does not exist')
        table = TableDef.from_json(row[0])
        cur.execute(f"DROP TABLE {_q(name)}")
        for col in table.columns:
            if col.pg_type in SERIAL_TYPES:
                cur.execute(f"DROP SEQUENCE IF EXISTS {_q(f'{name}_{col.name}_seq')}")
        cur.execute("DELETE FROM __vg_tables WHERE name = ?", [name])
        return True

    # -- vectors --------------------------------------------------------------------------
    def store(
        self, store_id: int, dim: int, storage: str | None = None, capacity: int | None = None
    ) -> AnyStore:
        """The store (opened on first use; `storage`/`capacity` switch an open one): a
        `SparseStore` for more than 16000 dimensions (only sparsevec has so many)."""
        with self._lock:
            st = self._stores.get(store_id)
            if st is None:
                path = None
                if self.path is not None:
                    migrate_single_file(self.path / "vectors", store_id)
                    path = self.path / "vectors" / str(store_id)
                if is_sparse_dim(dim):
                    st = self._stores[store_id] = SparseStore(path, dim)
                    return st
                st = VectorStore(
                    path,
                    dim,
                    storage or self.config.storage,
                    capacity or DEFAULT_SEGMENT_ROWS,
                    self.config.memmap_threshold_kb,
                )
                st.on_seal.append(self.optimizer.wake)
                self._stores[store_id] = st
                return st
        if storage is not None and st.storage != storage:
            st.set_storage(storage)
        if capacity is not None:
            st.capacity = capacity
        return st

    def store_for(self, table: TableDef, col: ColumnDef) -> AnyStore:
        """The store of `table.col`, in the table's storage mode and segment size."""
        seg_rows = table.options.get("segment_rows")
        return self.store(
            col.store_id,  # type: ignore[arg-type]
            col.dim,  # type: ignore[arg-type]
            table.options.get("storage"),
            int(seg_rows) if seg_rows else None,
        )

    def store_by_id(self, store_id: int) -> AnyStore:
        return self._stores[store_id]

    def sync_stores(self) -> None:
        for st in list(self._stores.values()):
            st.sync()

    def _drop_orphan_stores(self) -> None:
        catalog = self.load_catalog(self._duck)
        for t in catalog.values():
            stores = {c.name: self.store_for(t, c) for c in t.vector_columns()}
            for ix in t.indexes:  # opens them (migrating a pre-segment graph file)
                store = stores.get(ix.columns[0]) if ix.columns else None
                if ix.method == "hnsw" and store is not None and store.dim:
                    h = self.hnsw(ix, store.dim)
                    for f in h.remove_orphan_files({seg.id for seg in store.segments}):
                        log.info("removed %s: a graph of no current segment", f)
        self.reap(catalog)

    def unreferenced(self, catalog: dict[str, TableDef]) -> tuple[set[int], set[str]]:
        """Vector stores (open or on disk) and index directories no table of `catalog` owns:
        what a committed DROP TABLE / DROP INDEX (or one cut short by a crash) left."""
        stores = {c.store_id for t in catalog.values() for c in t.vector_columns()}
        indexes = {ix.name for t in catalog.values() for ix in t.indexes}
        with self._lock:  # (sessions open stores and indexes concurrently)
            gone_stores = {sid for sid in self._stores if sid not in stores}
            gone_indexes = {name for name in self._indexes if name not in indexes}
        if self.path is not None:
            for f in (self.path / "vectors").iterdir():
                stem = f.name.split(".")[0]
                if stem.isdigit() and int(stem) not in stores:
                    gone_stores.add(int(stem))
            for d in (self.path / "indexes").iterdir():
                if d.is_dir() and d.name not in indexes:
                    gone_indexes.add(d.name)
        return gone_stores, gone_indexes  # type: ignore[return-value]

    def reap(self, catalog: dict[str, TableDef]) -> list[str]:
        """Close and delete what `unreferenced` finds.  Only when no transaction is open
        (at open, or inside `quiescent`): an older snapshot may still read a dropped table."""
        gone_stores, gone_indexes = self.unreferenced(catalog)
        removed: list[str] = []
        for sid in sorted(gone_stores):
            with self._lock:
                st = self._stores.pop(sid, None)
            if st is not None:
                st.close()
            if self.path is not None:
                for f in (self.path / "vectors").glob(f"{sid}*"):
                    if f.name.split(".")[0] == str(sid):
                        shutil.rmtree(f) if f.is_dir() else f.unlink()
            removed.append(f"vector store {sid}")
        for name in sorted(gone_indexes):
            with self._lock:
                h = self._indexes.pop(name, None)
            if h is not None:
                h.remove_files()
            elif self.path is not None and (self.path / "indexes" / name).is_dir():
                shutil.rmtree(self.path / "indexes" / name)
            removed.append(f'index "{name}"')
        for what in removed:
            log.info("removed %s: no committed table refers to it", what)
        return removed

    def close(self) -> None:
        self.optimizer.stop()
        for st in self._stores.values():
            st.close()
        self._duck.close()


DROP_DATABASE_WAIT = 5.0  # seconds, as Postgres's CountOtherDBBackends


class Cluster:
    """All databases under one data dir (`None`: in memory); `postgres` always exists."""

    def __init__(self, data_dir: Path | None, config: StorageConfig | None = None) -> None:
        self.data_dir = data_dir
        self.config = config or StorageConfig()
        self._lock = threading.Lock()
        self._dbs: dict[str, Database] = {}
        self.database("postgres", create=True)

    def database(self, name: str, create: bool = False) -> Database:
        from engine.errors import InvalidCatalogName

        with self._lock:
            db = self._dbs.get(name)
            if db is not None:
                return db
            path = self.data_dir / name if self.data_dir is not None else None
            exists = path is not None and (path / "scalars.duckdb").exists()
            if not (create or exists):
                raise InvalidCatalogName(f'database "{name}" does not exist')
            db = Database(path, name, self.config)
            self._dbs[name] = db
            return db

    def create_database(self, name: str) -> None:
        from engine.errors import DuplicateDatabase

        with self._lock:
            path = self.data_dir / name if self.data_dir is not None else None
            if name in self._dbs or (path is not None and (path / "scalars.duckdb").exists()):
                raise DuplicateDatabase(f'database "{name}" already exists')
        self.database(name, create=True)

    def drop_database(self, name: str, if_exists: bool, current: str) -> bool:
        """Drop a database nobody is connected to; False if it did not exist (IF EXISTS).

        As in Postgres, sessions still open on it get up to five seconds to go away (a client
        that has just disconnected may not have been noticed yet) before `55006`.
        """
        from engine.errors import InvalidCatalogName, ObjectInUse

        if name == current:
            raise ObjectInUse("cannot drop the currently open database")
        if name == "postgres":
            raise ObjectInUse('cannot drop database "postgres" (the default database)')
        deadline = time.monotonic() + DROP_DATABASE_WAIT
        while True:
            with self._lock:
                path = self.data_dir / name if self.data_dir is not None else None
                db = self._dbs.get(name)
                on_disk = path is not None and (path / "scalars.duckdb").exists()
                if db is None and not on_disk:
                    if if_exists:
                        return False
                    raise InvalidCatalogName(f'database "{name}" does not exist')
                if db is None or db.sessions == 0:
                    if db is not None:
                        db.close()
                        del self._dbs[name]
                    if path is not None and path.exists():
                        shutil.rmtree(path)
                    return True
            # wait outside the cluster lock, so other databases stay reachable meanwhile
            left = deadline - time.monotonic()
            still_open = db.wait_for_no_sessions(max(left, 0.0))
            if still_open and left <= 0:
                raise ObjectInUse(
                    f'database "{name}" is being accessed by other users',
                    detail=f"There are {still_open} other sessions using the database.",
                )

    def close(self) -> None:
        with self._lock:
            for db in self._dbs.values():
                db.close()
            self._dbs.clear()
