"""Binding statements against the catalog and rewriting them into DuckDB SQL + numpy work.

Owns: resolving table and column names (Postgres errors 42P01 / 42703 with positions),
evaluating constant vectors (literals, parameters, scalar subqueries — "more like this"),
rewriting every pgvector distance `col <op> const` into a lookup of a numpy-computed
(slot, distance) relation, recognising the kNN shape `ORDER BY col <op> q LIMIT k` on one
table (which becomes a `planner.plan.KnnScan`), naming output columns as Postgres does, and
turning INSERT/UPDATE vector values into appended slots.

Must not: run the plan (planner.execute) or speak the protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
from sqlglot import exp

from engine.catalog import TABLE_OPTION_DEFAULTS, ColumnDef, IndexDef, TableDef, slot_field
from engine.database import Database
from engine.distance import distance_pair
from engine.errors import FeatureNotSupported, PgError, UndefinedColumn, UndefinedTable
from engine.knn import DIST_COLUMN, SLOT_COLUMN
from engine.sparse import (
    SparseVectorValue,
    as_sparse,
    check_sparse_dims,
    is_sparse_dim,
    same_vector,
    sparse_pair,
    vector_dim,
)
from planner.plan import DistanceSpec, FastProjection, KnnScan, QueryPlan, VectorRelation
from sqlfront import vecfuncs
from sqlfront.catalog_rewrite import rewrite_catalog_query
from sqlfront.dialect import VectorDistance
from sqlfront.infoschema import SCHEMA as INFO_SCHEMA
from sqlfront.infoschema import VIEWS as INFO_SCHEMA_VIEWS
from sqlfront.vector_refs import set_typmods
from sqlfront.vectors import (
    parse_sparsevec_text,
    parse_vector_text,
    parse_vectors_bulk,
    round_halfvec,
    sparse_value,
)

CATALOG_SCHEMA = "__vg_pg"


@dataclass
class BindContext:
    db: Database
    cur: duckdb.DuckDBPyConnection
    catalog: dict[str, TableDef]
    sql: str  # the statement text, for error positions
    run_query: Callable[[exp.Expression], tuple[list, list[tuple]]]
    emulated: frozenset[str] = frozenset()
    touched_stores: set[int] = field(default_factory=set)
    settings: dict[str, str] = field(default_factory=dict)
    in_block: bool = False
    sql_cursors: dict = field(default_factory=dict)  # DECLAREd cursors (pg_cursors)
    # for the plan cache: which $n fed constant vectors, and whether data was read to bind
    vector_params: set[int] = field(default_factory=set)
    read_data: bool = False
    # a constant vector was written into the SQL text (vecfuncs): the plan is not reusable
    # for another value of the parameter
    baked_constants: bool = False
    # analyze_distance results by node: the kNN node is looked at by several passes, and its
    # operand may be a subquery ("more like this") that must run once
    _analyzed: dict[int, tuple[exp.Expression, object]] = field(default_factory=dict)
    _rel_counter: int = 0

    def new_relation(self) -> str:
        self._rel_counter += 1
        return f"__vd{self._rel_counter}"

    def position_of(self, word: str) -> int | None:
        m = re.search(r"(?<![\w\"])" + re.escape(word) + r"(?![\w\"])", self.sql, re.I)
        if m is None:
            m = re.search(re.escape(word), self.sql, re.I)
        return m.start() + 1 if m else None


# ------------------------------------------------------------------------------- tables


def _bytea_hex_literals(tree: exp.Expression) -> None:
    """`'\\x00ff'::bytea` is Postgres's hex input (the whole string after `\\x`); DuckDB
    reads `\\xHH` escapes one byte at a time, so spell each byte as one."""
    for cast in list(tree.find_all(exp.Cast)):
        lit = cast.this
        if not (isinstance(lit, exp.Literal) and lit.is_string):
            continue
        if not cast.to.is_type(exp.DType.VARBINARY, exp.DType.BLOB):
            continue
        body = lit.this
        if body.startswith("\\x") and len(body) % 2 == 0:
            try:
                raw = bytes.fromhex(body[2:])
            except ValueError:
                continue
            lit.set("this", "".join(f"\\x{b:02x}" for b in raw))


def resolve_tables(ctx: BindContext, tree: exp.Expression) -> None:
    """Check every table reference; point pg_catalog / information_schema names at ours."""
    _bytea_hex_literals(tree)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name = table.name
        if not name or isinstance(table.this, exp.Func):  # table functions pass through
            continue
        schema = table.db.lower() if table.db else None
        if schema is None and name in ctes:
            continue
        if schema in (None, "pg_catalog") and name in ctx.emulated:
            table.set("db", exp.to_identifier(CATALOG_SCHEMA))
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            continue
        if schema in (None, "public", "main") and name in ctx.catalog:
            table.set("db", None)
            continue
        if schema == "information_schema":
            if name in INFO_SCHEMA_VIEWS:
                table.set("db", exp.to_identifier(INFO_SCHEMA))
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            continue
        qual = f"{table.db}.{name}" if table.db else name
        raise UndefinedTable(f'relation "{qual}" does not exist', position=ctx.position_of(name))
    rewrite_catalog_query(ctx, tree)


def table_def(ctx: BindContext, table: exp.Table) -> TableDef:
    t = ctx.catalog.get(table.name)
    if t is None:
        raise UndefinedTable(
            f'relation "{table.name}" does not exist', position=ctx.position_of(table.name)
        )
    return t


def _sources(select: exp.Select) -> list[tuple[str, exp.Table]]:
    out = []
    frm = select.args.get("from_")
    items = [frm.this] if frm is not None else []
    items += [j.this for j in select.args.get("joins") or []]
    for item in items:
        if isinstance(item, exp.Table) and item.name:
            out.append((item.alias_or_name, item))
    return out


def resolve_vector_column(
    ctx: BindContext, col: exp.Column
) -> tuple[str, TableDef, ColumnDef] | None:
    """(table reference, table, column) if `col` names a vector column of a base table."""
    scope: exp.Expression | None = col
    while scope is not None:
        scope = scope.parent
        if isinstance(scope, exp.Select | exp.Update | exp.Delete):
            cands: list[tuple[str, exp.Table]] = []
            if isinstance(scope, exp.Select):
                cands = _sources(scope)
            elif isinstance(scope.this, exp.Table):
                cands = [(scope.this.alias_or_name, scope.this)]
            for ref, t in cands:
                if col.table and col.table != ref:
                    continue
                td = ctx.catalog.get(t.name)
                if td is None:
                    continue
                c = td.column(col.name)
                if c is not None:
                    return (ref, td, c) if c.is_vector else None
    return None


# ------------------------------------------------------------------------------ vectors


def const_vector(
    ctx: BindContext, node: exp.Expression, dim: int | None
) -> np.ndarray | SparseVectorValue | None:
    """The value of a constant vector expression, or raise if `node` is not constant.

    Returns None for SQL NULL; a sparsevec of more than 16000 dimensions stays sparse.
    `dim` is only used to check a parameter's decoded array.
    """
    if isinstance(node, exp.Paren):
        return const_vector(ctx, node.this, dim)
    if isinstance(node, exp.Cast) and _is_vector_type(node.to):
        vecfuncs.vector_typmod(node.to)
        inner = node.this
        if (
            vecfuncs.vector_type_name(node.to) == "sparsevec"
            and isinstance(inner, exp.Literal)
            and inner.is_string
            and "vector" not in inner.meta
        ):
            return sparse_value(parse_sparsevec_text(inner.this))
        return const_vector(ctx, inner, dim)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal) and node.is_string:
        if "param" in node.meta:
            ctx.vector_params.add(node.meta["param"])
        vec = node.meta.get("vector")
        if vec is not None:
            return vec
        if node.this.lstrip(" \t\n\r\v\f").startswith("{"):  # a sparsevec literal
            return sparse_value(parse_sparsevec_text(node.this))
        return parse_vector_text(node.this)
    if isinstance(node, exp.Array):
        vals = []
        for e in node.expressions:
            if not (isinstance(e, exp.Literal) and not e.is_string) and not (
                isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal)
            ):
                break
            vals.append(float(e.sql()))
        else:
            return parse_vector_text("[" + ",".join(map(repr, vals)) + "]")
    if isinstance(node, exp.Subquery):
        ctx.read_data = True
        desc, rows = ctx.run_query(node.this)
        if not rows:
            return None
        if len(rows) > 1:
            raise PgError(
                "more than one row returned by a subquery used as an expression",
                sqlstate="21000",
            )
        val = rows[0][0]
        if val is None:
            return None
        if isinstance(val, np.ndarray):
            return val
        if isinstance(val, SparseVectorValue):
            return sparse_value(val)
        if isinstance(val, str):
            return parse_vector_text(val)
        if isinstance(val, dict) and vecfuncs.VALUE_FIELD in val:
            return np.asarray(val[vecfuncs.VALUE_FIELD], dtype=np.float32)
        if isinstance(val, list) and val and all(isinstance(x, int | float) for x in val):
            # real[] / double precision[] / integer[]: the assignment cast to vector
            return parse_vector_text("[" + ",".join(repr(float(x)) for x in val) + "]")
        raise PgError("subquery must return a vector", sqlstate="42804")
    if isinstance(node, exp.Anonymous | exp.Binary | exp.Cast | exp.Avg | exp.Sum) and not (
        node.find(exp.Column)
    ):
        # a constant vector expression (`l2_normalize('[3,4]')`, `$1 || $2`): let DuckDB
        # evaluate it once
        return const_vector(ctx, exp.Subquery(this=exp.select(node.copy())), dim)
    raise FeatureNotSupported(
        f"vector operand {node.sql()[:60]} is not supported: use a vector column against a "
        "constant, a parameter or a scalar subquery"
    )


_is_vector_type = vecfuncs.is_vector_type


def is_const_vector_node(node: exp.Expression) -> bool:
    """Whether `const_vector` can evaluate `node` (a literal, parameter, NULL, ARRAY of numbers,
    scalar subquery, or a vector cast of one)."""
    if isinstance(node, exp.Paren):
        return is_const_vector_node(node.this)
    if isinstance(node, exp.Cast) and _is_vector_type(node.to):
        return is_const_vector_node(node.this)
    if isinstance(node, exp.Null | exp.Subquery):
        return True
    if isinstance(node, exp.Literal):
        return node.is_string
    if isinstance(node, exp.Array):
        return all(
            (isinstance(e, exp.Literal) and not e.is_string)
            or (isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal))
            for e in node.expressions
        )
    return False


GENERIC = "generic"
"""`analyze_distance` result for operands other than a column against a constant (or two
constants): computed by DuckDB (`vecfuncs`), not by the numpy path."""


def _check_dims(a: int, b: int, pg_type: str = "vector") -> None:
    if pg_type == "sparsevec" and (is_sparse_dim(a) or is_sparse_dim(b)):
        check_sparse_dims(a, b)
    if a != b:
        raise PgError(f"different vector dimensions {a} and {b}", sqlstate="22000")


@dataclass
class _Distance:
    node: VectorDistance
    ref: str
    table: TableDef
    column: ColumnDef
    query: np.ndarray | None  # None: SQL NULL


def analyze_distance(ctx: BindContext, node: VectorDistance) -> _Distance | float | str | None:
    """Classify a distance node: column vs constant, or fold two constants into a number."""
    hit = ctx._analyzed.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]  # type: ignore[return-value]
    res = _analyze_distance(ctx, node)
    ctx._analyzed[id(node)] = (node, res)
    return res


def _analyze_distance(ctx: BindContext, node: VectorDistance) -> _Distance | float | str | None:
    if node.metric not in ("l2", "cosine", "ip", "l1"):
        return GENERIC
    sides = [node.this, node.expression]
    cols = [resolve_vector_column(ctx, s) if isinstance(s, exp.Column) else None for s in sides]
    if cols[0] and cols[1]:
        return GENERIC
    simple = [c is not None or is_const_vector_node(s) for c, s in zip(cols, sides, strict=True)]
    if not all(simple):
        return GENERIC
    for i in (0, 1):
        c = cols[i]
        if c is not None:
            q = const_vector(ctx, sides[1 - i], c[2].dim)
            if q is not None and c[2].dim is not None:
                _check_dims(c[2].dim, vector_dim(q), c[2].pg_type)
            if q is not None and c[2].pg_type == "halfvec":
                q = round_halfvec(q)  # the constant is read as a halfvec, as in pgvector
            return _Distance(node, c[0], c[1], c[2], q)
    a = const_vector(ctx, sides[0], None)
    b = const_vector(ctx, sides[1], None)
    if a is None or b is None:
        return None
    if isinstance(a, SparseVectorValue) or isinstance(b, SparseVectorValue):
        return sparse_pair(node.metric, as_sparse(a), as_sparse(b))
    _check_dims(len(a), len(b))
    return distance_pair(node.metric, a, b)


def slot_of(ref: str, column: str, store_id: int) -> exp.Expression:
    return exp.Anonymous(
        this="struct_extract",
        expressions=[
            exp.column(column, table=ref, quoted=True),
            exp.Literal.string(slot_field(store_id)),
        ],
    )


def _lookup(rel: str, ref: str, d: _Distance) -> exp.Expression:
    """`(SELECT d FROM rel WHERE slot = struct_extract(ref.col, '__vgN'))`."""
    sub = (
        exp.select(exp.column(DIST_COLUMN, table=rel))
        .from_(rel)
        .where(
            exp.EQ(
                this=exp.column(SLOT_COLUMN, table=rel),
                expression=slot_of(ref, d.column.name, d.column.store_id),  # type: ignore[arg-type]
            )
        )
    )
    return exp.Subquery(this=sub)


def rewrite_distances(ctx: BindContext, tree: exp.Expression, specs: list[DistanceSpec]) -> None:
    """Replace every distance node in `tree` by a lookup into a numpy-computed relation."""
    for node in list(tree.find_all(VectorDistance)):
        if node.parent is None and node is not tree:
            continue
        res = analyze_distance(ctx, node)
        if res == GENERIC:
            raise FeatureNotSupported(f"operator {node.op} on these operands is not supported here")
        if res is None or (not isinstance(res, float) and res.query is None):
            # a typed NULL: DuckDB rejects a bare `ORDER BY NULL` (`ORDER BY e <=> NULL`)
            node.replace(exp.cast(exp.Null(), exp.DataType.build("DOUBLE")))
        elif isinstance(res, float):
            node.replace(_double(res))
        else:
            spec = _find_spec(specs, res)
            if spec is None:
                spec = DistanceSpec(
                    name=ctx.new_relation(),
                    table=res.table.name,
                    column=res.column.name,
                    store_id=res.column.store_id,  # type: ignore[arg-type]
                    metric=res.node.metric,
                    query=res.query,
                )
                specs.append(spec)
            node.replace(_lookup(spec.name, res.ref, res))


def _double(value: float) -> exp.Expression:
    """A folded distance as a DuckDB DOUBLE (float8, as pgvector's distances): a bare literal
    like `2.83` would be DECIMAL (numeric)."""
    text = repr(float(value))
    lit = exp.Literal.number(text) if np.isfinite(value) else exp.Literal.string(text)
    return exp.Cast(this=lit, to=exp.DataType.build("DOUBLE"))


def _find_spec(specs: list[DistanceSpec], d: _Distance) -> DistanceSpec | None:
    for s in specs:
        if (
            s.store_id == d.column.store_id
            and s.metric == d.node.metric
            and d.query is not None
            and np.array_equal(s.query, d.query)
        ):
            return s
    return None


# ------------------------------------------------------------------------- output names


def output_name(node: exp.Expression) -> str | None:
    """Postgres's name for an unaliased select-list item (None for `*`)."""
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star):
        return None
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Paren):
        return output_name(node.this)
    if isinstance(node, exp.Cast):
        inner = node.this
        while isinstance(inner, exp.Cast):  # `0::regtype::text` is "text", `x::int::text` "x"
            inner = inner.this
        if isinstance(inner, exp.Column | exp.Func) and not isinstance(inner, exp.Binary):
            return output_name(inner)
        return _pg_type_name(node.to)
    if isinstance(node, exp.Subquery):
        q = node.this
        if isinstance(q, exp.Select) and q.expressions:
            return output_name(q.expressions[0]) or "?column?"
        return "?column?"
    if isinstance(node, exp.Case):
        return "case"
    if isinstance(node, exp.Exists):
        return "exists"
    if isinstance(node, exp.Boolean | exp.Literal | exp.Null | exp.Binary | exp.Not):
        return "?column?"
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return _FUNC_NAMES.get(type(node), node.sql_name().lower())
    return "?column?"


_FUNC_NAMES: dict[type, str] = {
    exp.CurrentDate: "current_date",
    exp.CurrentTimestamp: "now",
    exp.Count: "count",
    exp.ArrayAgg: "array_agg",
    exp.Length: "length",
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Substring: "substring",
}


def _pg_type_name(dt: exp.Expression) -> str:
    if isinstance(dt, exp.ObjectIdentifier):  # `::regtype`, `::oid` (its `this` is a str)
        return dt.name.lower()
    if not isinstance(dt, exp.DataType):
        return "?column?"
    t = dt.this
    names = {
        exp.DataType.Type.INT: "int4",
        exp.DataType.Type.BIGINT: "int8",
        exp.DataType.Type.SMALLINT: "int2",
        exp.DataType.Type.TEXT: "text",
        exp.DataType.Type.VARCHAR: "varchar",
        exp.DataType.Type.DOUBLE: "float8",
        exp.DataType.Type.FLOAT: "float4",
        exp.DataType.Type.BOOLEAN: "bool",
        exp.DataType.Type.JSONB: "jsonb",
        exp.DataType.Type.JSON: "json",
        exp.DataType.Type.DECIMAL: "numeric",
        exp.DataType.Type.DATE: "date",
        exp.DataType.Type.TIMESTAMP: "timestamp",
        exp.DataType.Type.TIMESTAMPTZ: "timestamptz",
        exp.DataType.Type.VECTOR: "vector",
    }
    return names.get(t, str(dt.args.get("kind") or t.value).lower())


def name_outputs(select: exp.Expression) -> None:
    """Give every select-list item of the top-level query its Postgres name as an alias."""
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    select.set("expressions", name_items(select.expressions))


def name_items(items: list[exp.Expression]) -> list[exp.Expression]:
    """`items` with each unaliased, non-star item aliased to its Postgres output name."""
    new = []
    for item in items:
        name = output_name(item)
        if (
            name is None
            or isinstance(item, exp.Alias)
            or (isinstance(item, exp.Column) and item.name == name)
        ):
            new.append(item)
        else:
            new.append(exp.alias_(item, name, quoted=True))
    return new


# ------------------------------------------------------------------------------ queries


def _limit_value(node: exp.Expression | None) -> int | None:
    if node is None:
        return None
    e = node.expression if isinstance(node, exp.Limit | exp.Offset) else node
    if isinstance(e, exp.Literal) and not e.is_string:
        try:
            return int(e.this)
        except ValueError:
            return None
    return None


def _knn_candidate(ctx: BindContext, select: exp.Expression) -> _Distance | None:
    """The kNN distance if `select` is `SELECT ... FROM t [WHERE ..] ORDER BY d LIMIT k`."""
    if not isinstance(select, exp.Select):
        return None
    if select.args.get("group") or select.args.get("having") or select.args.get("distinct"):
        return None
    if select.args.get("joins") or select.args.get("laterals") or select.args.get("with_"):
        return None
    frm = select.args.get("from_")
    if frm is None or not isinstance(frm.this, exp.Table):
        return None
    order = select.args.get("order")
    if order is None or _limit_value(select.args.get("limit")) is None:
        return None
    first = order.expressions[0]
    if first.args.get("desc") or not isinstance(first.this, VectorDistance):
        return None
    if any(e.find(exp.AggFunc, exp.Window) for e in select.expressions):
        return None
    where = select.args.get("where")
    if where is not None and (where.find(VectorDistance) or vecfuncs.has_vector_ops(ctx, where)):
        return None
    res = analyze_distance(ctx, first.this)
    if not isinstance(res, _Distance) or res.query is None:
        return None
    return res


def check_vector_casts(ctx: BindContext, tree: exp.Expression, others: bool = False) -> None:
    """`col::vector` is the column itself; other casts of a vector column are left for
    `vecfuncs` when `others`, else not supported (the column is a slot pointer inside DuckDB,
    so the cast would be meaningless)."""
    for cast in list(tree.find_all(exp.Cast)):
        inner = cast.this
        hit = resolve_vector_column(ctx, inner) if isinstance(inner, exp.Column) else None
        if hit is None:
            continue
        target = vecfuncs.vector_type_name(cast.to)
        if target is not None and (
            not others or (target == hit[2].pg_type and not any(cast.to.expressions))
        ):
            cast.replace(inner)
        elif not others:
            raise FeatureNotSupported(
                f"cast of vector column {inner.name} to {cast.to.sql()} is not supported yet"
            )


def _cast_typmods(tree: exp.Expression) -> list[int | None] | None:
    """The typmods of a SELECT's items cast to `vector(n)` / `halfvec(n)` / `sparsevec(n)`
    (`SELECT '[1,2,3]'::vector(3)`, `e::vector(3)`), as Postgres reports them; None when it
    has none (a plain column's comes from the catalog, with its table OID)."""
    if not isinstance(tree, exp.Select) or any(e.is_star for e in tree.expressions):
        return None
    out: list[int | None] = []
    for item in tree.expressions:
        node = item.this if isinstance(item, exp.Alias) else item
        cast = isinstance(node, exp.Cast) and vecfuncs.is_vector_type(node.to)
        out.append(vecfuncs.vector_typmod(node.to) if cast else None)
    return out if any(t is not None for t in out) else None


def _check_set_order(tree: exp.Expression) -> None:
    """Postgres's rule for a set operation's ORDER BY, where it matters to us: a vector
    distance there is refused (its operands are the branches' columns, which only exist as
    result columns once the branches are merged)."""
    if not isinstance(tree, exp.SetOperation) or tree.args.get("order") is None:
        return
    for item in tree.args["order"].expressions:
        if item.find(VectorDistance) is not None:
            raise FeatureNotSupported(
                "invalid UNION/INTERSECT/EXCEPT ORDER BY clause",
                detail="Only result column names can be used, not expressions or functions.",
                hint="Add the expression/function to every SELECT, or move the UNION into a "
                "FROM clause.",
            )


def _type_values_literals(values: exp.Values, n: int) -> None:
    """A VALUES column with a row cast to a vector type: its unknown-typed literals in the
    other rows get the same cast, as Postgres resolves a VALUES column's type."""
    rows = [r.expressions for r in values.expressions if isinstance(r, exp.Tuple)]
    if len(rows) < 2 or any(len(r) != n for r in rows):
        return
    for i in range(n):
        casts = [
            r[i] for r in rows if isinstance(r[i], exp.Cast) and vecfuncs.is_vector_type(r[i].to)
        ]
        if not casts:
            continue
        for r in rows:
            if isinstance(r[i], exp.Literal) and r[i].is_string:
                r[i].replace(exp.Cast(this=r[i].copy(), to=casts[0].to.copy()))


def _values_columns(tree: exp.Expression) -> exp.Expression:
    """Postgres's names for VALUES columns, `column1` .. `columnN` (DuckDB says `col0` ..):
    a VALUES list in FROM without column aliases gets them, and a VALUES statement becomes
    `SELECT * FROM (VALUES ...) AS "*VALUES*"(column1, ...)` with its ORDER BY / LIMIT."""
    for values in list(tree.find_all(exp.Values)):
        first = values.expressions[0] if values.expressions else None
        if isinstance(values.parent, exp.Insert) or first is None:
            continue
        n = len(first.expressions) if isinstance(first, exp.Tuple) else 1
        _type_values_literals(values, n)
        names = [exp.to_identifier(f"column{i + 1}") for i in range(n)]
        alias = values.args.get("alias")
        if alias is not None:
            if not alias.columns:
                alias.set("columns", names)
            continue
        if values is not tree:
            continue
        clauses = {k: values.args.get(k) for k in ("order", "limit", "offset")}
        for k in clauses:
            values.set(k, None)
        values.set("alias", exp.TableAlias(this=exp.to_identifier("*VALUES*", quoted=True)))
        values.args["alias"].set("columns", names)
        tree = exp.select("*").from_(values)
        for k, v in clauses.items():
            if v is not None:
                tree.set(k, v)
    return tree


def bind_query(ctx: BindContext, tree: exp.Expression, top: bool = True) -> QueryPlan:
    """Plan a query (SELECT, set operation, VALUES) for execution."""
    tree = _values_columns(tree)
    resolve_tables(ctx, tree)
    check_vector_casts(ctx, tree, others=True)
    _check_set_order(tree)
    if top:
        name_outputs(tree)
    vecfuncs.function_to_operator(tree)
    fallback_tree = tree.copy()
    knn = _knn_candidate(ctx, tree)
    if knn is None:
        # before vecfuncs rewrites the tree
        typmods = (set_typmods(ctx, tree) or _cast_typmods(tree)) if top else None
        plan = _general_plan(ctx, tree)
        plan.typmods = typmods
        return plan
    assert isinstance(tree, exp.Select)
    limit = _limit_value(tree.args.get("limit")) or 0
    offset = _limit_value(tree.args.get("offset")) or 0
    where = tree.args.get("where")
    filter_sql = to_duck(where.this) if where is not None else None
    scan = KnnScan(
        table=knn.table.name,
        column=knn.column.name,
        store_id=knn.column.store_id,  # type: ignore[arg-type]
        metric=knn.node.metric,
        query=knn.query,  # type: ignore[arg-type]
        k=limit + offset,
        filter_sql=filter_sql,
        index=knn.table.hnsw_index(knn.column.name, knn.node.metric),
        exact_index=knn.table.exact_index(knn.column.name, knn.node.metric),
        ef_search=int(ctx.settings.get("hnsw.ef_search", "40")),
        forced=ctx.settings.get("vecgres.knn_strategy", "auto"),
        enable_indexscan=ctx.settings.get("enable_indexscan", "on") == "on",
        cacheable=not ctx.in_block,
        **_quantization_settings(ctx, knn.table),
    )
    if is_sparse_dim(knn.column.dim):
        scan.quantization = "none"  # a sparse store is searched exactly, without copies
    rel = scan.relation
    # The kNN distance (wherever it appears) reads the candidates' relation.
    for node in list(tree.find_all(VectorDistance)):
        res = analyze_distance(ctx, node)
        if (
            isinstance(res, _Distance)
            and res.query is not None
            and res.column.store_id == scan.store_id
            and res.node.metric == scan.metric
            and same_vector(res.query, scan.query)
        ):
            node.replace(exp.column(DIST_COLUMN, table=rel))
    specs: list[DistanceSpec] = []
    vrels: list[VectorRelation] = []
    vecfuncs.rewrite_vector_exprs(ctx, tree, vrels)
    for vrel in vrels:  # the kNN join keeps only the candidates' rows
        if vrel.store_id == scan.store_id and vrel.uses == 1:
            vrel.knn, vrel.slots_sql = True, None
    rewrite_distances(ctx, tree, specs)
    tree.set("where", None)
    tree = tree.join(
        exp.to_table(rel),
        on=exp.EQ(
            this=exp.column(SLOT_COLUMN, table=rel),
            expression=slot_of(knn.ref, scan.column, scan.store_id),
        ),
        copy=False,
    )
    order = tree.args["order"]
    fast = (
        _fast_projection(tree, knn, scan, limit, offset)
        if top and not specs and not vrels
        else None
    )
    order.append("expressions", exp.Ordered(this=exp.column(SLOT_COLUMN, table=rel)))
    # rows ordered by the distance but not showing it can rank on the graph's own distances
    scan.exact_distances = fast is None or None in fast.columns
    return QueryPlan(
        sql=to_duck(tree),
        distances=specs,
        knn=scan,
        fallback_factory=lambda: _general_plan(ctx, fallback_tree),
        fast=fast,
        vectors=vrels,
    )


def _quantization_settings(ctx: BindContext, table: TableDef) -> dict[str, object]:
    """Table options, overridden by `SET vecgres.oversampling / vecgres.rescore`."""
    opts = {**TABLE_OPTION_DEFAULTS, **table.options}
    over = ctx.settings.get("vecgres.oversampling") or opts["oversampling"]
    rescore = ctx.settings.get("vecgres.rescore") or opts["rescore"]
    return {
        "quantization": opts["quantization"],
        "oversampling": float(over),
        "rescore": rescore == "on",
    }


def _fast_projection(
    tree: exp.Select, knn: _Distance, scan: KnnScan, limit: int, offset: int
) -> FastProjection | None:
    """Outputs that can be served from cached columns: plain columns and the kNN distance."""
    if len(tree.args["order"].expressions) != 1:
        return None
    items: list[str | None] = []
    names: list[str] = []
    for e in tree.expressions:
        inner = e.this if isinstance(e, exp.Alias) else e
        name = e.alias if isinstance(e, exp.Alias) else e.name
        is_col = isinstance(inner, exp.Column)
        if is_col and inner.name == DIST_COLUMN and inner.table == scan.relation:
            items.append(None)
        elif isinstance(inner, exp.Column) and not inner.is_star:
            if inner.table and inner.table != knn.ref:
                return None
            col = knn.table.column(inner.name)
            if col is None or (col.is_vector and col.name != scan.column):
                return None
            items.append(col.name)
        else:
            return None
        names.append(name)
    return FastProjection(names=names, columns=items, limit=limit, offset=offset)


def _tie_breaker(ctx: BindContext, tree: exp.Expression) -> exp.Expression | None:
    """What breaks ties of `ORDER BY <distance>` over one table, for a deterministic order:
    the vector's slot, as the kNN path does, or for a bit distance (`<~>`, `<%>`, answered by
    DuckDB) the row's DuckDB `rowid`."""
    first = _ordering_distance(tree)
    if first is None or tree.args.get("distinct"):
        return None
    if first.metric in _BIT_METRICS:
        hit = _bit_column(ctx, tree, first)  # type: ignore[arg-type]
        return exp.column("rowid", table=hit[0]) if hit is not None else None
    res = analyze_distance(ctx, first)
    if isinstance(res, _Distance):
        return slot_of(res.ref, res.column.name, res.column.store_id)  # type: ignore[arg-type]
    return None


_BIT_METRICS = ("hamming", "jaccard")


def _ordering_distance(tree: exp.Expression) -> VectorDistance | None:
    """The distance a non-grouped SELECT orders by first, if any."""
    if not isinstance(tree, exp.Select) or tree.args.get("order") is None:
        return None
    first = tree.args["order"].expressions[0].this
    if not isinstance(first, VectorDistance) or tree.args.get("group"):
        return None
    return first


def _bit_column(
    ctx: BindContext, select: exp.Select, node: VectorDistance
) -> tuple[str, TableDef, ColumnDef] | None:
    """(reference, table, column) when `select` reads one table (without a column named
    rowid) and `node` measures one of its bit columns."""
    sources = _sources(select)
    if len(sources) != 1 or select.args.get("joins"):
        return None
    ref, table = sources[0]
    tdef = None if table.db else ctx.catalog.get(table.name)
    if tdef is None or tdef.column("rowid") is not None:
        return None
    for side in (node.this, node.expression):
        col = tdef.column(side.name) if isinstance(side, exp.Column) else None
        if col is not None and col.pg_type == "bit" and side.table in ("", ref):
            return ref, tdef, col
    return None


def _exact_bit_index(ctx: BindContext, tree: exp.Expression) -> IndexDef | None:
    """The graphless `bit_hamming_ops` / `bit_jaccard_ops` index a bit kNN query would use in
    pgvector (named by EXPLAIN: its queries are answered by DuckDB's exact search)."""
    first = _ordering_distance(tree)
    if first is None or first.metric not in _BIT_METRICS:
        return None
    hit = _bit_column(ctx, tree, first)  # type: ignore[arg-type]
    return hit[1].exact_index(hit[2].name, first.metric) if hit is not None else None


def _general_plan(ctx: BindContext, tree: exp.Expression) -> QueryPlan:
    specs: list[DistanceSpec] = []
    tie = _tie_breaker(ctx, tree)
    exact_index = _exact_bit_index(ctx, tree)
    vrels: list[VectorRelation] = []
    vecfuncs.rewrite_vector_exprs(ctx, tree, vrels)
    rewrite_distances(ctx, tree, specs)
    if tie is not None:
        tree.args["order"].append("expressions", exp.Ordered(this=tie))
    return QueryPlan(sql=to_duck(tree), distances=specs, vectors=vrels, exact_index=exact_index)


# -------------------------------------------------------------------------- translation


def _duck_transform(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.BitString | exp.HexString):
        return bit_string(node)
    if isinstance(node, exp.Div):
        return exp.Anonymous(this="divide", expressions=[node.this, node.expression])
    if isinstance(node, VectorDistance):
        raise FeatureNotSupported(f"operator {node.op} is not supported in this position")
    return node


def bit_string(node: exp.BitString | exp.HexString) -> exp.Expression:
    """Postgres's bit-string constants `B'1010'` and `X'1F'` as DuckDB BIT values (sqlglot
    writes them as an integer and a blob)."""
    digits = str(node.this)
    if isinstance(node, exp.HexString):
        bad = [h for h in digits if h not in "0123456789abcdefABCDEF"]
        if bad:
            raise PgError(f'"{bad[0]}" is not a valid hexadecimal digit', sqlstate="22P02")
        digits = "".join(f"{int(h, 16):04b}" for h in digits)
    elif digits.strip("01"):
        raise PgError(f'"{digits.strip("01")[0]}" is not a valid binary digit', sqlstate="22P02")
    return exp.Cast(this=exp.Literal.string(digits), to=exp.DataType.build("BIT"))


def to_duck(tree: exp.Expression) -> str:
    """DuckDB SQL for a bound Postgres tree (integer division kept as Postgres's)."""
    return tree.transform(_duck_transform).sql(dialect="duckdb")


# ---------------------------------------------------------------------- writing vectors


def vector_values(
    ctx: BindContext, column: ColumnDef, nodes: list[exp.Expression]
) -> list[exp.Expression]:
    """Append the constant vectors `nodes` to the column's store; struct literals for them."""
    dim = column.dim
    store = ctx.db.store(column.store_id, dim)  # type: ignore[arg-type]
    arrays: list[np.ndarray | None] = [None] * len(nodes)
    texts_idx = [
        i
        for i, n in enumerate(nodes)
        if isinstance(n, exp.Literal) and n.is_string and "vector" not in n.meta
    ]
    if len(texts_idx) > 1 and dim is not None and column.pg_type != "sparsevec":
        bulk = parse_vectors_bulk([nodes[i].this for i in texts_idx], dim)
        for j, i in enumerate(texts_idx):
            arrays[i] = bulk[j]
    for i, n in enumerate(nodes):
        if arrays[i] is None and not isinstance(n, exp.Null):
            if isinstance(n, exp.Column) and n.name.upper() == "DEFAULT":
                continue
            v = const_vector(ctx, n, dim)
            if v is not None:
                if dim is not None and vector_dim(v) != dim:
                    raise PgError(
                        f"expected {dim} dimensions, not {vector_dim(v)}", sqlstate="22000"
                    )
                arrays[i] = v
    present = [i for i, a in enumerate(arrays) if a is not None]
    out: list[exp.Expression] = [
        exp.Null() if arrays[i] is None and not _is_default(nodes[i]) else nodes[i]
        for i in range(len(nodes))
    ]
    if present:
        slots = store.append(column_values(column, [arrays[i] for i in present]))  # type: ignore[misc]
        ctx.touched_stores.add(column.store_id)  # type: ignore[arg-type]
        field_name = slot_field(column.store_id)  # type: ignore[arg-type]
        for i, s in zip(present, slots.tolist(), strict=True):
            out[i] = exp.Struct(
                expressions=[
                    exp.PropertyEQ(
                        this=exp.to_identifier(field_name), expression=exp.Literal.number(s)
                    )
                ]
            )
    return out


def column_values(
    column: ColumnDef, arrays: list[np.ndarray | SparseVectorValue]
) -> np.ndarray | list[SparseVectorValue]:
    """What to append to `column`'s store: float32 rows (rounded to float16 for a halfvec
    column), or `SparseVectorValue`s for a sparse store (sparsevec over 16000 dimensions)."""
    if is_sparse_dim(column.dim):
        return [as_sparse(a) for a in arrays]
    rows = np.stack(arrays)  # type: ignore[arg-type]
    return round_halfvec(rows) if column.pg_type == "halfvec" else rows


def stored_values(column: ColumnDef, values: list) -> np.ndarray | list[SparseVectorValue]:
    """`column_values` of computed vectors (arrays or `SparseVectorValue`s), checking their
    dimension against the column's."""
    if not is_sparse_dim(column.dim):
        values = [np.asarray(v, dtype=np.float32) for v in values]
    for v in values:
        if column.dim is not None and vector_dim(v) != column.dim:
            raise PgError(
                f"expected {column.dim} dimensions, not {vector_dim(v)}", sqlstate="22000"
            )
    return column_values(column, values)


def _is_default(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column | exp.Var) and node.name.upper() == "DEFAULT"


def check_column(ctx: BindContext, table: TableDef, name: str) -> ColumnDef:
    c = table.column(name)
    if c is None:
        raise UndefinedColumn(
            f'column "{name}" of relation "{table.name}" does not exist',
            position=ctx.position_of(name),
        )
    return c
