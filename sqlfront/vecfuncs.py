"""pgvector's functions, operators, aggregates and casts on `vector`, computed by DuckDB.

Owns: the DuckDB macros (schema `__vg_fn`, created once per database by `ensure`) that
implement pgvector 0.8's `l2_distance`, `cosine_distance`, `inner_product`, `l1_distance`,
`vector_dims`, `vector_norm`, `l2_normalize`, `subvector`, `binary_quantize`, the element-wise
`+ - *`, `||`, `avg(vector)` and `sum(vector)`, and casts to/from `text`, `real[]`, number
arrays and `vector(n)`; and `rewrite_vector_exprs`, the binder pass that turns those SQL
expressions into calls of the macros.

How a vector becomes a DuckDB value: a vector column is a slot pointer (`STRUCT(__vgN BIGINT)`),
so inside one of these expressions it is replaced by `(SELECT v FROM __vvN WHERE slot = ...)`,
a lookup in a `planner.plan.VectorRelation` (every vector of store N as a `FLOAT[]`, registered
from numpy at execution).  Constants (literals, `$n`, `ARRAY[...]`, scalar subqueries) become
`FLOAT[]` literals.  A vector *result* leaves DuckDB tagged as `STRUCT(__vgv FLOAT[])`
(`VALUE_FIELD`), which the session turns back into a float32 array with the `vector` OID; a
top-level `<vector>::text` is tagged `STRUCT(__vgt FLOAT[])` (`TEXT_FIELD`) and printed by
`sqlfront.vectors.format_vectors_bulk`, exactly like pgvector's `vector_out`.

A distance operator or function between a column and a constant keeps the numpy path
(`binder.rewrite_distances`, kNN); only other operand shapes (two columns, expressions) are
computed here, in float64 (pgvector accumulates in float32: results agree to ~1e-6).

Errors raised inside DuckDB carry their SQLSTATE as a `[22000] ` message prefix, which
`engine.duck_errors.translate` turns into the Postgres error.

Must not: run plans or touch the stores (planner.execute registers the relations).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

import duckdb
import numpy as np
from sqlglot import exp

from engine.catalog import slot_field
from engine.errors import FeatureNotSupported, PgError
from engine.sparse import SparseVectorValue, vector_dim
from planner.plan import VectorRelation
from sqlfront.dialect import (
    CosineDistance,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    NegInnerProduct,
    VectorDistance,
)
from sqlfront.vector_refs import (
    ComputedVector,
    Hit,
    Outputs,
    VectorRef,
    column_hit,
    derived_query,
    from_items,
    is_star,
    item_outputs,
    set_compares,
    set_leaves,
    set_order_positions,
    unalias,
    vector_ref,
)
from sqlfront.vectors import check_typmod, round_halfvec

if TYPE_CHECKING:
    from sqlfront.binder import BindContext

SCHEMA = "__vg_fn"
VALUE_FIELD = "__vgv"
TEXT_FIELD = "__vgt"
VALUE_TYPE = f"STRUCT({VALUE_FIELD} FLOAT[])"
TEXT_TYPE = f"STRUCT({TEXT_FIELD} FLOAT[])"
HALF_FIELD = "__vgh"
HALF_TYPE = f"STRUCT({HALF_FIELD} FLOAT[])"
SPARSE_FIELD = "__vgs"
SPARSE_TYPE = f"STRUCT({SPARSE_FIELD} FLOAT[])"
_TAGS = {"vector": VALUE_FIELD, "halfvec": HALF_FIELD, "sparsevec": SPARSE_FIELD}
_TYPE_OF_TAG = {tag: pg_type for pg_type, tag in _TAGS.items()}
SPARSE_TEXT_FIELD = "__vgst"
SPARSE_TEXT_TYPE = f"STRUCT({SPARSE_TEXT_FIELD} FLOAT[])"
# `<array of vectors>::text` as a top-level result: the elements' values, printed by the session
ARRAY_TEXT_FIELD = "__vgat"
ARRAY_TEXT_TYPE = f"STRUCT({ARRAY_TEXT_FIELD} FLOAT[][])"
SPARSE_ARRAY_TEXT_FIELD = "__vgsat"
SPARSE_ARRAY_TEXT_TYPE = f"STRUCT({SPARSE_ARRAY_TEXT_FIELD} FLOAT[][])"
MAX_DIM = 16000

_S = SCHEMA
_MACROS = [
    # errors: a `[SQLSTATE] ` prefix is read by engine.duck_errors.translate
    f"CREATE OR REPLACE MACRO {_S}.same(a, b) AS CASE WHEN len(a) <> len(b) THEN "
    "error('[22000] different vector dimensions ' || len(a) || ' and ' || len(b)) END",
    f"CREATE OR REPLACE MACRO {_S}.finite(r) AS CASE WHEN "
    "list_bool_or(list_transform(r, lambda x: isinf(x))) THEN "
    "error('[22003] value out of range: overflow') ELSE r END",
    f"CREATE OR REPLACE MACRO {_S}.dimok(r) AS CASE WHEN len(r) < 1 THEN "
    "error('[22000] vector must have at least 1 dimension') "
    f"WHEN len(r) > {MAX_DIM} THEN "
    f"error('[54000] vector cannot have more than {MAX_DIM} dimensions') ELSE r END",
    f"CREATE OR REPLACE MACRO {_S}.typmod(a, n) AS CASE WHEN len(a) <> n THEN "
    "error('[22000] expected ' || n || ' dimensions, not ' || len(a)) ELSE a END",
    # distances (float64 accumulation)
    f"CREATE OR REPLACE MACRO {_S}.l2(a, b) AS coalesce({_S}.same(a, b), "
    "sqrt(list_sum(list_transform(a, lambda x, i: ((x - b[i])::DOUBLE) ** 2))))",
    f"CREATE OR REPLACE MACRO {_S}.ip(a, b) AS coalesce({_S}.same(a, b), "
    "list_sum(list_transform(a, lambda x, i: x::DOUBLE * b[i])))",
    f"CREATE OR REPLACE MACRO {_S}.norm(a) AS "
    "sqrt(list_sum(list_transform(a, lambda x: x::DOUBLE * x)))",
    # (DuckDB's least/greatest skip NULLs: a NULL operand is caught first)
    f"CREATE OR REPLACE MACRO {_S}.cosine(a, b) AS coalesce({_S}.same(a, b), CASE "
    "WHEN a IS NULL OR b IS NULL THEN NULL "
    f"WHEN {_S}.norm(a) * {_S}.norm(b) = 0 THEN 'NaN'::DOUBLE "
    f"ELSE 1 - greatest(-1.0, least(1.0, {_S}.ip(a, b) / ({_S}.norm(a) * {_S}.norm(b)))) END)",
    f"CREATE OR REPLACE MACRO {_S}.l1(a, b) AS coalesce({_S}.same(a, b), "
    "list_sum(list_transform(a, lambda x, i: abs((x - b[i])::DOUBLE))))",
    # element-wise arithmetic, concatenation: NULL if either side is (pgvector's functions
    # are STRICT; `x + b[i]` of a NULL b would give a list of NULLs, list_concat skips NULL)
    f"CREATE OR REPLACE MACRO {_S}.strict(a, b, r) AS "
    "CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE r END",
    f"CREATE OR REPLACE MACRO {_S}.add(a, b) AS {_S}.strict(a, b, coalesce({_S}.same(a, b), "
    f"{_S}.finite(list_transform(a, lambda x, i: x + b[i]))))",
    f"CREATE OR REPLACE MACRO {_S}.sub(a, b) AS {_S}.strict(a, b, coalesce({_S}.same(a, b), "
    f"{_S}.finite(list_transform(a, lambda x, i: x - b[i]))))",
    f"CREATE OR REPLACE MACRO {_S}.mul(a, b) AS {_S}.strict(a, b, coalesce({_S}.same(a, b), "
    "CASE WHEN list_bool_or(list_transform(a, lambda x, i: x * b[i] = 0 AND x <> 0 AND "
    "b[i] <> 0)) THEN error('[22003] value out of range: underflow') END, "
    f"{_S}.finite(list_transform(a, lambda x, i: x * b[i]))))",
    # real[] / double precision[] / integer[] / numeric[] -> vector (array_to_vector)
    f"CREATE OR REPLACE MACRO {_S}.fromarr(x) AS CASE "
    "WHEN list_bool_or(list_transform(x, lambda e: e IS NULL)) THEN "
    "error('[22004] array must not contain nulls') "
    "WHEN list_bool_or(list_transform(x, lambda e: isnan(e))) THEN "
    "error('[22000] NaN not allowed in vector') "
    "WHEN list_bool_or(list_transform(x, lambda e: isinf(e))) THEN "
    "error('[22000] infinite value not allowed in vector') "
    f"ELSE {_S}.dimok(x) END",
    f"CREATE OR REPLACE MACRO {_S}.cat(a, b) AS {_S}.strict(a, b, {_S}.dimok(list_concat(a, b)))",
    # functions
    f"CREATE OR REPLACE MACRO {_S}.dims(a) AS len(a)::INTEGER",
    f"CREATE OR REPLACE MACRO {_S}.normalize(a) AS CASE WHEN {_S}.norm(a) > 0 THEN "
    f"{_S}.finite(list_transform(a, lambda x: (x / {_S}.norm(a))::FLOAT)) ELSE a END",
    # subvector: pgvector's clamping (end = start + count computed before start is clamped)
    f"CREATE OR REPLACE MACRO {_S}.subvector(a, s, c) AS CASE "
    "WHEN s > len(a) OR least(s + c, len(a) + 1) - greatest(s, 1) < 1 THEN "
    "error('[22000] vector must have at least 1 dimension') "
    "ELSE a[greatest(s, 1):least(s + c, len(a) + 1) - 1] END",
    f"CREATE OR REPLACE MACRO {_S}.bq(a) AS array_to_string(list_transform(a, "
    "lambda x: CASE WHEN x > 0 THEN '1' ELSE '0' END), '')::BIT",
    # aggregates: avg accumulates in float64 (vector_accum), sum in float32 (vector_add);
    # NULL without a non-NULL input (list_reduce refuses an empty list)
    # the first non-NULL row's dimension against another one
    f"CREATE OR REPLACE MACRO {_S}.dim1(v) AS "
    "list_filter(list(len(v)), lambda d: d IS NOT NULL)[1]",
    f"CREATE OR REPLACE MACRO {_S}.samedims(v, what, sep) AS CASE WHEN min(len(v)) <> max(len(v)) "
    f"THEN error('[22000] ' || what || {_S}.dim1(v) || sep || CASE WHEN {_S}.dim1(v) = min(len(v)) "
    "THEN max(len(v)) ELSE min(len(v)) END) END",
    f"CREATE OR REPLACE MACRO {_S}.vavg(v) AS CASE WHEN count(v) > 0 THEN coalesce("
    f"{_S}.samedims(v, 'expected ', ' dimensions, not '), list_transform(list_reduce("
    "list_filter(list(v::DOUBLE[]), lambda l: l IS NOT NULL), "
    "lambda a, b: list_transform(a, lambda x, i: x + b[i])), "
    "lambda x: (x / count(v))::FLOAT)) END",
    f"CREATE OR REPLACE MACRO {_S}.vsum(v) AS CASE WHEN count(v) > 0 THEN coalesce("
    f"{_S}.samedims(v, 'different vector dimensions ', ' and '), {_S}.finite(list_reduce("
    "list_filter(list(v), lambda l: l IS NOT NULL), "
    "lambda a, b: list_transform(a, lambda x, i: x + b[i])))) END",
    # bit: <~> hamming, <%> jaccard (pgvector's bit.c)
    f"CREATE OR REPLACE MACRO {_S}.samebits(a, b) AS CASE WHEN bit_length(a) <> bit_length(b) "
    "THEN error('[22000] different bit lengths ' || bit_length(a) || ' and ' || bit_length(b)) "
    "END",
    f"CREATE OR REPLACE MACRO {_S}.hamming(a, b) AS coalesce({_S}.samebits(a, b), "
    "bit_count(xor(a, b))::DOUBLE)",
    f"CREATE OR REPLACE MACRO {_S}.jaccard(a, b) AS coalesce({_S}.samebits(a, b), CASE "
    "WHEN bit_count(a & b) = 0 THEN 1.0::DOUBLE "
    "ELSE 1 - bit_count(a & b) / (bit_count(a) + bit_count(b) - bit_count(a & b))::DOUBLE END)",
    # text (approximate float4 output; the exact one is done in Python for result columns)
    f"CREATE OR REPLACE MACRO {_S}.text(a) AS '[' || array_to_string(list_transform(a, "
    "lambda x: regexp_replace(x::VARCHAR, '\\.0$', '')), ',') || ']'",
    # arrays of tagged values (`STRUCT(__vgv FLOAT[])[]`): their lists; array_out's text
    f"CREATE OR REPLACE MACRO {_S}.untag(l) AS "
    "list_transform(l, lambda p: struct_extract_at(p, 1))",
    f"CREATE OR REPLACE MACRO {_S}.atext(l) AS '{{' || array_to_string(list_transform("
    f"{_S}.untag(l), lambda v: CASE WHEN v IS NULL THEN 'NULL' ELSE '\"' || {_S}.text(v) || "
    "'\"' END), ',') || '}'",
    f"CREATE OR REPLACE MACRO {_S}.astext(l) AS '{{' || array_to_string(list_transform("
    f"{_S}.untag(l), lambda v: CASE WHEN v IS NULL THEN 'NULL' ELSE '\"' || {_S}.stext(v) || "
    "'\"' END), ',') || '}'",
    f"CREATE OR REPLACE MACRO {_S}.stext(a) AS '{{' || array_to_string(list_filter("
    "list_transform(a, lambda x, i: CASE WHEN x <> 0 THEN i || ':' || "
    "regexp_replace(x::VARCHAR, '\\.0$', '') END), lambda s: s IS NOT NULL), ',') || "
    "'}/' || len(a)",
]

_lock = threading.Lock()
_done: weakref.WeakSet[object] = weakref.WeakSet()


def ensure(cur: duckdb.DuckDBPyConnection, db: object) -> None:
    """Create or refresh the `__vg_fn` macros in this database (once per process)."""
    with _lock:
        if db in _done:
            return
        cur.execute("BEGIN")
        try:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for stmt in _MACROS:
                cur.execute(stmt)
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        _done.add(db)


# ------------------------------------------------------------------------------ the pass

# name -> (number of vector arguments, result kind); result "vector" is a FLOAT[] list
_FUNCS: dict[str, tuple[int, int, str]] = {
    # name: (arity, leading vector args, result)
    "l2_distance": (2, 2, "scalar"),
    "cosine_distance": (2, 2, "scalar"),
    "inner_product": (2, 2, "scalar"),
    "l1_distance": (2, 2, "scalar"),
    "vector_dims": (1, 1, "scalar"),
    "vector_norm": (1, 1, "scalar"),
    "l2_norm": (1, 1, "scalar"),  # (pgvector's name for halfvec and sparsevec)
    "l2_normalize": (1, 1, "vector"),
    "subvector": (3, 1, "vector"),
    "binary_quantize": (1, 1, "scalar"),
}
_MACRO_OF = {
    "l2_distance": "l2",
    "cosine_distance": "cosine",
    "inner_product": "ip",
    "l1_distance": "l1",
    "vector_dims": "dims",
    "vector_norm": "norm",
    "l2_norm": "norm",
    "l2_normalize": "normalize",
    "subvector": "subvector",
    "binary_quantize": "bq",
}
_DISTANCE_FUNCS: dict[str, type[VectorDistance]] = {
    "l2_distance": L2Distance,
    "cosine_distance": CosineDistance,
    "l1_distance": L1Distance,
    "hamming_distance": HammingDistance,
    "jaccard_distance": JaccardDistance,
}
_METRIC_MACRO = {"l2": "l2", "cosine": "cosine", "l1": "l1"}
_BIT_METRICS = {"hamming", "jaccard"}
_ARITH = {exp.Add: "add", exp.Sub: "sub", exp.Mul: "mul", exp.DPipe: "cat"}
# pgvector's btree comparisons (vector_cmp: element by element, then by dimension) are
# DuckDB's FLOAT[] comparisons; a sparsevec compares as its dense values (as sparsevec_cmp)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)


def quantified_array(node: exp.Expression) -> tuple[str, exp.Expression] | None:
    """("any" | "all", the array) when `node` is `ANY(array)`, `SOME(array)` or `ALL(array)`."""
    if isinstance(node, exp.Any | exp.All):
        word, args = ("any" if isinstance(node, exp.Any) else "all"), [node.this]
    elif isinstance(node, exp.Anonymous) and str(node.this).upper() in ("ANY", "SOME", "ALL"):
        word, args = ("all" if str(node.this).upper() == "ALL" else "any"), node.expressions
    else:
        return None
    if len(args) != 1:
        return None
    array = args[0]
    while isinstance(array, exp.Paren):
        array = array.this
    if isinstance(array, exp.Subquery | exp.Select):
        raise FeatureNotSupported("vector comparisons with ANY/ALL (subquery) are not supported")
    return word, array


def array_elements(node: exp.Expression) -> list[exp.Expression]:
    """The elements of a constant array of vectors: `ARRAY[...]`, a `'{...}'` literal (its
    text as array_in reads it), either cast to `vector[]` (`halfvec[]`, `sparsevec[]`:
    each element then gets the cast)."""
    while isinstance(node, exp.Paren):
        node = node.this
    elem_type: exp.DataType | None = None
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.ARRAY:
        inner = node.to.expressions[0] if node.to.expressions else None
        if isinstance(inner, exp.DataType) and is_vector_type(inner):
            elem_type = inner
        node = node.this
        while isinstance(node, exp.Paren):
            node = node.this
    if isinstance(node, exp.Array):
        elems = list(node.expressions)
    elif isinstance(node, exp.Literal) and node.is_string:
        from sqlfront.pgtypes import parse_array_text

        elems = [
            exp.Null() if text is None else exp.Literal.string(text)
            for text in _flat(parse_array_text(node.this, str))
        ]
    elif isinstance(node, exp.Null):
        elems = [exp.Null()]  # ANY(NULL): NULL, as an array whose comparisons are unknown
    else:
        raise FeatureNotSupported(
            f"vector comparisons with ANY/ALL ({node.sql('postgres')[:60]}) are not supported"
        )
    if elem_type is None:
        return elems
    return [e if isinstance(e, exp.Null) else exp.Cast(this=e, to=elem_type.copy()) for e in elems]


def _flat(values: list) -> list:
    out: list = []
    for v in values:
        out.extend(_flat(v) if isinstance(v, list) else [v])
    return out


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Dot(
        this=exp.to_identifier(SCHEMA), expression=exp.Anonymous(this=name, expressions=args)
    )


def _func_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        return name if name in _FUNCS else None
    return None


def vector_type_name(dt: exp.Expression) -> str | None:
    """ "vector" or "halfvec" if `dt` is one of those types (with or without dimensions)."""
    if not isinstance(dt, exp.DataType):
        return None
    if dt.this == exp.DataType.Type.VECTOR:
        return "vector"
    kind = dt.args.get("kind")
    name = (kind.name if isinstance(kind, exp.Expression) else str(kind or "")).lower()
    return name if name in ("vector", "halfvec", "sparsevec") else None


def is_vector_type(dt: exp.Expression) -> bool:
    return vector_type_name(dt) is not None


def is_plain_cast(cast: exp.Cast, pg_type: str) -> bool:
    """Whether `cast` is `::vector` (no dimension) of a value of that type: the value itself."""
    return vector_typmod(cast.to) is None and vector_type_name(cast.to) == pg_type


def tagged_type(node: exp.Expression) -> str | None:
    """The pgvector type of a vector value this pass already translated (`{__vgv: ...}`, or
    its NULL-safe `CASE`), else None."""
    if isinstance(node, exp.Case) and isinstance(node.args.get("default"), exp.Struct):
        node = node.args["default"]
    if not isinstance(node, exp.Struct) or len(node.expressions) != 1:
        return None
    field = node.expressions[0]
    return _TYPE_OF_TAG.get(field.name) if isinstance(field, exp.PropertyEQ) else None


def computed_type(
    ctx: BindContext, node: exp.Expression, depth: int = 0
) -> tuple[str | None, int | None]:
    """(pgvector type, typmod) of a select item that leaves its query as a computed vector
    value (`e + e`, `l2_normalize(e)`, `'[1,2]'::vector(2)`, `avg(e)`), else (None, None).
    `depth`: how deep in derived queries `node` is (see `vector_refs.column_hit`)."""
    tagged = tagged_type(node)
    if tagged is not None:
        return tagged, None
    r = _Rewriter(ctx, [], depth=depth)
    if r.kind(node) != "vector":
        return None, None
    typmod = vector_typmod(node.to) if isinstance(node, exp.Cast) else None
    return r.source_type(node), typmod


def vector_typmod(dt: exp.DataType) -> int | None:
    """The dimension of `vector(n)` (checked as pgvector's typmod_in does), or None."""
    for p in dt.expressions:
        v = p.this if isinstance(p, exp.DataTypeParam) else p
        if isinstance(v, exp.Literal) and v.name.lstrip("-").isdigit():
            return check_typmod(vector_type_name(dt) or "vector", int(v.name))
    return None


def function_to_operator(tree: exp.Expression) -> None:
    """`l2_distance(a, b)` -> `a <-> b` (also cosine, l1; `inner_product` -> `-(a <#> b)`), so
    that a column against a constant keeps the numpy and kNN paths."""
    for node in list(tree.find_all(exp.Anonymous, exp.CosineDistance)):
        if isinstance(node, exp.CosineDistance):  # sqlglot's own node for cosine_distance()
            node.replace(CosineDistance(this=node.this, expression=node.expression))
            continue
        name = str(node.this).lower()
        if len(node.expressions) != 2:
            continue
        a, b = node.expressions
        if name in _DISTANCE_FUNCS:
            node.replace(_DISTANCE_FUNCS[name](this=a, expression=b))
        elif name == "inner_product":
            node.replace(exp.Neg(this=exp.Paren(this=NegInnerProduct(this=a, expression=b))))


class _Rewriter:
    def __init__(
        self,
        ctx: BindContext,
        rels: list[VectorRelation],
        top: exp.Expression | None = None,
        depth: int = 0,
    ) -> None:
        from sqlfront import binder

        self.b = binder
        self.ctx = ctx
        self.rels = rels
        self.top = top
        self.depth = depth  # classifying a derived query's item: how deep it is
        self.joins: dict[tuple[int, str, str], str] = {}

    # -- classification
    def kind(self, node: exp.Expression) -> str | None:
        """Whether `node` certainly has type vector ("vector") or not (None)."""
        if isinstance(node, exp.Paren):
            return self.kind(node.this)
        if isinstance(node, exp.Column):
            return "vector" if self.hit_of(node) else None
        if isinstance(node, exp.Cast):
            return "vector" if is_vector_type(node.to) else None
        if tagged_type(node) is not None:
            return "vector"
        if isinstance(node, exp.Literal):
            return "vector" if "vector" in node.meta else None
        name = _func_name(node)
        if name is not None:
            return "vector" if _FUNCS[name][2] == "vector" else None
        if type(node) in _ARITH:
            if self.kind(node.this) or self.kind(node.expression):  # type: ignore[arg-type]
                return "vector"
            return None
        if isinstance(node, exp.Avg | exp.Sum):
            return self.kind(node.this)
        if isinstance(node, exp.Coalesce):
            args = [node.this, *node.expressions]
            return "vector" if any(self.kind(a) for a in args) else None
        return None

    def is_root(self, node: exp.Expression) -> bool:
        """Whether `node` is a vector expression this pass must translate."""
        if isinstance(node, VectorDistance):
            return self.b.analyze_distance(self.ctx, node) is self.b.GENERIC
        if _func_name(node) is not None:
            return True
        if isinstance(node, _COMPARISONS):
            return self.kind(node.this) == "vector" or self.kind(node.expression) == "vector"
        if isinstance(node, exp.In) and node.expressions:
            return self.kind(node.this) == "vector"
        if type(node) in _ARITH or isinstance(node, exp.Avg | exp.Sum | exp.Coalesce):
            return self.kind(node) == "vector"
        if isinstance(node, exp.Cast):
            if is_vector_type(node.to):  # a plain `col::vector` is the column itself
                hit = self.ref_of(node.this)
                return hit is None or not is_plain_cast(node, hit.pg_type)
            if _is_text_type(node.to) and self.vector_elements(node.this) is not None:
                return True
            return self.kind(node.this) == "vector"
        return False

    def hoist_join_conditions(self, select: exp.Select) -> None:
        """An inner join's ON with a vector expression (`a.e = b.e`) moves to WHERE: the
        vectors' helper joins come after every FROM item, too late for an ON clause."""
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            if on is None or not any(
                self.is_root(n) for n in on.walk() if isinstance(n, exp.Expression)
            ):
                continue
            if join.args.get("side") or str(join.args.get("kind") or "").upper() not in (
                "",
                "INNER",
            ):
                raise FeatureNotSupported(
                    "vector expressions in the ON clause of an outer join are not supported"
                )
            join.set("on", exp.true())
            select.where(on.copy(), append=True, copy=False)

    def order_by_vector(self, item: exp.Ordered) -> None:
        """ORDER BY a vector column sorts by its values (vector_cmp), not by its slots; in a
        grouped query the values join the GROUP BY (one value per slot, so the groups stay)."""
        col = item.this
        select = item.parent.parent if item.parent is not None else None
        value = self.vec(col)
        item.set("this", value)
        group = select.args.get("group") if isinstance(select, exp.Select) else None
        if group is not None:
            group.append("expressions", value.copy())

    # -- grouping by value: equal vectors of different rows are one group, as in Postgres
    def group_by_value(self, select: exp.Select) -> None:
        """`GROUP BY e` groups by the vectors' values; a select item that is the grouped
        column itself returns `any_value(e)`: any row's pointer of the group (all hold the same
        value)."""
        group = select.args.get("group")
        if group is None:
            return
        grouped: set[tuple[str, str]] = set()
        for e in list(group.expressions):
            item = None if self.is_input_column(select, e) else self.output_column(select, e)
            if item is not None:  # GROUP BY 1 / GROUP BY <output name>
                e = e.replace(item.copy())
            key = self.vector_column_key(e)
            if key is not None:
                grouped.add(key)
                e.replace(self.vec(e))
        if not grouped:
            return
        self.distances_of_groups(select, grouped)
        for item in select.expressions:
            inner = item.this if isinstance(item, exp.Alias) else item
            if self.vector_column_key(inner) in grouped:
                value = exp.Anonymous(this="any_value", expressions=[inner.copy()])
                if isinstance(item, exp.Alias):
                    inner.replace(value)
                else:
                    item.replace(exp.alias_(value, inner.name, quoted=True))

    def distances_of_groups(self, select: exp.Select, grouped: set[tuple[str, str]]) -> None:
        """A distance of a grouped vector column outside an aggregate (`e <-> q` next to
        `GROUP BY e`) is `any_value(e <-> q)`: the same for every row of the group, and it
        keeps its float32 numpy path (a lookup by the row's slot)."""
        parts = [*select.expressions, select.args.get("having"), select.args.get("order")]
        for part in parts:
            if part is None:
                continue
            for node in list(part.find_all(VectorDistance)):
                if node.find_ancestor(exp.AggFunc) is not None:
                    continue
                cols = [node.this, node.expression]
                if any(self.vector_column_key(c) in grouped for c in cols):
                    node.replace(exp.Anonymous(this="any_value", expressions=[node.copy()]))

    def distinct_by_value(self, select: exp.Select) -> None:
        """`SELECT DISTINCT ..., e` (no aggregates, no GROUP BY) is `GROUP BY` its items, so
        that `group_by_value` makes the vectors compare by value (`*` is expanded first);
        `DISTINCT ON (e)` compares the values of e."""
        distinct = select.args.get("distinct")
        if distinct is None or select.args.get("group"):
            return
        on = distinct.args.get("on")
        if on is not None:
            for e in list(on.expressions if isinstance(on, exp.Tuple) else [on]):
                if self.vector_column_key(e) is not None:
                    e.replace(self.vec(e))
            return
        self.expand_stars(select)
        items = [e.this if isinstance(e, exp.Alias) else e for e in select.expressions]
        if not any(self.vector_column_key(e) is not None for e in items):
            return
        if any(e.find(exp.AggFunc, exp.Window, exp.Star) for e in items):
            return
        select.set("distinct", None)
        select.set("group", exp.Group(expressions=[e.copy() for e in items]))

    def output_column(self, select: exp.Select, node: exp.Expression) -> exp.Column | None:
        """The vector column a GROUP BY / ORDER BY item names by position (`1`) or by output
        name (an alias), as Postgres resolves them; else None."""
        items = select.expressions
        target: exp.Expression | None = None
        if isinstance(node, exp.Literal) and node.is_int:
            n = int(node.name)
            target = items[n - 1] if 1 <= n <= len(items) else None
        elif isinstance(node, exp.Column) and not node.table:
            target = next(
                (e for e in items if isinstance(e, exp.Alias) and e.alias == node.name), None
            )
        inner = target.this if isinstance(target, exp.Alias) else target
        if inner is None or self.vector_column_key(inner) is None:
            return None
        return inner  # type: ignore[return-value]

    def is_input_column(self, select: exp.Select, node: exp.Expression) -> bool:
        """Whether `node` names a column of a FROM item (GROUP BY prefers those to output
        names, as Postgres does)."""
        if not isinstance(node, exp.Column):
            return False
        for ref, item in from_items(select):
            if node.table and node.table != ref:
                continue
            if any(name == node.name for name, _ in item_outputs(self.ctx, ref, item) or []):
                return True
        return False

    def resolve_order_outputs(self, select: exp.Select) -> None:
        """ORDER BY 1 / ORDER BY <output name> of a vector column names the column: it then
        sorts by value like the column itself (before GROUP BY/DISTINCT rewrite the items)."""
        order = select.args.get("order")
        for ordered in order.expressions if order is not None else []:
            item = self.output_column(select, ordered.this)
            if item is not None:
                ordered.set("this", item.copy())

    def expand_stars(self, select: exp.Select) -> None:
        """`*` / `t.*` -> the columns of the FROM items (when one has vector columns: a table,
        or a subquery or CTE passing one through), so that the vector columns can be compared
        by value; FROM items whose columns are not known keep `alias.*`."""
        if not any(is_star(e) for e in select.expressions):
            return
        joins = select.args.get("joins") or []
        if any(j.args.get("using") or j.args.get("method") for j in joins):
            return  # USING / NATURAL merge columns: leave `*` to DuckDB
        items = {ref: self.star_columns(ref, item) for ref, item in from_items(select)}
        if not any(isinstance(h, VectorRef) for cols in items.values() for _n, h in cols or []):
            return
        frm = select.args.get("from_")
        refs = ([frm.this.alias_or_name] if frm is not None else []) + [
            j.this.alias_or_name for j in joins
        ]
        new: list[exp.Expression] = []
        for e in select.expressions:
            if not is_star(e):
                new.append(e)
                continue
            for ref in refs if isinstance(e, exp.Star) else [e.table]:
                cols = items.get(ref)
                if cols is None:
                    new.append(exp.Column(this=exp.Star(), table=exp.to_identifier(ref)))
                else:
                    new.extend(exp.column(name, table=ref, quoted=True) for name, _ in cols)
        select.set("expressions", new)

    def star_columns(self, ref: str, item: exp.Expression) -> Outputs | None:
        """The columns `ref.*` stands for, if known and each named as DuckDB names it (a
        subquery's items plain columns or aliased)."""
        cols = item_outputs(self.ctx, ref, item)
        if cols is None or any(name is None for name, _ in cols):
            return None
        query = derived_query(item)
        if query is None:
            return cols
        leaves = set_leaves(query)
        named = exp.Alias | exp.Column | exp.Star
        if leaves is None or not all(isinstance(e, named) for e in leaves[0].expressions):
            return None
        return cols

    def value_result(self, col: exp.Column) -> exp.Expression:
        """A vector column as its value, as a computed vector leaves DuckDB
        (`STRUCT(__vgv FLOAT[])`; `__vgh` halfvec, `__vgs` sparsevec), NULL for a NULL vector.
        DuckDB compares such structs by their lists: pgvector's vector_cmp."""
        return _tagged_or_null(_TAGS[self.source_type(col)], self.vec(col))

    def array_agg_by_value(self, agg: exp.ArrayAgg) -> None:
        """`array_agg(DISTINCT e [ORDER BY e])` keeps one of each value, sorted by value as
        Postgres sorts a DISTINCT aggregate's input (NULLs last); its result is an array of
        values (`STRUCT(__vgv FLOAT[])[]`)."""
        order = agg.this if isinstance(agg.this, exp.Order) else None
        distinct = order.this if order is not None else agg.this
        if not isinstance(distinct, exp.Distinct) or len(distinct.expressions) != 1:
            return
        e = distinct.expressions[0]
        key = self.vector_column_key(e)
        if key is None:
            return
        value = self.value_result(e)
        if order is None:
            ordered = exp.Ordered(this=value.copy(), nulls_first=False)
            agg.set("this", exp.Order(this=distinct, expressions=[ordered]))
        else:
            for item in order.expressions:
                if self.vector_column_key(item.this) == key:
                    item.set("this", value.copy())
        e.replace(value)

    # -- set operations: the rows of the branches compare by value
    def set_operation_by_value(self, setop: exp.SetOperation) -> None:
        """A set operation's vector columns leave its branches as values (`value_result`)
        when it compares rows (all but UNION ALL), sorts them (its ORDER BY) or mixes stores or
        computed vectors in one column (DuckDB would merge their struct types): equal vectors
        of different rows are then one row, as in Postgres. A UNION ALL of one store's
        columns keeps the slot pointers (no lookup)."""
        if _set_root(setop) is not setop:
            return
        leaves = set_leaves(setop)
        if leaves is None:
            return
        for leaf in leaves:
            self.expand_stars(leaf)
        widths = {len(leaf.expressions) for leaf in leaves}
        if len(widths) != 1 or any(is_star(e) for leaf in leaves for e in leaf.expressions):
            return
        compares = set_compares(setop)
        names = [self.b.output_name(e) for e in leaves[0].expressions]
        ordered = set_order_positions(setop, names)
        for i in range(widths.pop()):
            items = [unalias(leaf.expressions[i]) for leaf in leaves]
            stores = [self.store_of(x) for x in items]
            if all(sid is None for sid in stores):
                self.literals_as_vectors(items)
                continue
            if compares or i in ordered or self.mixed_column(items, stores):
                self.column_by_value(items, stores)

    def mixed_column(self, items: list[exp.Expression], stores: list[int | None]) -> bool:
        """Whether one output column of a set operation mixes stores, computed vectors or
        unknown-typed literals (DuckDB would merge or refuse their types)."""
        if len({sid for sid in stores if sid is not None}) > 1:
            return True
        return any(
            sid is None and (_is_text_literal(x) or self.kind(x) == "vector")
            for x, sid in zip(items, stores, strict=True)
        )

    def literals_as_vectors(self, items: list[exp.Expression]) -> None:
        """A set operation's column of computed or constant vectors (no store): its
        unknown-typed literals become constants of that type, as Postgres resolves them
        (`SELECT '[1,2]'::vector UNION SELECT '[1,2]'`)."""
        typed = [x for x in items if not _is_text_literal(x) and self.kind(x) == "vector"]
        if not typed or not any(_is_text_literal(x) for x in items):
            return
        pg_type = self.source_type(typed[0])
        for x in items:
            if _is_text_literal(x):
                self.replace_item(x, self.literal_value(x, pg_type))

    def column_by_value(self, items: list[exp.Expression], stores: list[int | None]) -> None:
        """The vector columns of one output column of a set operation's branches as values,
        and an unknown-typed literal there as a constant of the column's type (as Postgres
        resolves it)."""
        first = next(x for x, sid in zip(items, stores, strict=True) if sid is not None)
        pg_type = self.source_type(first)
        for x, sid in zip(items, stores, strict=True):
            if sid is not None:
                self.replace_item(x, self.value_result(x))  # type: ignore[arg-type]
            elif _is_text_literal(x):
                self.replace_item(x, self.literal_value(x, pg_type))

    def literal_value(self, literal: exp.Expression, pg_type: str) -> exp.Expression:
        """An unknown-typed literal as a constant value of vector type `pg_type` (a halfvec's
        elements rounded, as its input function does)."""
        v = self.b.const_vector(self.ctx, literal, None)
        if pg_type == "halfvec" and isinstance(v, np.ndarray):
            v = round_halfvec(v)
        self.ctx.baked_constants = True
        return _tagged(_TAGS[pg_type], const_list(v))

    def replace_item(self, item: exp.Expression, value: exp.Expression) -> None:
        """Put `value` in place of a select item, keeping the item's output name."""
        name = self.b.output_name(item) or "?column?"
        aliased = isinstance(item.parent, exp.Alias)
        item.replace(value if aliased else exp.alias_(value, name, quoted=True))

    def ref_of(self, node: exp.Expression) -> VectorRef | None:
        """The store a plain vector column reference (of a table, or a subquery or CTE that
        passes one through) points into, else None."""
        return vector_ref(self.ctx, node, self.depth) if isinstance(node, exp.Column) else None

    def hit_of(self, node: exp.Expression) -> Hit | None:
        """What a column reference holds: a store's pointers, a derived column's computed
        vectors (`ComputedVector`), or None (not a vector column)."""
        return column_hit(self.ctx, node, self.depth) if isinstance(node, exp.Column) else None

    def store_of(self, node: exp.Expression) -> int | None:
        """The store id of a plain vector column reference, else None."""
        hit = self.ref_of(node)
        return hit.store_id if hit is not None else None

    def count_distinct_by_value(self, distinct: exp.Distinct) -> None:
        """`count(DISTINCT e)` counts distinct values."""
        for e in list(distinct.expressions):
            if self.vector_column_key(e) is not None:
                e.replace(self.vec(e))

    def vector_column_key(self, node: exp.Expression) -> tuple[str, str] | None:
        """(source, column) of a plain vector column reference, else None."""
        hit = self.ref_of(node)
        return (hit.ref, hit.column) if hit is not None else None

    def is_vector_column(self, node: exp.Expression) -> bool:
        return self.ref_of(node) is not None

    # -- translation
    def is_select_item(self, node: exp.Expression) -> bool:
        """Whether `node` is (the aliased expression of) an item of the top select list."""
        top = self.top
        if isinstance(node.parent, exp.Alias) and node.parent.this is node:
            node = node.parent
        return isinstance(top, exp.Select) and node.parent is top and node in top.expressions

    def rewrite(self, node: exp.Expression) -> None:
        if isinstance(node, exp.SetOperation):
            self.set_operation_by_value(node)
        if isinstance(node, exp.Select):
            self.hoist_join_conditions(node)
            self.resolve_order_outputs(node)
            self.distinct_by_value(node)
            self.group_by_value(node)
        for child in list(node.iter_expressions()):
            if isinstance(child, exp.Count) and isinstance(child.this, exp.Distinct):
                self.count_distinct_by_value(child.this)
            if isinstance(child, exp.ArrayAgg):
                self.array_agg_by_value(child)
            if isinstance(child, exp.Ordered) and self.is_vector_column(child.this):
                self.order_by_vector(child)
            elif self.is_root(child):
                child.replace(self.translate_root(child, self.is_select_item(child)))
            elif not isinstance(child, VectorDistance):  # those keep the numpy path
                self.rewrite(child)

    def translate_root(self, node: exp.Expression, select_item: bool) -> exp.Expression:
        if isinstance(node, exp.Cast) and not is_vector_type(node.to):
            return self.cast_from_vector(node, select_item)
        out, is_vec = self.value(node)
        if is_vec:
            return _tagged_or_null(_TAGS[self.result_type(node)], out)
        return out

    def result_type(self, node: exp.Expression) -> str:
        """ "vector", "halfvec" or "sparsevec": the type of a computed vector."""
        return self.source_type(node)

    def scalar(self, node: exp.Expression) -> exp.Expression:
        """A non-vector argument, with any vector expressions inside it translated."""
        if self.is_root(node):
            return self.translate_root(node, False)
        self.rewrite(node)
        return node

    def source_type(self, node: exp.Expression) -> str:
        """ "vector", "halfvec" or "sparsevec": the pgvector type of a vector expression (a
        column's, a cast's target; `l2_normalize`, `subvector`, `+ - * ||`, `avg`, `sum` and
        `coalesce` keep their first typed vector argument's, as in pgvector)."""
        if isinstance(node, exp.Paren):
            return self.source_type(node.this)
        if isinstance(node, exp.Column):
            hit = self.hit_of(node)
            return hit.pg_type if hit is not None else "vector"
        if isinstance(node, exp.Cast):
            return vector_type_name(node.to) or "vector"
        tagged = tagged_type(node)
        if tagged is not None:
            return tagged
        typed = [a for a in self.vector_args(node) if self.kind(a) == "vector"]
        return self.source_type(typed[0]) if typed else "vector"

    def vector_args(self, node: exp.Expression) -> list[exp.Expression]:
        """The arguments of a vector-valued function, operator or aggregate that give it its
        type (the vector ones, in order)."""
        name = _func_name(node)
        if name is not None:
            return list(node.expressions[: _FUNCS[name][1]])
        if type(node) in _ARITH:
            return [node.this, node.expression]
        if isinstance(node, exp.Avg | exp.Sum):
            return [node.this]
        if isinstance(node, exp.Coalesce):
            return [node.this, *node.expressions]
        return []

    def vector_elements(self, node: exp.Expression) -> list[exp.Expression] | None:
        """The element expressions of an array of vectors (`array_agg(v)`, `ARRAY[v, w]`),
        else None."""
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.ArrayAgg):
            inner = _agg_input(node)
            elems = inner.expressions if isinstance(inner, exp.Distinct) else [inner]
        elif isinstance(node, exp.Array):
            elems = node.expressions
        else:
            return None
        return elems if any(self.kind(e) == "vector" for e in elems) else None

    def array_text(self, node: exp.Expression, select_item: bool) -> exp.Expression:
        """`<array of vectors>::text`: array_out over the elements' text (`{"[1,2]",NULL}`).
        The elements become values (`value_result`); a top-level result leaves DuckDB as
        their lists (`ARRAY_TEXT_FIELD`), printed exactly by the session."""
        while isinstance(node, exp.Paren):
            node = node.this
        elems = self.vector_elements(node) or []
        first = next(e for e in elems if self.kind(e) == "vector")
        sparse = self.source_type(first) == "sparsevec"
        tag = _TAGS[self.source_type(first)]
        if isinstance(node, exp.ArrayAgg) and isinstance(_agg_input(node), exp.Distinct):
            self.array_agg_by_value(node)
        for e in elems:
            if self.store_of(e) is not None:
                e.replace(self.value_result(e))  # type: ignore[arg-type]
            elif _is_text_literal(e):
                e.replace(_tagged(tag, const_list(self.b.const_vector(self.ctx, e, None))))
                self.ctx.baked_constants = True
        self.rewrite(node)
        if select_item:
            field = SPARSE_ARRAY_TEXT_FIELD if sparse else ARRAY_TEXT_FIELD
            return _tagged(field, _call("untag", node))
        return _call("astext" if sparse else "atext", node)

    def cast_from_vector(self, node: exp.Cast, select_item: bool) -> exp.Expression:
        if _is_text_type(node.to) and self.vector_elements(node.this) is not None:
            return self.array_text(node.this, select_item)
        lst = self.vec(node.this)
        to = node.to
        if to.this in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR):
            sparse = self.source_type(node.this) == "sparsevec"
            if select_item:
                tag = SPARSE_TEXT_FIELD if sparse else TEXT_FIELD
                return exp.Struct(
                    expressions=[exp.PropertyEQ(this=exp.to_identifier(tag), expression=lst)]
                )
            return _call("stext" if sparse else "text", lst)
        if (
            to.this == exp.DataType.Type.ARRAY
            and to.expressions
            and to.expressions[0].this == exp.DataType.Type.FLOAT
        ):
            return lst
        raise PgError(f"cannot cast type vector to {to.sql('postgres')}", sqlstate="42846")

    def operands(self, node: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
        """Both operands of a binary vector operator as FLOAT[]: an unknown-typed literal
        takes the other operand's type, as Postgres resolves it (a halfvec's elements are
        rounded: `(h + h) <-> '[0.1,0.2]'`)."""
        return (
            self.operand(node.this, node.expression),
            self.operand(node.expression, node.this),
        )

    def operand(self, node: exp.Expression, other: exp.Expression) -> exp.Expression:
        if _is_text_literal(node) and self.kind(other) == "vector":
            if self.source_type(other) == "halfvec":
                v = self.b.const_vector(self.ctx, node, None)
                if isinstance(v, np.ndarray):
                    self.ctx.baked_constants = True
                    return const_list(round_halfvec(v))
        return self.vec(node)

    def value(self, node: exp.Expression) -> tuple[exp.Expression, bool]:
        """DuckDB expression for a vector-operation root, and whether it is a FLOAT[]."""
        if isinstance(node, VectorDistance):
            if node.metric in _BIT_METRICS:
                return _call(node.metric, self.bits(node.this), self.bits(node.expression)), False
            macro = _METRIC_MACRO.get(node.metric)
            if node.metric == "ip":
                return exp.Neg(this=_call("ip", *self.operands(node))), False
            if macro is None:
                raise FeatureNotSupported(f"operator {node.op} on these operands is not supported")
            return _call(macro, *self.operands(node)), False
        name = _func_name(node)
        if name is not None:
            arity, nvec, res = _FUNCS[name]
            args = node.expressions
            if len(args) != arity:
                raise PgError(
                    f"function {name} with {len(args)} arguments does not exist",
                    sqlstate="42883",
                )
            conv = [self.vec(a) for a in args[:nvec]] + [self.scalar(a) for a in args[nvec:]]
            return _call(_MACRO_OF[name], *conv), res == "vector"
        if type(node) in _ARITH:
            return _call(_ARITH[type(node)], *self.operands(node)), True
        if isinstance(node, exp.Avg | exp.Sum):
            macro = "vavg" if isinstance(node, exp.Avg) else "vsum"
            return _call(macro, self.vec(node.this)), True
        if isinstance(node, exp.Coalesce):  # its other arguments are read as vectors
            args = [self.vec(a) for a in [node.this, *node.expressions]]
            return exp.Coalesce(this=args[0], expressions=args[1:]), True
        if isinstance(node, exp.Cast):
            return self.vec(node), True
        if isinstance(node, _COMPARISONS):
            quantified = quantified_array(node.expression)
            if quantified is not None:
                return self.quantified_comparison(node, *quantified), False
            this, expression = self.operands(node)
            return type(node)(this=this, expression=expression), False
        if isinstance(node, exp.In):
            out = exp.In(
                this=self.vec(node.this), expressions=[self.vec(e) for e in node.expressions]
            )
            return (exp.Not(this=out) if node.args.get("is_not") else out), False
        raise FeatureNotSupported(f"vector expression {node.sql()[:60]} is not supported")

    def quantified_comparison(
        self, node: exp.Expression, quantifier: str, array: exp.Expression
    ) -> exp.Expression:
        """`v op ANY(array)` / `v op ALL(array)` over a constant array of vectors: one
        comparison per element, OR-ed (ANY) or AND-ed (ALL), which keeps SQL's NULL logic (a
        NULL element compares as NULL; an empty array: ANY is false, ALL is true)."""
        left = self.vec(node.this)
        parts = [
            exp.Null()
            if isinstance(e, exp.Null)
            else type(node)(this=left.copy(), expression=self.vec(e))
            for e in array_elements(array)
        ]
        if not parts:
            return exp.Boolean(this=quantifier == "all")
        joined = exp.or_(*parts) if quantifier == "any" else exp.and_(*parts)
        return exp.Paren(this=joined)

    def bits(self, node: exp.Expression) -> exp.Expression:
        """DuckDB BIT expression for an operand of `<~>` / `<%>`."""
        if isinstance(node, exp.Paren):
            return self.bits(node.this)
        if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.BIT:
            node = node.this
        if isinstance(node, exp.BitString | exp.HexString):  # B'1010', X'1F'
            return self.b.bit_string(node)
        blob = _bit_param_text(node)
        if blob is not None:
            node = exp.Literal.string(blob)
        if isinstance(node, exp.Literal) and node.is_string:
            text = node.this
            if not text or set(text) - {"0", "1"}:
                bad = next((c for c in text if c not in "01"), "")
                raise PgError(
                    f'"{bad}" is not a valid binary digit' if bad else "bit string is empty",
                    sqlstate="22P02",
                )
            return exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build("BIT"))
        if isinstance(node, exp.Null):
            return exp.Cast(this=exp.Null(), to=exp.DataType.build("BIT"))
        return self.scalar(node)

    def vec(self, node: exp.Expression) -> exp.Expression:
        """DuckDB FLOAT[] expression for a node in a vector-argument position."""
        b = self.b
        if isinstance(node, exp.Paren):
            return self.vec(node.this)
        if isinstance(node, exp.Column):
            hit = self.hit_of(node)
            if isinstance(hit, ComputedVector):  # a tagged value struct: its list
                return exp.Anonymous(
                    this="struct_extract_at", expressions=[node.copy(), exp.Literal.number(1)]
                )
            if hit is None:
                return exp.Cast(this=self.scalar(node), to=_float_list())
            return self.column(node, hit)
        if isinstance(node, exp.Cast) and is_vector_type(node.to):
            n = vector_typmod(node.to)
            inner = node.this
            if b.is_const_vector_node(inner):
                v = b.const_vector(self.ctx, node, n)
                if v is not None and n is not None and vector_dim(v) != n:
                    raise PgError(f"expected {n} dimensions, not {vector_dim(v)}", sqlstate="22000")
                if v is not None and vector_type_name(node.to) == "halfvec":
                    v = round_halfvec(v)
                self.ctx.baked_constants = True
                return const_list(v)
            if self.kind(inner) == "vector":
                lst = self.vec(inner)
                if vector_type_name(node.to) != "sparsevec" and self.source_type(inner) == (
                    "sparsevec"
                ):
                    lst = _call("dimok", lst)  # a sparsevec may have more than 16000
            else:  # real[], double precision[], integer[], numeric[] or text expressions
                lst = _call("fromarr", exp.Cast(this=self.scalar(inner), to=_float_list()))
            return _call("typmod", lst, exp.Literal.number(n)) if n is not None else lst
        if b.is_const_vector_node(node):
            self.ctx.baked_constants = True
            return const_list(b.const_vector(self.ctx, node, None))
        if self.is_root(node) and not isinstance(node, exp.Cast):
            out, is_vec = self.value(node)
            if is_vec:
                return out
        raise PgError(
            f"function argument {node.sql('postgres')[:60]} is not a vector", sqlstate="42883"
        )

    def column(self, node: exp.Column, hit: VectorRef) -> exp.Expression:
        """`alias.v` of a LEFT JOIN of the store's relation added to the column's SELECT (a
        correlated subquery would end up inside the macros' lambdas, which DuckDB refuses)."""
        ref, column, store_id = hit.ref, hit.column, hit.store_id
        rel = next((r for r in self.rels if r.store_id == store_id), None)
        if rel is None:
            rel = VectorRelation(name=f"__vv{store_id}", store_id=store_id)
            self.rels.append(rel)
        select = self.scope(node, ref)
        if select is None:
            raise FeatureNotSupported("vector functions are supported in SELECT statements only")
        key = (id(select), ref, column)
        alias = self.joins.get(key)
        if alias is None:
            alias = f"__vj{len(self.joins) + 1}"
            self.joins[key] = alias
            rel.uses += 1
            rel.slots_sql = (
                self.slots_sql(select, hit.table, column, store_id)
                if rel.uses == 1 and hit.table is not None
                else None
            )
            _qualify_star(select)
            select.join(
                exp.alias_(exp.to_table(rel.name), alias, table=True),
                on=exp.EQ(
                    this=exp.column(VectorRelation.SLOT, table=alias),
                    expression=exp.Anonymous(
                        this="struct_extract",
                        expressions=[
                            exp.column(column, table=ref, quoted=True),
                            exp.Literal.string(slot_field(store_id)),
                        ],
                    ),
                ),
                join_type="left",
                copy=False,
            )
        return exp.column(VectorRelation.VALUE, table=alias)

    def slots_sql(self, select: exp.Select, table: str, column: str, store_id: int) -> str | None:
        """SQL listing the slots a single-table, filtered top-level SELECT can read, so that
        only those vectors are registered (DuckDB is the payload index, as for kNN)."""
        where = select.args.get("where")
        if select is not self.top or where is None or select.args.get("joins"):
            return None
        frm = select.args.get("from_")
        if frm is None or not isinstance(frm.this, exp.Table):
            return None
        if where.find(exp.Subquery, VectorDistance) or has_vector_ops(self.ctx, where):
            return None
        from engine.catalog import slots_sql

        return slots_sql(table, column, store_id, self.b.to_duck(where.this.copy()))

    def scope(self, node: exp.Expression, ref: str) -> exp.Select | None:
        """The SELECT whose FROM/JOIN list provides `ref` for `node`."""
        scope = node.parent
        while scope is not None:
            if isinstance(scope, exp.Select) and any(r == ref for r, _t in from_items(scope)):
                return scope
            if isinstance(scope, exp.Update | exp.Delete | exp.Insert):
                return None
            scope = scope.parent
        return None


def _tagged(tag: str, value: exp.Expression) -> exp.Expression:
    """`{tag: value}`: a vector value as it leaves DuckDB (see `VALUE_FIELD`)."""
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(tag), expression=value)])


def _tagged_or_null(tag: str, value: exp.Expression) -> exp.Expression:
    """`{tag: value}`, or NULL when `value` is NULL: a NULL vector stays a SQL NULL (`IS
    NULL`, `coalesce`, outer queries), not a struct holding a NULL list."""
    is_null = exp.Is(this=value.copy(), expression=exp.Null())
    return exp.Case(ifs=[exp.If(this=is_null, true=exp.Null())], default=_tagged(tag, value))


def _is_text_type(dt: exp.DataType) -> bool:
    return dt.this in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)


def _agg_input(agg: exp.ArrayAgg) -> exp.Expression:
    """What an array_agg aggregates (`DISTINCT x`, `x`), without its ORDER BY."""
    return agg.this.this if isinstance(agg.this, exp.Order) else agg.this


def _is_text_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _set_root(node: exp.SetOperation) -> exp.SetOperation:
    """The outermost set operation `node` is a branch of (through parentheses)."""
    root, up = node, node.parent
    while isinstance(up, exp.Subquery | exp.Paren | exp.SetOperation) and not up.alias:
        if isinstance(up, exp.SetOperation):
            root = up
        up = up.parent
    return root


def _qualify_star(select: exp.Select) -> None:
    """`SELECT *` -> `SELECT a.*, b.*` over the FROM items, before helper joins are added."""
    if not any(isinstance(e, exp.Star) for e in select.expressions):
        return
    frm = select.args.get("from_")
    items = ([frm.this] if frm is not None else []) + [
        j.this for j in select.args.get("joins") or []
    ]
    stars = [exp.Column(this=exp.Star(), table=exp.to_identifier(i.alias_or_name)) for i in items]
    new: list[exp.Expression] = []
    for e in select.expressions:
        new.extend(s.copy() for s in stars) if isinstance(e, exp.Star) else new.append(e)
    select.set("expressions", new)


def _bit_param_text(node: exp.Expression) -> str | None:
    """A binary `bit` parameter (`bit_send`: int32 length, then the bits, high bit first)
    reaches the binder as raw bytes, i.e. `CAST('\\x..' AS BLOB)`: its bit string."""
    if not (
        isinstance(node, exp.Cast)
        and node.to.this in (exp.DataType.Type.VARBINARY, exp.DataType.Type.BLOB)
        and isinstance(node.this, exp.Literal)
        and node.this.is_string
    ):
        return None
    text = node.this.this
    try:
        raw = bytes(int(h, 16) for h in text.split("\\x")[1:])
    except ValueError:
        return None
    if len(raw) < 4:
        return None
    nbits = int.from_bytes(raw[:4], "big")
    if (nbits + 7) // 8 != len(raw) - 4:
        return None
    bits = "".join(f"{b:08b}" for b in raw[4:])
    return bits[:nbits]


def bit_param_literal(node: exp.Expression, type_args: list[int]) -> None:
    """A value written to a `bit(n)` column: a binary `bit` parameter (raw bytes) becomes its
    bit-string literal, and a literal's length must be n (22026, as in Postgres)."""
    text = _bit_param_text(node)
    if text is not None:
        node = node.replace(exp.Literal.string(text))
    if isinstance(node, exp.Literal) and node.is_string and type_args:
        if set(node.this) - {"0", "1"}:
            bad = next(c for c in node.this if c not in "01")
            raise PgError(f'"{bad}" is not a valid binary digit', sqlstate="22P02")
        if len(node.this) != type_args[0]:
            raise PgError(
                f"bit string length {len(node.this)} does not match type bit({type_args[0]})",
                sqlstate="22026",
            )


def _float_list() -> exp.DataType:
    return exp.DataType.build("FLOAT[]", dialect="duckdb")


# the most dimensions a constant sparsevec may have inside an expression DuckDB evaluates
# (where vectors are dense FLOAT[] lists); the distance operators take any
CONST_DENSE_MAX = 100_000


def const_list(v: np.ndarray | SparseVectorValue | None) -> exp.Expression:
    """A DuckDB FLOAT[] literal holding exactly the float32 values of `v` (NULL for None)."""
    if v is None:
        return exp.Cast(this=exp.Null(), to=_float_list())
    if isinstance(v, SparseVectorValue):
        if v.dim > CONST_DENSE_MAX:
            raise FeatureNotSupported(
                f"sparsevec constants of more than {CONST_DENSE_MAX} dimensions are only "
                "supported as operands of the distance operators"
            )
        dense = np.zeros(v.dim, dtype=np.float32)
        dense[v.indices] = v.values
        v = dense
    vals = np.asarray(v, dtype=np.float32).astype(np.float64).tolist()
    return exp.Cast(
        this=exp.Array(expressions=[exp.Literal.number(repr(x)) for x in vals]),
        to=_float_list(),
    )


def has_vector_ops(ctx: BindContext, node: exp.Expression) -> bool:
    """Whether `node` contains an expression `rewrite_vector_exprs` would translate."""
    r = _Rewriter(ctx, [])
    return any(r.is_root(n) for n in node.walk() if isinstance(n, exp.Expression))


def rewrite_vector_exprs(
    ctx: BindContext, tree: exp.Expression, rels: list[VectorRelation]
) -> None:
    """Translate every vector function, operator, aggregate and cast in `tree` into DuckDB
    macro calls; relations the result reads are appended to `rels`."""
    r = _Rewriter(ctx, rels, tree)
    r.rewrite(tree)
