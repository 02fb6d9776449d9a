"""Which vector store a column reference reads, through subqueries and CTEs.

Owns `vector_ref(ctx, col)`: for a column naming a vector column of a base table, or a column
of a subquery / CTE that passes one through unchanged (`SELECT e FROM (SELECT e FROM t) s`,
`WITH s AS (SELECT * FROM t) ...`, a UNION ALL of one store's columns), a `VectorRef` telling
the store its slot pointers (`STRUCT(__vgN BIGINT)`) point into.  `vecfuncs` uses it to look
the values up wherever a vector is compared (GROUP BY, DISTINCT, ORDER BY, `=`, functions).
A derived column that leaves its query as a value (a computed vector, a set operation that
compares rows) is not a pointer: DuckDB compares those values itself, so it has no ref.
Also the set-operation shape helpers shared with `vecfuncs`.

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


Outputs = list[tuple[str | None, VectorRef | None]]


def vector_ref(ctx: BindContext, col: exp.Expression, depth: int = 0) -> VectorRef | None:
    """The store a column reference's pointers point into, or None (not a vector column, or
    a derived column that is not a pass-through of one store's pointers)."""
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
        elif isinstance(item, exp.Subquery) and item.alias:
            out.append((item.alias, item))
    return out


def item_outputs(
    ctx: BindContext, ref: str, item: exp.Expression, depth: int = 0
) -> Outputs | None:
    """The columns of a FROM item (name, ref when it holds one store's pointers), or None
    when they are not known (a catalog relation, a table function, a `*` of one)."""
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
        out.append((name, replace(hit, ref=ref, column=name, table=None) if hit and name else None))
    return out


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


def query_outputs(ctx: BindContext, query: exp.Expression, depth: int) -> Outputs | None:
    """The output columns of a SELECT or set operation, with the store of each column that
    passes one store's pointers through."""
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
    for i, (name, hit) in enumerate(first):
        stores = {o[i][1].store_id if o[i][1] else None for o in each}  # type: ignore[index]
        passes = hit is not None and stores == {hit.store_id} and not by_value
        out.append((name, hit if passes and i not in ordered else None))
    return out


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
        inner = unalias(item)
        if isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "any_value":
            inner = inner.expressions[0]  # a grouped vector column (vecfuncs.group_by_value)
        out.append((output_name(item), vector_ref(ctx, inner, depth)))
    return out


def _column_of(
    ctx: BindContext, ref: str, item: exp.Expression, name: str, depth: int
) -> tuple[bool, VectorRef | None]:
    """(whether FROM item `ref` has a column `name`, its ref)."""
    if derived_query(item) is None:
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
