"""Which vector store a column reference reads, through subqueries and CTEs.

Owns `vector_ref(ctx, col)`: for a column naming a vector column of a base table, or a column
of a subquery / CTE that passes one through unchanged (`SELECT e FROM (SELECT e FROM t) s`,
`WITH s AS (SELECT * FROM t) ...`, a UNION ALL of one store's columns), a `VectorRef` telling
the store its slot pointers (`STRUCT(__vgN BIGINT)`) point into.  `vecfuncs` uses it to look
the values up wherever a vector is compared (GROUP BY, DISTINCT, ORDER BY, `=`, functions).
A derived column that leaves its query as a value (a computed vector, a set operation that
compares rows) is not a pointer: `column_hit` tells it as a `ComputedVector` (its pgvector
type; DuckDB holds it as a tagged value struct, `STRUCT(__vgv FLOAT[])`), so that functions,
operators and casts read its list.  `set_typmods`: the typmod of each output column of a set
operation, as Postgres reports it.  Also the set-operation shape helpers shared with `vecfuncs`.

Must not: rewrite the tree (it only reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlglot import exp

from engine.catalog import ColumnDef

if TYPE_CHECKING:
    from sqlfront.binder import BindContext

# nesting of derived tables followed (a recursive CTE would otherwise loop)
_MAX_DEPTH = 16


@dataclass(frozen=True)
class VectorRef:
    """A column reference holding slot pointers of one vector store."""

    ref: str  # the FROM item's name in the query reading it
    column: str  # the column's name in that FROM item
    store_id: int
    pg_type: str  # "vector", "halfvec" or "sparsevec"
    dim: int | None
    table: str | None = None  # the base table; None for a subquery's or CTE's column


@dataclass(frozen=True)
class ComputedVector:
    """A derived column holding computed vector values (tagged value structs, NULL-safe)."""

    pg_type: str  # "vector", "halfvec" or "sparsevec"
    dim: int | None = None  # the typmod: `::vector(3)`, or branches of a set operation agreeing


Hit = VectorRef | ComputedVector
Outputs = list[tuple[str | None, Hit | None]]


def vector_ref(ctx: BindContext, col: exp.Expression, depth: int = 0) -> VectorRef | None:
    """The store a column reference's pointers point into, or None (not a vector column, or
    a derived column that is not a pass-through of one store's pointers)."""
    hit = column_hit(ctx, col, depth)
    return hit if isinstance(hit, VectorRef) else None


def column_hit(ctx: BindContext, col: exp.Expression, depth: int = 0) -> Hit | None:
    """What vectors a column reference holds: one store's pointers (`VectorRef`), computed
    values of a derived column (`ComputedVector`), or None (not a vector column, or not
    known)."""
    if not isinstance(col, exp.Column) or col.is_star or depth > _MAX_DEPTH:
        return None
    scope: exp.Expression | None = col
    while scope is not None:
        scope = scope.parent
        if isinstance(scope, exp.Subquery | exp.CTE) and depth > 0:
            return None  # a derived query's own scope ends here (no LATERAL)
        if not isinstance(scope, exp.Select | exp.Update | exp.Delete):
            continue
        for ref, item in from_items(scope):
            if col.table and col.table != ref:
                continue
            found, hit = _column_of(ctx, ref, item, col.name, depth)
            if found:
                return hit
    return None


def from_items(scope: exp.Expression) -> list[tuple[str, exp.Expression]]:
    """(name, item) of the FROM and JOIN items of a SELECT (tables, subqueries, CTE names),
    or of the target table of an UPDATE / DELETE."""
    if not isinstance(scope, exp.Select):
        table = scope.this
        return [(table.alias_or_name, table)] if isinstance(table, exp.Table) else []
    frm = scope.args.get("from_")
    items = [frm.this] if frm is not None else []
    items += [j.this for j in scope.args.get("joins") or []]
    out = []
    for item in items:
        if isinstance(item, exp.Table) and item.name and not isinstance(item.this, exp.Func):
            out.append((item.alias_or_name, item))
        elif isinstance(item, exp.Subquery | exp.Values) and item.alias:
            out.append((item.alias, item))
    return out


def item_outputs(
    ctx: BindContext, ref: str, item: exp.Expression, depth: int = 0
) -> Outputs | None:
    """The columns of a FROM item (name, what vectors it holds), or None when they are not
    known (a catalog relation, a table function, a `*` of one, a recursive CTE's own name)."""
    if recursive_reference(item):
        return None
    if isinstance(item, exp.Values):
        return _values_outputs(ctx, item, depth)
    query = derived_query(item)
    if query is None:
        if not isinstance(item, exp.Table) or item.db:
            return None
        tdef = ctx.catalog.get(item.name)
        if tdef is None:
            return None
        return [(c.name, _base_ref(ref, item.name, c)) for c in tdef.columns]
    outputs = query_outputs(ctx, query, depth + 1)
    if outputs is None:
        return None
    names = _alias_columns(item)
    out: Outputs = []
    for i, (name, hit) in enumerate(outputs):
        name = names[i] if i < len(names) else name
        if isinstance(hit, VectorRef):
            hit = replace(hit, ref=ref, column=name, table=None) if name else None
        out.append((name, hit))
    return out


def _values_outputs(ctx: BindContext, values: exp.Values, depth: int) -> Outputs | None:
    """The columns of a VALUES list in FROM (named by its alias; the binder gives an
    unnamed one `column1` ..), typed by its first row: a vector expression there makes a
    column of computed vectors."""
    first = values.expressions[0] if values.expressions else None
    if not isinstance(first, exp.Tuple):
        return None
    names = _alias_columns(values)
    return [
        (names[i] if i < len(names) else f"column{i + 1}", _item_hit(ctx, e, depth + 1))
        for i, e in enumerate(first.expressions)
    ]


def derived_query(item: exp.Expression) -> exp.Expression | None:
    """The query of a subquery FROM item, or of the CTE a table name refers to."""
    if isinstance(item, exp.Subquery):
        return item.this
    if not isinstance(item, exp.Table) or item.db:
        return None
    node: exp.Expression | None = item
    while node is not None:
        with_ = node.args.get("with_") if not isinstance(node, exp.CTE) else None
        for cte in with_.expressions if isinstance(with_, exp.With) else []:
            if cte.alias_or_name == item.name:
                return cte.this
        node = node.parent
    return None


def recursive_reference(item: exp.Expression) -> bool:
    """Whether a table name is a recursive CTE's reference to itself (its columns are not
    followed: each reference would follow the CTE's query again)."""
    if not isinstance(item, exp.Table) or item.db:
        return False
    node = item.parent
    while node is not None:
        if isinstance(node, exp.CTE) and node.alias_or_name == item.name:
            return isinstance(node.parent, exp.With) and bool(node.parent.args.get("recursive"))
        node = node.parent
    return False


def query_outputs(ctx: BindContext, query: exp.Expression, depth: int) -> Outputs | None:
    """The output columns of a SELECT or set operation: for each, the store whose pointers it
    passes through, or that it holds computed vectors."""
    if depth > _MAX_DEPTH:
        return None
    query = unwrap(query)
    if isinstance(query, exp.Select):
        return _select_outputs(ctx, query, depth)
    leaves = set_leaves(query)
    if not isinstance(query, exp.SetOperation) or leaves is None:
        return None
    each = [_select_outputs(ctx, leaf, depth) for leaf in leaves]
    if any(o is None or len(o) != len(each[0] or []) for o in each):
        return None
    first: Outputs = each[0]  # type: ignore[assignment]
    by_value = set_compares(query)
    ordered = set_order_positions(query, [name for name, _ in first])
    out: Outputs = []
    for i, (name, _hit) in enumerate(first):
        hits = [o[i][1] for o in each]  # type: ignore[index]
        literal = any(_text_literal_at(leaf, i) for leaf in leaves)
        out.append((name, _set_column(hits, literal, by_value or i in ordered)))
    return out


def _set_column(hits: list[Hit | None], literal: bool, by_value: bool) -> Hit | None:
    """What one output column of a set operation holds, given its branches' columns: one
    store's pointers when a UNION ALL passes them through unsorted, else values when a branch
    is a vector (`vecfuncs` makes them values: the column compares, sorts, mixes stores,
    computed vectors or unknown-typed literals); its typmod is the branches' when they all
    have the same one (a literal has none), as in Postgres."""
    typed = [h for h in hits if h is not None]
    if not typed:
        return None
    stores = {h.store_id for h in typed if isinstance(h, VectorRef)}
    computed = any(isinstance(h, ComputedVector) for h in typed)
    if not (computed or literal or by_value or len(stores) > 1):
        first = hits[0]
        return first if isinstance(first, VectorRef) and len(typed) == len(hits) else None
    dims = {h.dim if h is not None else None for h in hits}
    dim = dims.pop() if len(dims) == 1 and not literal else None
    return ComputedVector(typed[0].pg_type, dim)


def _text_literal_at(leaf: exp.Select, i: int) -> bool:
    """Whether item `i` of a set operation's branch is an unknown-typed literal ('[1,2]')."""
    items = leaf.expressions
    if i >= len(items) or any(is_star(e) for e in items):
        return False
    item = unalias(items[i])
    return isinstance(item, exp.Literal) and item.is_string


def set_typmods(ctx: BindContext, tree: exp.Expression) -> list[int | None] | None:
    """The typmod of each output column of a set operation whose branches agree on a vector
    column's dimension (`SELECT e FROM a UNION SELECT e FROM b`, both vector(3)), None for the
    other columns; None when `tree` is not a set operation or its columns are not known."""
    if not isinstance(unwrap(tree), exp.SetOperation):
        return None
    outputs = query_outputs(ctx, tree, 0)
    if outputs is None:
        return None
    return [hit.dim if isinstance(hit, ComputedVector) else None for _name, hit in outputs]


def _select_outputs(ctx: BindContext, select: exp.Select, depth: int) -> Outputs | None:
    from sqlfront.binder import output_name

    out: Outputs = []
    for item in select.expressions:
        if is_star(item):
            qual = item.table if isinstance(item, exp.Column) else ""
            for ref, src in from_items(select):
                if qual and ref != qual:
                    continue
                cols = item_outputs(ctx, ref, src, depth)
                if cols is None:
                    return None
                out += cols
            continue
        out.append((output_name(item), _item_hit(ctx, unalias(item), depth)))
    return out


def _item_hit(ctx: BindContext, item: exp.Expression, depth: int) -> Hit | None:
    """What vectors a select item yields: a column's (a plain `col::vector` is the column
    itself, as `vecfuncs` leaves it), or computed values when it is a vector expression."""
    from sqlfront import vecfuncs

    if isinstance(item, exp.Anonymous) and str(item.this).lower() == "any_value":
        item = item.expressions[0]  # a grouped vector column (vecfuncs.group_by_value)
    if isinstance(item, exp.Column):
        return column_hit(ctx, item, depth)
    if isinstance(item, exp.Cast) and isinstance(item.this, exp.Column):
        hit = column_hit(ctx, item.this, depth)
        if isinstance(hit, VectorRef) and vecfuncs.is_plain_cast(item, hit.pg_type):
            return hit
    pg_type, dim = vecfuncs.computed_type(ctx, item, depth)
    return ComputedVector(pg_type, dim) if pg_type is not None else None


def _column_of(
    ctx: BindContext, ref: str, item: exp.Expression, name: str, depth: int
) -> tuple[bool, Hit | None]:
    """(whether FROM item `ref` has a column `name`, what vectors it holds)."""
    if recursive_reference(item):
        return False, None
    if derived_query(item) is None and not isinstance(item, exp.Values):
        tdef = ctx.catalog.get(item.name) if isinstance(item, exp.Table) and not item.db else None
        col = tdef.column(name) if tdef is not None else None
        if col is None:
            return False, None
        return True, _base_ref(ref, item.name, col)
    outputs = item_outputs(ctx, ref, item, depth)
    for out_name, hit in outputs or []:
        if out_name == name:
            return True, hit
    return False, None


def _base_ref(ref: str, table: str, col: ColumnDef) -> VectorRef | None:
    if not col.is_vector or col.store_id is None:
        return None
    return VectorRef(ref, col.name, col.store_id, col.pg_type, col.dim, table)


def _alias_columns(item: exp.Expression) -> list[str]:
    """The column names of `AS s(a, b)`."""
    alias = item.args.get("alias")
    if not isinstance(alias, exp.TableAlias):
        return []
    return [c.name for c in alias.columns]


# ------------------------------------------------------------------------ query shapes


def is_star(node: exp.Expression) -> bool:
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and node.is_star)


def unalias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Subquery | exp.Paren) and not node.alias:
        node = node.this
    return node


def set_leaves(node: exp.Expression) -> list[exp.Select] | None:
    """The SELECTs a set operation combines, left to right; None if a branch is another
    kind of query (VALUES)."""
    node = unwrap(node)
    if isinstance(node, exp.Select):
        return [node]
    if not isinstance(node, exp.SetOperation):
        return None
    left, right = set_leaves(node.this), set_leaves(node.expression)
    return None if left is None or right is None else left + right


def set_compares(node: exp.Expression) -> bool:
    """Whether a set operation (or one nested in it) compares rows: all but UNION ALL."""
    node = unwrap(node)
    if not isinstance(node, exp.SetOperation):
        return False
    if not isinstance(node, exp.Union) or node.args.get("distinct"):
        return True
    return set_compares(node.this) or set_compares(node.expression)


def set_order_positions(setop: exp.Expression, names: list[str | None]) -> set[int]:
    """The output columns (0-based) a set operation's ORDER BY sorts by: `ORDER BY 2`, or one
    of the output `names`."""
    order = setop.args.get("order")
    out: set[int] = set()
    for item in order.expressions if order is not None else []:
        key = item.this
        if isinstance(key, exp.Literal) and key.is_int:
            out.add(int(key.name) - 1)
        elif isinstance(key, exp.Column) and not key.table and key.name in names:
            out.add(names.index(key.name))
    return out
