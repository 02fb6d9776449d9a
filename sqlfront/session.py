"""A client session: statements in, results out, with Postgres's transaction semantics.

Owns: one DuckDB cursor (the session's transaction), the session's settings, the
transaction state machine (idle 'I' / in block 'T' / failed 'E'), prepared statements and
portals for the extended protocol, statement dispatch (DDL, DML, queries, utility commands,
EXPLAIN), and the commit rule "vector files fsync'd before DuckDB commits the rows that
point at them".  Every statement outside a block runs in its own DuckDB transaction.

Must not: know bytes or sockets (wire) — `Result` carries Python values and type OIDs.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
from sqlglot import exp

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
from engine.knn import vector_columns
from planner.execute import PlanResult, ShortScan, execute_plan
from planner.explain import explain_lines
from planner.plan import QueryPlan
from sqlfront import binder, ddl_index, pgcatalog
from sqlfront.binder import BindContext
from sqlfront.copy import CopyIn, CopyOut, CopyStatement, copy_to, parse_statements
from sqlfront.cursors import Cursors
from sqlfront.dialect import Explain, datatype_name_and_args, parse
from sqlfront.param_types import infer_param_oids
from sqlfront.pgtypes import FLOAT8_OID, TEXT_OID, VECTOR_OID, duckdb_type_to_oid
from sqlfront.settings import Settings, table_option
from sqlfront.values import parameter_numbers, substitute_params
from sqlfront.vectors import parse_vector_text


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


_ids = itertools.count(1)


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
        self.failed = False
        self._catalog: dict[str, TableDef] | None = None
        self._catalog_version = -1
        self._txn_ddl = False
        self._touched: set[int] = set()
        self._written: set[str] = set()  # tables written in this transaction
        self.cancel_event = threading.Event()
        self.copy_enabled = False  # set by a client that speaks the COPY sub-protocol (wire)
        self._plan_cache: dict[tuple, QueryPlan] = {}
        self._prepared: dict[tuple, Prepared] = {}
        self._vector_param: dict[str, int] = {}  # learned: SQL text -> $n of the query vector
        self._learning: tuple[Prepared, list[object]] | None = None
        self._cursors = Cursors()  # DECLARE ... CURSOR
        pgcatalog.ensure(self.cur, db)

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
            if self.in_block:
                self.cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        self.cur.close()
        self.db.leave_session()

    # --------------------------------------------------------------- entry points
    def execute(self, sql: str) -> list[Result]:
        """Run a simple-Query string (possibly several statements); stop at the first error.

        Results of the statements that completed before an error are in `exc.results`.
        A COPY FROM STDIN ends the list (its Result carries `copy_in`; the statements after
        it wait in `copy_in.rest` for `execute_trees`).
        """
        return self.execute_trees(parse_statements(sql, parse), sql)

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
        self._learning = (prep, list(params))
        try:
            return self.run(tree, prep.sql)
        finally:
            self._learning = None

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
        if isinstance(value, np.ndarray):
            vec = value.astype(np.float32, copy=False)
        elif isinstance(value, str):
            vec = parse_vector_text(value)
        else:
            return None
        dim = self.db.store_by_id(plan.knn.store_id).dim
        if len(vec) != dim:
            raise PgError(f"different vector dimensions {dim} and {len(vec)}", sqlstate="22000")
        run = dataclasses.replace(
            plan, knn=dataclasses.replace(plan.knn, query=vec), fallback_factory=None
        )

        def body() -> Result:
            res = execute_plan(self.db, self.cur, run)
            return self._rows_result(res, f"SELECT {len(res.rows)}")

        try:
            # one kNN statement reads through versioned caches and at most one DuckDB
            # query: outside a block it needs no explicit DuckDB transaction
            return self._transactional(body, read_only=True)
        except ShortScan:
            return None

    # ------------------------------------------------------------ transactions
    def run(self, tree: exp.Expression, sql: str) -> Result:
        """Run one statement under the transaction rules."""
        self.cancel_event.clear()
        if isinstance(tree, exp.Transaction):
            return self._begin()
        if isinstance(tree, exp.Commit):
            return self._commit()
        if isinstance(tree, exp.Rollback):
            return self._rollback()
        if isinstance(tree, CopyStatement) and tree.spec.is_from:
            return Result(tag="", copy_in=self.start_copy_in(tree))
        return self._transactional(lambda: self._dispatch(tree, sql))

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
            self.cur.execute("BEGIN")
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

    def _transactional(self, body: Callable[[], Result], read_only: bool = False) -> Result:
        if self.failed:
            raise InFailedTransaction(
                "current transaction is aborted, commands ignored until end of transaction block"
            )
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
            try:
                return body()
            except duckdb.Error as e:
                raise translate(e) from e
        # autocommit: one DuckDB transaction per statement
        self.cur.execute("BEGIN")
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

    def _begin(self) -> Result:
        res = Result(tag="BEGIN")
        if self.in_block:
            res.notices.append(
                PgError("there is already a transaction in progress", sqlstate="25001")
            )
            return res
        self.cur.execute("BEGIN")
        self.settings.begin()
        self.in_block = True
        return res

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

    def _cursor_query(self, sql: str) -> Result:
        """The query of DECLARE ... CURSOR FOR <query>, run."""
        trees = parse(sql)
        if len(trees) != 1 or not isinstance(trees[0], exp.Select | exp.SetOperation):
            raise PgError("DECLARE CURSOR must be a SELECT query", sqlstate="42601")
        return self._query(trees[0], sql)

    def _abort(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        self._end(committed=False)

    def _end(self, committed: bool) -> None:
        if self._txn_ddl:
            self._catalog = None
        self._txn_ddl = False
        self._touched.clear()
        self._written.clear()
        self.in_block = False
        self.failed = False
        self.settings.end_transaction(committed)
        self._cursors.end_transaction()

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
        plan = binder.bind_query(ctx, tree)
        self._remember_plan(plan, ctx)
        res = execute_plan(self.db, self.cur, plan)
        return self._rows_result(res, f"SELECT {len(res.rows)}")

    def _rows_result(self, res: PlanResult, tag: str) -> Result:
        cols = self._columns(res.description)
        return Result(tag=tag, columns=cols, rows=res.rows)

    def _columns(self, description: list[tuple]) -> list[Column]:
        vec = vector_columns(self.db, description)
        cols = []
        for i, d in enumerate(description):
            if i in vec:
                dim = self.db.store_by_id(vec[i]).dim
                cols.append(Column(d[0], VECTOR_OID, dim))
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
        data = [list(r) for r in res.rows]
        for i, c in enumerate(cols):
            if not c.is_vector:
                continue
            present = [j for j, r in enumerate(data) if r[i] is not None]
            if not present:
                continue
            arrs = np.stack([np.asarray(data[j][i], dtype=np.float32) for j in present])
            if c.dim is not None and arrs.shape[1] != c.dim:
                raise PgError(f"expected {c.dim} dimensions, not {arrs.shape[1]}", sqlstate="22000")
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
        for eq in tree.expressions:
            col = eq.this
            if not isinstance(col, exp.Column):
                continue
            c = binder.check_column(ctx, tdef, col.name)
            if c.is_vector:
                (node,) = binder.vector_values(ctx, c, [eq.expression])
                eq.set("expression", node)
        specs: list = []
        binder.resolve_tables(ctx, tree)
        binder.rewrite_distances(ctx, tree, specs)
        return self._run_dml(tree, specs, "UPDATE", tdef)

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
        if tname == "vector":
            if not targs:
                raise FeatureNotSupported("vector columns need a dimension, e.g. vector(384)")
            if targs[0] > 16000:
                raise PgError("vector cannot have more than 16000 dimensions", sqlstate="54000")
            if targs[0] < 1:
                raise PgError("dimensions for type vector must be at least 1", sqlstate="22023")
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
            self.db.store(col.store_id, col.dim, table.options.get("storage", "memmap"))  # type: ignore[arg-type]
        self._txn_ddl = True
        return Result(tag="ALTER TABLE")

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
        if head in ("ANALYZE", "VACUUM", "CHECKPOINT"):
            return Result(tag=head)
        if head == "UNLISTEN":
            return Result(tag="UNLISTEN")  # LISTEN is not supported: nothing to stop listening to
        if head in ("DECLARE", "FETCH", "MOVE", "CLOSE"):
            return self._cursors.command(head, rest, self.in_block, self._cursor_query)
        raise FeatureNotSupported(f"statement not supported: {head} {rest[:40]}".strip())


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
