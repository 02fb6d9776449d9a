"""A client session: statements in, results out, with Postgres's transaction semantics.

Owns: one DuckDB cursor (the session's transaction), the session's settings, the
transaction state machine (idle 'I' / in block 'T' / failed 'E'), prepared statements and
portals for the extended protocol, statement dispatch (DDL, DML, queries, utility commands,
EXPLAIN), and the commit rule "vector files fsync'd before DuckDB commits the rows that
point at them".  Every statement outside a block runs in its own DuckDB transaction.

Must not: know bytes or sockets (wire) — `Result` carries Python values and type OIDs.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb
import numpy as np
from sqlglot import exp

from engine import memory
from engine.catalog import SERIAL_TYPES, ColumnDef, TableDef, supported_type
from engine.catalog import quote_ident as _q
from engine.database import Cluster, Database
from engine.duck_errors import translate
from engine.errors import (
    FeatureNotSupported,
    InFailedTransaction,
    PgError,
    SyntaxError_,
    UndefinedObject,
)
from engine.knn import vector_columns, vector_list_columns
from engine.sparse import check_sparse_dims, is_sparse_dim, vector_dim
from planner.execute import PlanResult, ShortScan, execute_plan
from planner.explain import explain_lines
from planner.hot_knn import compile_hot
from planner.plan import QueryPlan
from sqlfront import binder, cursors, ddl_index, pgcatalog, vecfuncs
from sqlfront.binder import BindContext
from sqlfront.cancel import CancelState
from sqlfront.copy import CopyIn, CopyOut, CopyStatement, copy_to, parse_statements
from sqlfront.dialect import Explain, datatype_name_and_args, parse
from sqlfront.param_types import infer_param_oids
from sqlfront.pgtypes import (
    ARRAY_OF,
    FLOAT8_OID,
    HALFVEC_ARRAY_OID,
    HALFVEC_OID,
    SPARSEVEC_ARRAY_OID,
    SPARSEVEC_OID,
    TEXT_OID,
    VECTOR_ARRAY_OID,
    VECTOR_OID,
    duckdb_type_to_oid,
    text_formatter,
)
from sqlfront.settings import Settings, table_option
from sqlfront.sources import column_sources
from sqlfront.values import parameter_numbers, substitute_params
from sqlfront.vectors import (
    SparseVectorValue,
    check_typmod,
    dense_to_sparse,
    format_sparsevec_text,
    format_vector_text,
    parse_sparsevec_text,
    parse_vector_text,
    round_halfvec,
    sparse_value,
)


@dataclass
class Column:
    """One result column as RowDescription describes it."""

    name: str
    type_oid: int
    typmod: int = -1
    table_oid: int = 0
    attnum: int = 0


@dataclass
class Result:
    """One statement's outcome: a CommandComplete tag, and columns/rows for queries."""

    tag: str
    columns: list[Column] | None = None
    rows: list[tuple] = field(default_factory=list)
    notices: list[PgError] = field(default_factory=list)
    deallocate: str | None = None  # DEALLOCATE: the prepared statement(s) to drop ("ALL")
    copy_in: CopyIn | None = None  # COPY FROM STDIN started: the wire feeds it CopyData
    copy_out: CopyOut | None = None  # COPY TO STDOUT: CopyData payloads to send


@dataclass
class Prepared:
    """A parsed statement (extended protocol Parse, or DB-API execute)."""

    sql: str
    tree: exp.Expression | None  # None: empty query
    param_oids: list[int]


log = logging.getLogger("vecgres")
_DDL = (exp.Create, exp.Drop, exp.Alter, exp.Comment)
_MOD = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)
_LOGGED = {"ddl": {"ddl"}, "mod": {"ddl", "mod"}}


def _log_class(tree: exp.Expression) -> str:
    """Which log_statement level logs ``tree``: ddl, mod or all."""
    if isinstance(tree, _DDL):
        return "ddl"
    if isinstance(tree, _MOD) or (isinstance(tree, CopyStatement) and tree.spec.is_from):
        return "mod"
    return "all"


_ids = itertools.count(1)
# statements that never write (a ROLLBACK TO SAVEPOINT past them has nothing to undo)
_READ_ONLY = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery, exp.Show)
_CURSOR_COMMANDS = frozenset({"DECLARE", "FETCH", "MOVE", "CLOSE"})


def _savepoint_name(word: str) -> str:
    if len(word) >= 2 and word[0] == '"' and word[-1] == '"':
        return word[1:-1].replace('""', '"')
    return word.lower()


class Session:
    def __init__(
        self, db: Database, user: str = "postgres", cluster: Cluster | None = None
    ) -> None:
        self.db = db
        self.cluster = cluster
        db.enter_session()
        self.user = user
        self.pid = next(_ids)
        self.cur = db.cursor()
        self.settings = Settings()
        self.settings.values["session_authorization"] = user
        self.in_block = False
        self._writer = False  # holds the database's write gate (a write transaction is open)
        self.failed = False
        self._catalog: dict[str, TableDef] | None = None
        self._catalog_version = -1
        self._txn_ddl = False
        self._touched: set[int] = set()
        self._written: set[str] = set()  # tables written in this transaction
        self._writes = 0  # statements in this block that may have written (savepoints)
        self._savepoints: list[tuple[str, int]] = []  # (name, self._writes when set)
        self._cursors: dict[str, cursors.SqlCursor] = {}  # DECLARE ... CURSOR
        self._txn_id = 0  # which transaction this is (cursors declared in one that rolls back go)
        self._command_params: Sequence[object] | None = None  # $n of a DECLARE being run
        # CancelRequest delivery: the wire opens/closes query cycles, statements run guarded
        self.cancel = CancelState(self.cur.interrupt)
        self.copy_enabled = False  # set by a client that speaks the COPY sub-protocol (wire)
        self._plan_cache: dict[tuple, QueryPlan] = {}
        # RowDescription's table OID / attnum per output column, by (SQL text, catalog version)
        self._sources: dict[tuple[str, int], list[tuple[int, int, int]] | None] = {}
        # result columns of a description, and whether its values need converting (per
        # catalog version): a cached kNN plan describes the same columns every time
        self._described: dict[tuple, tuple[list[Column], bool]] = {}
        self._prepared: dict[tuple, Prepared] = {}
        self._vector_param: dict[str, int] = {}  # learned: SQL text -> $n of the query vector
        self._learning: tuple[Prepared, list[object]] | None = None
        pgcatalog.ensure(self.cur, db)
        vecfuncs.ensure(self.cur, db)

    # ------------------------------------------------------------------- state
    @property
    def status(self) -> str:
        """ReadyForQuery status: I (idle), T (in a transaction block), E (failed block)."""
        if self.failed:
            return "E"
        return "T" if self.in_block else "I"

    @property
    def catalog(self) -> dict[str, TableDef]:
        if (
            self._catalog is None
            or self._txn_ddl
            or self._catalog_version != self.db.catalog_version
        ):
            self._catalog_version = self.db.catalog_version
            self._catalog = Database.load_catalog(self.cur)
        return self._catalog

    def close(self) -> None:
        try:
            if self.in_block or self._writer:
                self.cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if self._writer:
            self._writer = False
            self.db.writer_exit()
        self.cur.close()
        self.db.leave_session()

    # --------------------------------------------------------------- entry points
    def execute(self, sql: str) -> list[Result]:
        """Run a simple-Query string (possibly several statements); stop at the first error.

        Results of the statements that completed before an error are in `exc.results`.
        A COPY FROM STDIN ends the list (its Result carries `copy_in`; the statements after
        it wait in `copy_in.rest` for `execute_trees`).
        """
        trees = parse_statements(sql, parse)
        self.log_statement("statement", sql, trees)
        return self.execute_trees(trees, sql)

    def log_statement(self, label: str, sql: str, trees: Sequence[exp.Expression]) -> None:
        """Postgres's ``log_statement``: log ``label: sql`` when the setting covers one of
        ``trees`` (``ddl``: CREATE/ALTER/DROP/...; ``mod``: those and data changes)."""
        level = self.settings.values.get("log_statement", "none")
        if level == "none":
            return
        if level == "all" or any(_log_class(t) in _LOGGED[level] for t in trees):
            log.info("%s: %s", label, sql)

    def execute_trees(self, trees: Sequence[exp.Expression], sql: str) -> list[Result]:
        results: list[Result] = []
        for i, tree in enumerate(trees):
            try:
                res = self.run(tree, sql)
            except PgError as e:
                e.results = results  # type: ignore[attr-defined]
                raise
            results.append(res)
            if res.copy_in is not None:
                res.copy_in.rest = list(trees[i + 1 :])
                res.copy_in.rest_sql = sql
                break
        return results

    def prepare(self, sql: str, param_oids: Sequence[int] = ()) -> Prepared:
        key = (sql, tuple(param_oids), self.db.catalog_version, self._txn_ddl)
        hit = self._prepared.get(key)
        if hit is not None:
            return hit
        prep = self._prepare(sql, param_oids)
        if len(self._prepared) > 512:
            self._prepared.clear()
        self._prepared[key] = prep
        return prep

    def _prepare(self, sql: str, param_oids: Sequence[int]) -> Prepared:
        trees = parse_statements(sql, parse)
        if len(trees) > 1:
            raise SyntaxError_("cannot insert multiple commands into a prepared statement")
        tree = trees[0] if trees else None
        n = max(parameter_numbers(tree), default=0) if tree is not None else 0
        oids = list(param_oids) + [0] * max(0, n - len(param_oids))
        if tree is not None and n and not all(oids):
            oids = infer_param_oids(tree, self.catalog, param_oids, n)
        return Prepared(sql, tree, oids)

    def execute_prepared(self, prep: Prepared, params: Sequence[object] = ()) -> Result:
        if prep.tree is None:
            return Result(tag="")
        key = self._cache_key(prep, params)
        if key is not None:
            hit = self._plan_cache.get(key)
            if hit is not None:
                res = self._run_cached(hit, prep, params)
                if res is not None:
                    return res
        tree = prep.tree.copy()
        if params or parameter_numbers(tree):
            tree = substitute_params(tree, params)
        command = isinstance(tree, exp.Command)
        # a DECLARE's query is planned like any other, but its plan is not the statement's
        self._learning = None if command else (prep, list(params))
        self._command_params = params if command else None
        try:
            return self.run(tree, prep.sql)
        finally:
            self._learning = None
            self._command_params = None

    # ---------------------------------------------------------------- plan cache
    # A prepared kNN query whose only varying input is the query vector ($n) reuses its plan:
    # no parse, bind or SQL generation per execution, only the new vector.
    def _cache_key(self, prep: Prepared, params: Sequence[object], vparam: int | None = None):
        n = vparam if vparam is not None else self._vector_param.get(prep.sql)
        if n is None:
            return None
        others = tuple(p for i, p in enumerate(params) if i != n - 1)
        try:
            hash(others)
        except TypeError:
            return None
        return (
            prep.sql,
            n,
            self.db.catalog_version,
            self.in_block,
            self.settings.version,
            others,
        )

    def _remember_plan(self, plan: QueryPlan, ctx: BindContext) -> None:
        if self._learning is None or plan.knn is None or plan.distances or ctx.read_data:
            return
        if ctx.baked_constants:
            return
        if len(ctx.vector_params) != 1:
            return
        prep, params = self._learning
        (n,) = ctx.vector_params
        key = self._cache_key(prep, params, n)
        if key is None:
            return
        self._vector_param[prep.sql] = n
        if len(self._plan_cache) > 256:
            self._plan_cache.clear()
            self._vector_param.clear()
        self._plan_cache[key] = plan

    def _run_cached(
        self, plan: QueryPlan, prep: Prepared, params: Sequence[object]
    ) -> Result | None:
        assert plan.knn is not None
        value = params[self._vector_param[prep.sql] - 1]
        vec: np.ndarray | SparseVectorValue
        if isinstance(value, np.ndarray):
            vec = value.astype(np.float32, copy=False)
        elif isinstance(value, SparseVectorValue):
            vec = sparse_value(value)
        elif isinstance(value, str) and value.lstrip(" \t\n\r\v\f").startswith("{"):
            vec = sparse_value(parse_sparsevec_text(value))
        elif isinstance(value, str):
            vec = parse_vector_text(value)
        else:
            return None
        dim = self.db.store_by_id(plan.knn.store_id).dim
        if is_sparse_dim(dim) or isinstance(vec, SparseVectorValue):
            check_sparse_dims(dim, vector_dim(vec))
        if vector_dim(vec) != dim:
            raise PgError(f"different vector dimensions {dim} and {len(vec)}", sqlstate="22000")
        hot = plan.hot
        if hot is not None and not self.in_block and isinstance(vec, np.ndarray):
            rows = self._transactional(lambda: hot.run(self.db, vec), read_only=True)
            if rows is not None:
                columns, sourced = hot.meta
                out = Result(tag=f"SELECT {len(rows)}", columns=list(columns), rows=rows)
                if not sourced:
                    _set_sources(out, self._sources.get((prep.sql, self.db.catalog_version)))
                return out
        knn = _shallow(plan.knn)
        knn.query = vec
        run = _shallow(plan)
        run.knn, run.fallback_factory = knn, None

        def body() -> Result:
            res = execute_plan(self.db, self.cur, run)
            out = self._rows_result(res, f"SELECT {len(res.rows)}")
            sourced = _set_sources(out, self._sources.get((prep.sql, self.db.catalog_version)))
            if not self.in_block:
                plain = out.rows is res.rows  # no value needed converting
                plan.hot = compile_hot(self.db, self.cur, run) if plain else None
                if plan.hot is not None:
                    plan.hot.meta = (out.columns, sourced)
            return out

        try:
            # one kNN statement reads through versioned caches and at most one DuckDB
            # query: outside a block it needs no explicit DuckDB transaction
            return self._transactional(body, read_only=True)
        except ShortScan:
            return None

    # ------------------------------------------------------------ transactions
    def run(self, tree: exp.Expression, sql: str) -> Result:
        """Run one statement under the transaction rules."""
        if isinstance(tree, exp.Transaction):
            return self._begin()
        if isinstance(tree, exp.Commit):
            return self._commit()
        if isinstance(tree, exp.Rollback):
            savepoint = tree.args.get("savepoint")
            if savepoint is not None:
                return self._rollback_to(savepoint.name)
            return self._rollback()
        if isinstance(tree, exp.Command) and str(tree.this).upper() in ("SAVEPOINT", "RELEASE"):
            return self._savepoint(str(tree.this).upper(), tree.text("expression"))
        if not isinstance(tree, _READ_ONLY) and not (
            isinstance(tree, exp.Command) and str(tree.this).upper() in _CURSOR_COMMANDS
        ):
            self._writes += 1
        if isinstance(tree, CopyStatement) and tree.spec.is_from:
            return Result(tag="", copy_in=self.start_copy_in(tree))
        if isinstance(tree, exp.Command) and str(tree.this).upper() == "VACUUM":
            if self.failed:
                raise InFailedTransaction(
                    "current transaction is aborted, commands ignored until end of "
                    "transaction block"
                )
            # outside any transaction, like Postgres: it waits for a moment with no write open
            return self._vacuum(tree.text("expression").strip())
        return self._transactional(lambda: self._dispatch(tree, sql))

    # -------------------------------------------------------------- savepoints
    # DuckDB has no savepoints.  SAVEPOINT and RELEASE are bookkeeping; ROLLBACK TO works
    # when nothing may have been written since the savepoint (what drivers and ORMs do:
    # psycopg's TypeInfo.fetch, SQLAlchemy's nested reflection), and refuses otherwise.
    def _savepoint(self, verb: str, rest: str) -> Result:
        words = rest.split()
        if verb == "RELEASE" and words[:1] and words[0].upper() == "SAVEPOINT":
            words = words[1:]
        if len(words) != 1:
            raise SyntaxError_(f'syntax error at or near "{verb}"')
        name = _savepoint_name(words[0])
        what = "SAVEPOINT" if verb == "SAVEPOINT" else "RELEASE SAVEPOINT"
        if not self.in_block:
            raise PgError(f"{what} can only be used in transaction blocks", sqlstate="25P01")
        if self.failed:
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        if verb == "SAVEPOINT":
            self._savepoints.append((name, self._writes))
            return Result(tag="SAVEPOINT")
        self._savepoints = self._savepoints[: self._find_savepoint(name)]
        return Result(tag="RELEASE")

    def _find_savepoint(self, name: str) -> int:
        for i in range(len(self._savepoints) - 1, -1, -1):
            if self._savepoints[i][0] == name:
                return i
        self.failed = self.in_block
        raise PgError(f'savepoint "{name}" does not exist', sqlstate="3B001")

    def _rollback_to(self, name: str) -> Result:
        if not self.in_block:
            raise PgError(
                "ROLLBACK TO SAVEPOINT can only be used in transaction blocks", sqlstate="25P01"
            )
        i = self._find_savepoint(name)
        if self._writes == 0:
            # nothing written in the whole block: a fresh DuckDB transaction is the same state
            # (and the only way out of one DuckDB aborted after an error)
            try:
                self.cur.execute("ROLLBACK")
            except duckdb.Error:
                pass
            self.cur.execute("BEGIN")
        elif self._writes != self._savepoints[i][1] or not self._duck_usable():
            self.failed = True
            raise FeatureNotSupported(
                "ROLLBACK TO SAVEPOINT is supported only when nothing was written since the "
                "savepoint"
            )
        self._savepoints = self._savepoints[: i + 1]
        self.failed = False
        return Result(tag="ROLLBACK")

    def _duck_usable(self) -> bool:
        try:
            self.cur.execute("SELECT 1")
            return True
        except duckdb.Error:
            return False

    def start_copy_in(self, tree: CopyStatement) -> CopyIn:
        """Begin COPY FROM STDIN.  The statement stays open until its `CopyIn` finishes or
        fails: outside a block in its own transaction (committed by `finish`), inside one in
        the block's (an error fails the block)."""
        if self.failed:
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        if not self.copy_enabled:
            raise FeatureNotSupported("COPY FROM STDIN needs a client speaking the COPY protocol")
        own = not self.in_block
        if own:
            self._begin_writer()
            self.settings.begin()
        try:
            return CopyIn(self, tree, lambda err: self._end_copy(own, err))
        except BaseException as e:
            self._end_copy(own, e)
            if isinstance(e, duckdb.Error):
                raise translate(e) from e
            raise

    def _end_copy(self, own: bool, err: BaseException | None) -> None:
        """A COPY FROM STDIN ended: commit its own transaction, or undo / fail the block."""
        if err is not None:
            if own:
                self._abort()
            else:
                self.failed = True
        elif own:
            try:
                self._finish_commit()
            except duckdb.Error as e:
                self._abort()
                raise translate(e) from e
        memory.trim()  # a COPY's parse buffers were large: give the pages back

    def _transactional(self, body: Callable[[], Result], read_only: bool = False) -> Result:
        if self.failed:
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
        body = self._guarded(body)
        if self.in_block:
            try:
                return body()
            except PgError:
                self.failed = True
                raise
            except duckdb.Error as e:
                self.failed = True
                raise translate(e) from e
        if read_only:
            # a read holds the gate too: the optimizer must not drop a slot its snapshot sees
            self.db.writer_enter()
            try:
                return body()
            except duckdb.Error as e:
                raise translate(e) from e
            finally:
                self.db.writer_exit()
        # autocommit: one DuckDB transaction per statement
        self._begin_writer()
        self.settings.begin()
        try:
            res = body()
        except BaseException as e:
            self._abort()
            if isinstance(e, duckdb.Error):
                raise translate(e) from e
            raise
        self._finish_commit()
        return res

    def _guarded(self, body: Callable[[], Result]) -> Callable[[], Result]:
        """``body`` as a cancellable statement: a CancelRequest for this query cycle fails it
        with 57014 (and may interrupt DuckDB only while it runs, never the COMMIT/ROLLBACK
        after it)."""

        def run() -> Result:
            with self.cancel.statement():
                return body()

        return run

    def _begin(self) -> Result:
        res = Result(tag="BEGIN")
        if self.in_block:
            res.notices.append(
                PgError("there is already a transaction in progress", sqlstate="25001")
            )
            return res
        self._begin_writer()
        self.settings.begin()
        self.in_block = True
        return res

    def _begin_writer(self) -> None:
        """BEGIN a DuckDB transaction that may write (the optimizer's gate counts it)."""
        self.db.writer_enter()
        try:
            self.cur.execute("BEGIN")
        except BaseException:
            self.db.writer_exit()
            raise
        self._writer = True

    def _commit(self) -> Result:
        if not self.in_block:
            return Result(
                tag="COMMIT",
                notices=[PgError("there is no transaction in progress", sqlstate="25P01")],
            )
        if self.failed:
            self._abort()
            return Result(tag="ROLLBACK")
        try:
            self._finish_commit()
        except duckdb.Error as e:
            self._abort()
            raise translate(e) from e
        return Result(tag="COMMIT")

    def _rollback(self) -> Result:
        if not self.in_block:
            return Result(
                tag="ROLLBACK",
                notices=[PgError("there is no transaction in progress", sqlstate="25P01")],
            )
        self._abort()
        return Result(tag="ROLLBACK")

    def _finish_commit(self) -> None:
        for sid in self._touched:
            self.db.store_by_id(sid).sync()
        # bump before and after: a reader that cached in between is invalidated again
        self.db.bump_table_versions(self._written)
        self.cur.execute("COMMIT")
        self.db.bump_table_versions(self._written)
        if self._txn_ddl:
            self.db.bump_catalog_version()
        self._end(committed=True)

    def _abort(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        self._end(committed=False)

    def _end(self, committed: bool) -> None:
        if self._writer:
            self._writer = False
            self.db.writer_exit()
        if self._txn_ddl:
            self._catalog = None
        self._txn_ddl = False
        self._touched.clear()
        self._written.clear()
        self._writes = 0
        self._savepoints.clear()
        for name, cur in list(self._cursors.items()):
            if not cur.hold or (not committed and cur.txn == self._txn_id):
                del self._cursors[name]
        self._txn_id += 1
        self.in_block = False
        self.failed = False
        self.settings.end_transaction(committed)

    # ---------------------------------------------------------------- dispatch
    def _ctx(self, sql: str) -> BindContext:
        return BindContext(
            db=self.db,
            cur=self.cur,
            catalog=self.catalog,
            sql=sql,
            run_query=self._run_subquery,
            emulated=pgcatalog.EMULATED,
            touched_stores=self._touched,
            settings=self.settings.values,
            in_block=self.in_block,
            sql_cursors=self._cursors,
        )

    def _run_subquery(self, tree: exp.Expression) -> tuple[list, list[tuple]]:
        plan = binder.bind_query(self._ctx(tree.sql()), tree.copy(), top=False)
        res = execute_plan(self.db, self.cur, plan)
        return res.description, res.rows

    def _dispatch(self, tree: exp.Expression, sql: str) -> Result:
        if isinstance(tree, exp.Select | exp.SetOperation | exp.Values) or (
            isinstance(tree, exp.Subquery)
        ):
            return self._query(tree, sql)
        if isinstance(tree, exp.Insert):
            return self._insert(tree, sql)
        if isinstance(tree, exp.Update):
            return self._update(tree, sql)
        if isinstance(tree, exp.Delete):
            return self._delete(tree, sql)
        if isinstance(tree, exp.Create):
            return self._create(tree, sql)
        if isinstance(tree, exp.Drop):
            return self._drop(tree, sql)
        if isinstance(tree, exp.Alter):
            return self._alter(tree)
        if isinstance(tree, exp.Set):
            return self._set(tree)
        if isinstance(tree, exp.Show):
            return self._show(tree)
        if isinstance(tree, Explain):
            return self._explain(tree, sql)
        if isinstance(tree, exp.Command):
            return self._command(tree)
        if isinstance(tree, CopyStatement):
            if not self.copy_enabled:
                raise FeatureNotSupported(
                    "COPY TO STDOUT needs a client speaking the COPY protocol"
                )
            return copy_to(self, tree, self._dispatch)
        raise FeatureNotSupported(f"statement not supported: {_head(tree)}")

    # ------------------------------------------------------------------ queries
    def _query(self, tree: exp.Expression, sql: str) -> Result:
        ctx = self._ctx(sql)
        sources = column_sources(tree, ctx.catalog)  # before the binder rewrites the tree
        plan = binder.bind_query(ctx, tree)
        self._remember_plan(plan, ctx)
        res = execute_plan(self.db, self.cur, plan)
        out = self._rows_result(res, f"SELECT {len(res.rows)}")
        _set_typmods(out, plan.typmods)
        if _set_sources(out, sources) and not self._txn_ddl:
            if len(self._sources) > 256:
                self._sources.clear()
            self._sources[(sql, self.db.catalog_version)] = sources
        return out

    def _rows_result(self, res: PlanResult, tag: str) -> Result:
        key = (self.db.catalog_version, *((d[0], str(d[1])) for d in res.description))
        hit = self._described.get(key)
        if hit is None:
            cols = self._columns(res.description)
            plain = _value_kinds(res.description) == ({}, {}) and not any(
                c.type_oid in (SPARSEVEC_OID, SPARSEVEC_ARRAY_OID) for c in cols
            )
            if len(self._described) > 256:
                self._described.clear()
            self._described[key] = hit = (cols, plain)
        cols, plain = hit
        if plain:
            return Result(tag=tag, columns=list(cols), rows=res.rows)
        rows = _vector_values(res.description, res.rows)
        sparse = [i for i, c in enumerate(cols) if c.type_oid == SPARSEVEC_OID]
        sparse_lists = [i for i, c in enumerate(cols) if c.type_oid == SPARSEVEC_ARRAY_OID]
        if (sparse or sparse_lists) and rows:  # sparsevec columns are stored dense
            out = [list(r) for r in rows]
            for r in out:
                for i in sparse:
                    if r[i] is not None:
                        r[i] = dense_to_sparse(r[i])
                for i in sparse_lists:
                    if r[i] is not None:
                        r[i] = [None if x is None else dense_to_sparse(x) for x in r[i]]
            rows = [tuple(r) for r in out]
        return Result(tag=tag, columns=cols, rows=rows)

    def _columns(self, description: list[tuple]) -> list[Column]:
        vec = vector_columns(description)
        cols = []
        kinds: dict[int, str] = {}
        if vec:
            kinds = {
                c.store_id: c.pg_type  # type: ignore[misc]
                for t in self.catalog.values()
                for c in t.vector_columns()
            }
        lists = vector_list_columns(description)
        if lists:
            kinds = {
                c.store_id: c.pg_type  # type: ignore[misc]
                for t in self.catalog.values()
                for c in t.vector_columns()
            }
        for i, d in enumerate(description):
            if i in vec:
                dim = self.db.store_by_id(vec[i]).dim
                oid = _VECTOR_TYPE_OIDS.get(kinds.get(vec[i], "vector"), VECTOR_OID)
                cols.append(Column(d[0], oid, dim))
            elif i in lists:
                oid = _VECTOR_TYPE_OIDS.get(kinds.get(lists[i], "vector"), VECTOR_OID)
                cols.append(Column(d[0], ARRAY_OF[oid]))
            elif str(d[1]) == vecfuncs.VALUE_TYPE:
                cols.append(Column(d[0], VECTOR_OID))
            elif str(d[1]).endswith("[]") and str(d[1])[:-2] in _LIST_VALUE_TYPES:
                cols.append(Column(d[0], _LIST_VALUE_TYPES[str(d[1])[:-2]]))
            elif str(d[1]) in _TEXT_VALUE_TYPES:
                cols.append(Column(d[0], TEXT_OID))
            elif str(d[1]) == vecfuncs.HALF_TYPE:
                cols.append(Column(d[0], HALFVEC_OID))
            elif str(d[1]) == vecfuncs.SPARSE_TYPE:
                cols.append(Column(d[0], SPARSEVEC_OID))
            else:
                cols.append(Column(d[0], duckdb_type_to_oid(d[1])))
        return cols

    def _explain(self, tree: Explain, sql: str) -> Result:
        opts = {o.name.lower(): o for o in tree.args.get("options") or []}
        analyze = "analyze" in opts and str(opts["analyze"].args.get("value")).lower() not in (
            "false",
            "off",
            "0",
        )
        inner = tree.this
        if not isinstance(inner, exp.Select | exp.SetOperation):
            raise FeatureNotSupported("EXPLAIN is supported for SELECT statements only")
        plan = binder.bind_query(self._ctx(sql), inner)
        res = None
        if plan.knn is not None and not analyze:
            from planner.knn_exec import plan_knn

            plan_knn(self.db, self.cur, plan.knn)
        if analyze:
            if plan.knn is not None:
                plan.knn.count_visits = True
            t0 = time.perf_counter()
            res = execute_plan(self.db, self.cur, plan)
            res.seconds = time.perf_counter() - t0
        lines = explain_lines(plan, res)
        return Result(
            tag="EXPLAIN",
            columns=[Column("QUERY PLAN", TEXT_OID)],
            rows=[(line,) for line in lines],
        )

    # ---------------------------------------------------------------------- DML
    def _dml_table(self, ctx: BindContext, table: exp.Expression) -> TableDef:
        if not isinstance(table, exp.Table):
            raise FeatureNotSupported(f"unsupported target {table.sql()}")
        binder.resolve_tables(ctx, table)
        return binder.table_def(ctx, table)

    def _insert(self, tree: exp.Insert, sql: str) -> Result:
        ctx = self._ctx(sql)
        target = tree.this
        table_node = target.this if isinstance(target, exp.Schema) else target
        tdef = self._dml_table(ctx, table_node)
        if isinstance(target, exp.Schema) and target.expressions:
            cols = [binder.check_column(ctx, tdef, c.name) for c in target.expressions]
        else:
            cols = list(tdef.columns)
        source = tree.expression
        if isinstance(source, exp.Values):
            for i in [i for i, c in enumerate(cols) if c.pg_type == "bit"]:
                for r in source.expressions:
                    if i < len(r.expressions):
                        vecfuncs.bit_param_literal(r.expressions[i], cols[i].type_args)
        vec_idx = [i for i, c in enumerate(cols) if c.is_vector]
        if isinstance(source, exp.Values) and vec_idx:
            rows = source.expressions
            for r in rows:
                if len(r.expressions) > len(cols):
                    raise PgError(
                        "INSERT has more expressions than target columns", sqlstate="42601"
                    )
            for i in vec_idx:
                nodes = [r.expressions[i] if i < len(r.expressions) else None for r in rows]
                present = [j for j, n in enumerate(nodes) if n is not None]
                new = binder.vector_values(ctx, cols[i], [nodes[j] for j in present])
                for j, node in zip(present, new, strict=True):
                    exprs = list(rows[j].expressions)
                    exprs[i] = node
                    rows[j].set("expressions", exprs)
        elif vec_idx and source is not None and not isinstance(source, exp.Values):
            return self._insert_from_query(ctx, tree, tdef, cols, source, sql)
        specs: list = []
        binder.rewrite_distances(ctx, tree, specs)
        return self._run_dml(tree, specs, "INSERT 0", tdef)

    def _insert_from_query(
        self,
        ctx: BindContext,
        tree: exp.Insert,
        tdef: TableDef,
        cols: list[ColumnDef],
        source: exp.Expression,
        sql: str,
    ) -> Result:
        plan = binder.bind_query(ctx, source.copy(), top=False)
        res = execute_plan(self.db, self.cur, plan)
        if tree.args.get("returning") is not None or tree.args.get("conflict") is not None:
            raise FeatureNotSupported(
                "INSERT ... SELECT into a vector column with RETURNING or ON CONFLICT"
            )
        if not res.rows:
            return Result(tag="INSERT 0 0")
        if len(res.rows[0]) != len(cols):
            raise PgError("INSERT has more expressions than target columns", sqlstate="42601")
        data = [list(r) for r in _vector_values(res.description, res.rows)]
        for i, c in enumerate(cols):
            if not c.is_vector:
                continue
            present = [j for j, r in enumerate(data) if r[i] is not None]
            if not present:
                continue
            arrs = binder.stored_values(c, [data[j][i] for j in present])
            slots = self.db.store(c.store_id, c.dim).append(arrs)  # type: ignore[arg-type]
            self._touched.add(c.store_id)  # type: ignore[arg-type]
            key = binder.slot_field(c.store_id)  # type: ignore[arg-type]
            for j, s in zip(present, slots.tolist(), strict=True):
                data[j][i] = {key: s}
        self._written.add(tdef.name)
        names = ", ".join(_q(c.name) for c in cols)
        marks = ", ".join(["?"] * len(cols))
        self.cur.executemany(f"INSERT INTO {_q(tdef.name)} ({names}) VALUES ({marks})", data)
        return Result(tag=f"INSERT 0 {len(data)}")

    def _update(self, tree: exp.Update, sql: str) -> Result:
        ctx = self._ctx(sql)
        tdef = self._dml_table(ctx, tree.this)
        computed: list[tuple[exp.EQ, ColumnDef]] = []
        for eq in tree.expressions:
            col = eq.this
            if not isinstance(col, exp.Column):
                continue
            c = binder.check_column(ctx, tdef, col.name)
            if c.pg_type == "bit":
                vecfuncs.bit_param_literal(eq.expression, c.type_args)
            if c.is_vector:
                value = eq.expression
                if (
                    value.find(exp.Column)
                    and not binder.is_const_vector_node(value)
                    and not binder._is_default(value)
                ):
                    computed.append((eq, c))
                    continue
                (node,) = binder.vector_values(ctx, c, [eq.expression])
                eq.set("expression", node)
        specs: list = []
        binder.resolve_tables(ctx, tree)
        rels = [self._computed_vectors(ctx, tree, eq, c, i) for i, (eq, c) in enumerate(computed)]
        binder.rewrite_distances(ctx, tree, specs)
        try:
            return self._run_dml(tree, specs, "UPDATE", tdef)
        finally:
            for rel in rels:
                self.cur.unregister(rel)

    def _computed_vectors(
        self, ctx: BindContext, tree: exp.Update, eq: exp.EQ, c: ColumnDef, n: int
    ) -> str:
        """`UPDATE t SET e = <expression of the row>`: compute the new vectors with a SELECT,
        append them to the store, and point the assignment at a (rowid, slot) relation."""
        if tree.args.get("from_") is not None:
            raise FeatureNotSupported("UPDATE ... FROM with a computed vector value")
        target = tree.this
        ref = target.alias_or_name
        sel = exp.select(exp.column("rowid", table=ref), eq.expression.copy()).from_(target.copy())
        where = tree.args.get("where")
        if where is not None:
            sel.set("where", where.copy())
        res = execute_plan(self.db, self.cur, binder.bind_query(ctx, sel, top=False))
        rows = _vector_values(res.description, res.rows)
        present = [r for r in rows if r[1] is not None]
        rids = np.array([r[0] for r in present], dtype=np.int64)
        slots = np.empty(0, dtype=np.int64)
        if present:
            arrs = binder.stored_values(c, [r[1] for r in present])
            slots = self.db.store(c.store_id, c.dim).append(arrs)  # type: ignore[arg-type]
            self._touched.add(c.store_id)  # type: ignore[arg-type]
        rel = f"__vupd{n}"
        self.cur.register(rel, {"rid": rids, "slot": np.asarray(slots, dtype=np.int64)})
        field_name = binder.slot_field(c.store_id)  # type: ignore[arg-type]
        eq.set(
            "expression",
            exp.Subquery(
                this=exp.select(
                    exp.Struct(
                        expressions=[
                            exp.PropertyEQ(
                                this=exp.to_identifier(field_name),
                                expression=exp.column("slot", table=rel),
                            )
                        ]
                    )
                )
                .from_(rel)
                .where(
                    exp.EQ(
                        this=exp.column("rid", table=rel),
                        expression=exp.column("rowid", table=ref),
                    )
                )
            ),
        )
        return rel

    def _delete(self, tree: exp.Delete, sql: str) -> Result:
        ctx = self._ctx(sql)
        tdef = self._dml_table(ctx, tree.this)
        specs: list = []
        binder.resolve_tables(ctx, tree)
        binder.rewrite_distances(ctx, tree, specs)
        return self._run_dml(tree, specs, "DELETE", tdef)

    def _run_dml(self, tree: exp.Expression, specs: list, verb: str, tdef: TableDef) -> Result:
        from planner.plan import QueryPlan

        self._written.add(tdef.name)
        returning = tree.args.get("returning")
        if returning is not None:
            returning.set("expressions", binder.name_items(returning.expressions))
        plan = QueryPlan(sql=binder.to_duck(tree), distances=specs)
        try:
            res = execute_plan(self.db, self.cur, plan, table=tdef.name)
        except PgError:
            raise
        if returning is not None:
            return self._rows_result(res, f"{verb} {len(res.rows)}")
        n = res.rows[0][0] if res.rows else 0
        return Result(tag=f"{verb} {n}")

    # ---------------------------------------------------------------------- DDL
    def _create(self, tree: exp.Create, sql: str) -> Result:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            return self._create_table(tree, sql)
        if kind == "DATABASE":
            name = self._database_name(tree.this.name)
            assert self.cluster is not None
            self.cluster.create_database(name)
            return Result(tag="CREATE DATABASE")
        if kind == "INDEX":
            notice, table = ddl_index.create_index(self.db, self.cur, self.catalog, tree)
            self._txn_ddl = True
            res = Result(tag="CREATE INDEX")
            if notice:
                res.notices.append(PgError(notice, sqlstate="42P07"))
            return res
        raise FeatureNotSupported(f"CREATE {kind} is not supported")

    def _database_name(self, name: str) -> str:
        if self.in_block:
            raise PgError(
                "CREATE/DROP DATABASE cannot run inside a transaction block", sqlstate="25001"
            )
        if self.cluster is None:
            raise FeatureNotSupported("CREATE/DROP DATABASE needs a server (not sqlfront.connect)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise FeatureNotSupported(f'database name "{name}": use letters, digits and _')
        return name

    def _create_table(self, tree: exp.Create, sql: str) -> Result:
        schema = tree.this
        if not isinstance(schema, exp.Schema) or tree.expression is not None:
            raise FeatureNotSupported("CREATE TABLE AS is not supported yet")
        options = _table_options(tree.args.get("properties"))
        table = schema.this
        if table.db and table.db.lower() not in ("public", "main"):
            raise FeatureNotSupported(f'schema "{table.db}" is not supported; use public')
        name = table.name
        cols: list[ColumnDef] = []
        pk: list[str] = []
        for item in schema.expressions:
            if isinstance(item, exp.ColumnDef):
                cols.append(self._column_def(item, pk))
            elif isinstance(item, exp.PrimaryKey):
                pk = [e.name for e in item.expressions]
            elif isinstance(item, exp.Constraint):
                for c in item.expressions:
                    if isinstance(c, exp.PrimaryKey):
                        pk = [e.name for e in c.expressions]
            else:
                raise FeatureNotSupported(f"table element not supported: {item.sql()[:60]}")
        seen = set()
        for c in cols:
            if c.name in seen:
                raise PgError(f'column "{c.name}" specified more than once', sqlstate="42701")
            seen.add(c.name)
        for p in pk:
            if p not in seen:
                raise PgError(f'column "{p}" named in key does not exist', sqlstate="42703")
        tdef = TableDef(name=name, oid=0, columns=cols, primary_key=pk, options=options)
        created = self.db.create_table(self.cur, tdef, bool(tree.args.get("exists")))
        self._txn_ddl = True
        self._written.add(name)
        res = Result(tag="CREATE TABLE")
        if not created:
            res.notices.append(
                PgError(f'relation "{name}" already exists, skipping', sqlstate="42P07")
            )
        return res

    def _column_def(self, item: exp.ColumnDef, pk: list[str]) -> ColumnDef:
        kind = item.args.get("kind")
        if kind is None:
            raise SyntaxError_(f'column "{item.name}" has no type')
        tname, targs = datatype_name_and_args(kind)
        if not supported_type(tname):
            raise UndefinedObject(f'type "{tname}" does not exist')
        col = ColumnDef(name=item.name, pg_type=tname, type_args=targs)
        if tname in ("vector", "halfvec", "sparsevec"):
            if not targs:
                raise FeatureNotSupported(f"{tname} columns need a dimension, e.g. {tname}(384)")
            check_typmod(tname, targs[0])  # (sparsevec over 16000: the sparse store)
            col.typmod = targs[0]
        elif tname == "varchar" and targs:
            col.typmod = targs[0] + 4
        for cons in item.constraints:
            ck = cons.kind
            if isinstance(ck, exp.PrimaryKeyColumnConstraint):
                pk.append(item.name)
            elif isinstance(ck, exp.NotNullColumnConstraint):
                col.not_null = not ck.args.get("allow_null")
            elif isinstance(ck, exp.DefaultColumnConstraint):
                if col.is_vector:
                    raise FeatureNotSupported("DEFAULT on a vector column is not supported")
                col.default_sql = binder.to_duck(ck.this)
            else:
                raise FeatureNotSupported(f"column constraint not supported: {cons.sql()}")
        if tname in SERIAL_TYPES and col.default_sql is not None:
            raise PgError(
                f'multiple default values specified for column "{item.name}"', sqlstate="42601"
            )
        return col

    def _drop(self, tree: exp.Drop, sql: str) -> Result:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "DATABASE":
            t = (tree.args.get("tables") or [tree.this])[0]
            name = self._database_name(t.name)
            assert self.cluster is not None
            res = Result(tag="DROP DATABASE")
            if not self.cluster.drop_database(name, bool(tree.args.get("exists")), self.db.name):
                res.notices.append(
                    PgError(f'database "{name}" does not exist, skipping', sqlstate="00000")
                )
            return res
        if kind == "INDEX":
            res = Result(tag="DROP INDEX")
            for t in tree.args.get("tables") or [tree.this]:
                notice, _ = ddl_index.drop_index(
                    self.db, self.cur, self.catalog, t.name, bool(tree.args.get("exists"))
                )
                self._txn_ddl = True
                if notice:
                    res.notices.append(PgError(notice, sqlstate="00000"))
            return res
        if kind != "TABLE":
            raise FeatureNotSupported(f"DROP {kind} is not supported")
        res = Result(tag="DROP TABLE")
        tables = tree.args.get("tables") or [tree.this]
        for t in tables:
            if t.db and t.db.lower() not in ("public", "main"):
                raise FeatureNotSupported(f'schema "{t.db}" is not supported')
            dropped = self.db.drop_table(self.cur, t.name, bool(tree.args.get("exists")))
            self._txn_ddl = True
            self._written.add(t.name)
            if not dropped:
                res.notices.append(
                    PgError(f'table "{t.name}" does not exist, skipping', sqlstate="00000")
                )
        return res

    def _alter(self, tree: exp.Alter) -> Result:
        """ALTER TABLE t SET (quantization = ..., rescore = ..., oversampling = ...)."""
        table = self.catalog.get(tree.this.name) if isinstance(tree.this, exp.Table) else None
        if table is None:
            if tree.args.get("exists"):
                return Result(tag="ALTER TABLE")
            raise PgError(f'relation "{tree.this.name}" does not exist', sqlstate="42P01")
        actions = tree.args.get("actions") or []
        if not actions or not all(isinstance(a, exp.AlterSet) for a in actions):
            raise FeatureNotSupported("ALTER TABLE supports only SET (storage options) so far")
        for action in actions:
            for eq in action.expressions:
                if not isinstance(eq, exp.EQ):
                    raise FeatureNotSupported(f"ALTER TABLE ... SET {eq.sql()} is not supported")
                key = eq.this.name.lower()
                table.options[key] = table_option(key, _setting_value(eq.expression) or "")
        self.db.save_table(self.cur, table)
        for col in table.vector_columns():
            self.db.store_for(table, col)  # reopens in the new storage / segment size
        self._txn_ddl = True
        return Result(tag="ALTER TABLE")

    def _vacuum(self, rest: str) -> Result:
        """VACUUM [FULL] [VERBOSE] [ANALYZE] [table]: run the segment optimizer now (quantize
        and index sealed segments, merge small ones, drop dead vectors)."""
        if self.in_block:
            raise PgError("VACUUM cannot run inside a transaction block", sqlstate="25001")
        words = rest.replace("(", " ").replace(")", " ").replace(",", " ").split()
        opts = {"FULL", "VERBOSE", "ANALYZE", "ANALYSE", "FREEZE"}
        verbose = any(w.upper() == "VERBOSE" for w in words)
        names = [w.strip('"') for w in words if w.upper() not in opts]
        only = None
        if names:
            only = names[-1].split(".")[-1]
            if only not in self.catalog:
                raise PgError(f'relation "{names[-1]}" does not exist', sqlstate="42P01")
        report = self.db.optimizer.run_pass(compact=True, only=only)
        res = Result(tag="VACUUM")
        if verbose:
            for line in report.lines or ["nothing to do"]:
                note = PgError(line, sqlstate="00000")
                note.severity = "INFO"
                res.notices.append(note)
        return res

    # ------------------------------------------------------------------ cursors
    def cursor_columns(self, name: str) -> list[Column] | None:
        """The result columns of the DECLAREd cursor `name` (Describe of that portal)."""
        cur = self._cursors.get(name)
        return None if cur is None else cur.columns

    def _declare(self, rest: str) -> Result:
        """DECLARE name [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query: runs the query now."""
        name, hold, query = cursors.parse_declare(rest)
        if not self.in_block and not hold:
            raise PgError("DECLARE CURSOR can only be used in transaction blocks", sqlstate="25P01")
        if name in self._cursors:
            raise PgError(f'cursor "{name}" already exists', sqlstate="42P03")
        trees = parse(query)
        if len(trees) != 1 or not isinstance(
            trees[0], exp.Select | exp.SetOperation | exp.Values | exp.Subquery
        ):
            raise SyntaxError_("DECLARE CURSOR needs a SELECT or VALUES query")
        tree = trees[0]
        if parameter_numbers(tree):
            tree = substitute_params(tree, self._command_params or ())
        res = self._query(tree, query)
        self._cursors[name] = cursors.SqlCursor(
            columns=res.columns or [],
            rows=list(res.rows),
            hold=hold,
            txn=self._txn_id,
            statement=f"DECLARE {rest}",
        )
        return Result(tag="DECLARE CURSOR")

    # ------------------------------------------------------------------ utility
    def _set(self, tree: exp.Set) -> Result:
        for item in tree.expressions:
            local = str(item.args.get("kind") or "").upper() == "LOCAL"
            this = item.this
            if isinstance(this, exp.EQ):
                name = _setting_name(this.this)
                value = _setting_value(this.expression)
            else:
                raise FeatureNotSupported(f"SET form not supported: {item.sql()}")
            self.settings.set(name, value, local=local, in_txn=self.in_block)
        return Result(tag="SET")

    def _show(self, tree: exp.Show) -> Result:
        name = str(tree.this)
        if name.lower() == "all":
            rows = [(k, v, "") for k, v in sorted(self.settings.values.items())]
            return Result(
                tag="SHOW",
                columns=[
                    Column("name", TEXT_OID),
                    Column("setting", TEXT_OID),
                    Column("description", TEXT_OID),
                ],
                rows=rows,
            )
        value = self.settings.get(name)
        from sqlfront.settings import canonical

        return Result(tag="SHOW", columns=[Column(canonical(name), TEXT_OID)], rows=[(value,)])

    def _command(self, tree: exp.Command) -> Result:
        head = str(tree.this).upper()
        rest = tree.text("expression").strip()
        words = rest.upper().split()
        if head == "CREATE" and words[:1] == ["EXTENSION"]:
            ext = [w for w in words[1:] if w not in ("IF", "NOT", "EXISTS")]
            name = ext[0].strip('"').lower() if ext else ""
            if name != "VECTOR".lower():
                raise PgError(f'extension "{name}" is not available', sqlstate="0A000")
            return Result(tag="CREATE EXTENSION")
        if head == "DROP" and words[:1] == ["EXTENSION"]:
            return Result(tag="DROP EXTENSION")
        if head == "RESET":
            if words == ["ALL"]:
                self.settings.reset_all()
            else:
                self.settings.set(rest.strip('"'), None, in_txn=self.in_block)
            return Result(tag="RESET")
        if head == "DISCARD":
            self.settings.reset_all()
            return Result(tag="DISCARD ALL")
        if head == "REINDEX":
            parts = [w for w in rest.split() if w.upper() not in ("CONCURRENTLY",)]
            if len(parts) != 2 or parts[0].upper() not in ("INDEX", "TABLE"):
                raise FeatureNotSupported("REINDEX supports INDEX name and TABLE name")
            ddl_index.reindex(self.db, self.cur, self.catalog, parts[0].upper(), parts[1])
            return Result(tag="REINDEX")
        if head == "DEALLOCATE":
            names = [w for w in rest.split() if w.upper() != "PREPARE"]
            if len(names) != 1:
                raise SyntaxError_('syntax error at or near "DEALLOCATE"')
            target = "ALL" if names[0].upper() == "ALL" else names[0].strip('"')
            tag = "DEALLOCATE ALL" if target == "ALL" else "DEALLOCATE"
            return Result(tag=tag, deallocate=target)
        if head in ("ANALYZE", "CHECKPOINT"):
            return Result(tag=head)
        if head == "UNLISTEN":
            return Result(tag="UNLISTEN")  # LISTEN is not supported: nothing to stop listening to
        if head == "DECLARE":
            return self._declare(rest)
        if head in ("FETCH", "MOVE"):
            count, name = cursors.parse_fetch(head, rest)
            cur = self._cursors.get(name)
            if cur is None:
                raise cursors.missing(name)
            rows = cur.take(count)
            if head == "MOVE":
                return Result(tag=f"MOVE {len(rows)}")
            return Result(tag=f"FETCH {len(rows)}", columns=cur.columns, rows=rows)
        if head == "CLOSE":
            if words == ["ALL"]:
                self._cursors.clear()
                return Result(tag="CLOSE CURSOR ALL")
            if len(words) != 1:
                raise SyntaxError_('syntax error at or near "CLOSE"')
            name = cursors.ident(rest)
            if self._cursors.pop(name, None) is None:
                raise cursors.missing(name)
            return Result(tag="CLOSE CURSOR")
        raise FeatureNotSupported(f"statement not supported: {head} {rest[:40]}".strip())


T = TypeVar("T")


def _shallow(obj: T) -> T:
    """A shallow copy of a plan dataclass (`copy.copy` and `dataclasses.replace` cost ~10 us,
    measurable at a cached kNN plan's rate)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


_VECTOR_TYPE_OIDS = {"vector": VECTOR_OID, "halfvec": HALFVEC_OID, "sparsevec": SPARSEVEC_OID}


def _value_kinds(description: list[tuple]) -> tuple[dict[int, str], dict[int, str]]:
    """The result columns holding vecfuncs values, and those holding lists of them."""
    fields = {
        vecfuncs.VALUE_TYPE: vecfuncs.VALUE_FIELD,
        vecfuncs.TEXT_TYPE: vecfuncs.TEXT_FIELD,
        vecfuncs.HALF_TYPE: vecfuncs.HALF_FIELD,
        vecfuncs.SPARSE_TYPE: vecfuncs.SPARSE_FIELD,
        vecfuncs.SPARSE_TEXT_TYPE: vecfuncs.SPARSE_TEXT_FIELD,
        vecfuncs.ARRAY_TEXT_TYPE: vecfuncs.ARRAY_TEXT_FIELD,
        vecfuncs.SPARSE_ARRAY_TEXT_TYPE: vecfuncs.SPARSE_ARRAY_TEXT_FIELD,
    }
    kinds = {i: fields[str(d[1])] for i, d in enumerate(description) if str(d[1]) in fields}
    lists = {
        i: fields[str(d[1])[:-2]]
        for i, d in enumerate(description)
        if str(d[1]).endswith("[]") and str(d[1])[:-2] in _LIST_VALUE_TYPES
    }
    return kinds, lists


def _vector_values(description: list[tuple], rows: list[tuple]) -> list[tuple]:
    """Vector values computed by DuckDB (`vecfuncs`) as float32 arrays, or as pgvector's text
    for a `::text` result column."""
    kinds, lists = _value_kinds(description)
    if not (kinds or lists) or not rows:
        return rows
    out = [list(r) for r in rows]
    for i, tag in kinds.items():
        for r in out:
            r[i] = _vector_value(r[i], tag)
    for i, tag in lists.items():
        for r in out:
            if r[i] is not None:
                r[i] = [_vector_value(x, tag) for x in r[i]]
    return [tuple(r) for r in out]


# vecfuncs value types whose lists (`array_agg(v + w)`, `ARRAY['[1,2]'::vector]`) are arrays
# of vectors: DuckDB type -> the array's OID
_LIST_VALUE_TYPES = {
    vecfuncs.VALUE_TYPE: VECTOR_ARRAY_OID,
    vecfuncs.HALF_TYPE: HALFVEC_ARRAY_OID,
    vecfuncs.SPARSE_TYPE: SPARSEVEC_ARRAY_OID,
}


# vecfuncs value types printed as text (`v::text`, `array_agg(v)::text`)
_TEXT_VALUE_TYPES = (
    vecfuncs.TEXT_TYPE,
    vecfuncs.SPARSE_TEXT_TYPE,
    vecfuncs.ARRAY_TEXT_TYPE,
    vecfuncs.SPARSE_ARRAY_TEXT_TYPE,
)


def _vector_value(v: dict | None, tag: str) -> object:
    """One vecfuncs struct value (`{tag: FLOAT[]}`) as a float32 array or pgvector's text."""
    if v is None or v[tag] is None:
        return None
    if tag == vecfuncs.ARRAY_TEXT_FIELD:
        vals = [None if x is None else np.asarray(x, dtype=np.float32) for x in v[tag]]
        return text_formatter(VECTOR_ARRAY_OID)(vals)
    if tag == vecfuncs.SPARSE_ARRAY_TEXT_FIELD:
        vals = [None if x is None else dense_to_sparse(np.asarray(x, np.float32)) for x in v[tag]]
        return text_formatter(SPARSEVEC_ARRAY_OID)(vals)
    arr = np.asarray(v[tag], dtype=np.float32)
    if tag == vecfuncs.HALF_FIELD:
        return round_halfvec(arr)
    if tag == vecfuncs.TEXT_FIELD:
        return format_vector_text(arr)
    if tag == vecfuncs.SPARSE_TEXT_FIELD:
        return format_sparsevec_text(dense_to_sparse(arr))
    return arr  # a sparsevec is made sparse by `_rows_result`


def _set_sources(res: Result, sources: list[tuple[int, int, int]] | None) -> bool:
    """Give the result its columns' table OID / attnum (and the table column's typmod where
    the result has none); False when they do not line up.  The columns are new objects:
    `_rows_result` shares its cached ones between results."""
    if sources is None or res.columns is None or len(sources) != len(res.columns):
        return False
    res.columns = [
        Column(c.name, c.type_oid, c.typmod if c.typmod >= 0 else typmod, oid, attnum)
        for c, (oid, attnum, typmod) in zip(res.columns, sources, strict=True)
    ]
    return True


def _set_typmods(res: Result, typmods: list[int | None] | None) -> None:
    """Give the result the typmods its plan knows (a set operation's vector(n) columns), as
    new column objects."""
    if typmods is None or res.columns is None or len(typmods) != len(res.columns):
        return
    res.columns = [
        c if t is None else Column(c.name, c.type_oid, t, c.table_oid, c.attnum)
        for c, t in zip(res.columns, typmods, strict=True)
    ]


def _table_options(props: exp.Expression | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in props.expressions if props is not None else []:
        if not isinstance(p, exp.Property) or not isinstance(p.this, exp.Var | exp.Identifier):
            raise FeatureNotSupported(f"CREATE TABLE option not supported: {p.sql()[:60]}")
        key = p.this.name.lower()
        out[key] = table_option(key, _setting_value(p.args["value"]) or "")
    return out


def _head(tree: exp.Expression) -> str:
    return tree.key.upper()


def _setting_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Column):
        parts = [p.name for p in node.parts]
        return ".".join(parts)
    return node.name or node.sql()


def _setting_value(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Tuple):
        return ", ".join(_setting_value(e) or "" for e in node.expressions)
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Boolean):
        return "on" if node.this else "off"
    if isinstance(node, exp.Var | exp.Identifier | exp.Column):
        if node.name.upper() == "DEFAULT":
            return None
        return node.name
    if isinstance(node, exp.Neg):
        return "-" + (_setting_value(node.this) or "")
    return node.sql(dialect="postgres").strip("'")


__all__ = ["Column", "Prepared", "Result", "Session", "FLOAT8_OID"]
