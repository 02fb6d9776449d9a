"""Inferring the types of `$n` parameters that Parse left unspecified (OID 0).

Owns: `infer_param_oids`, which looks at where each parameter stands — compared with a
column, an operand of a vector distance, a LIMIT/OFFSET, an INSERT value or UPDATE SET target,
inside a cast — and gives it that type's OID, as Postgres's parse analysis does.  Drivers that
send no types (asyncpg, pg8000, node-postgres) read these OIDs from ParameterDescription and
encode their values accordingly; anything we cannot place is `text` (25).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from engine.catalog import TableDef
from sqlfront.dialect import VectorDistance, datatype_name_and_args
from sqlfront.pgcatalog import type_oid_by_name
from sqlfront.pgtypes import (
    ARRAY_OF,
    CATALOG_TYPE_OIDS,
    FLOAT8_OID,
    INT4_OID,
    INT8_OID,
    NUMERIC_OID,
    TEXT_OID,
    VECTOR_OID,
)

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)


def _tables(tree: exp.Expression, catalog: dict[str, TableDef]) -> list[TableDef]:
    return [catalog[t.name] for t in tree.find_all(exp.Table) if t.name in catalog]


def _column_oid(col: exp.Column, tables: list[TableDef]) -> int | None:
    for t in tables:
        c = t.column(col.name)
        if c is not None:
            return CATALOG_TYPE_OIDS.get(c.pg_type)
    return None


def _cast_oid(to: exp.Expression) -> int | None:
    """The OID of a cast's target type (`$1::vector`, `$1::oid[]`, `$1::regclass`)."""
    if isinstance(to, exp.ObjectIdentifier):
        return type_oid_by_name(to.name)
    if isinstance(to, exp.DataType) and to.this == exp.DType.ARRAY and to.expressions:
        inner = to.expressions[0]
        if isinstance(inner, exp.ObjectIdentifier):
            return type_oid_by_name(inner.name + "[]")
    if not isinstance(to, exp.DataType):
        return None
    name, _ = datatype_name_and_args(to)
    return CATALOG_TYPE_OIDS.get(name) or type_oid_by_name(name)


def _param_number(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal):
        try:
            return int(node.this.this)
        except ValueError:
            return None
    return None


def infer_param_oids(
    tree: exp.Expression, catalog: dict[str, TableDef], declared: Sequence[int], count: int
) -> list[int]:
    oids = list(declared) + [0] * max(0, count - len(declared))
    tables = _tables(tree, catalog)
    for node in tree.find_all(exp.Parameter):
        n = _param_number(node)
        if n is None or n > len(oids) or oids[n - 1]:
            continue
        oid = _place(node, tables, tree)
        oids[n - 1] = oid if oid else TEXT_OID
    return oids


def _place(node: exp.Expression, tables: list[TableDef], tree: exp.Expression) -> int | None:
    parent = node.parent
    if isinstance(parent, exp.Paren) and isinstance(parent.parent, exp.Any):
        parent = parent.parent  # `ANY($1)` parses as Any(Paren($1))
    if isinstance(parent, exp.Cast):
        return _cast_oid(parent.to)
    if isinstance(parent, VectorDistance):
        return VECTOR_OID
    if isinstance(parent, exp.Limit | exp.Offset):
        return INT8_OID
    if isinstance(parent, exp.Any) and isinstance(parent.parent, _COMPARISONS):
        # `col = ANY($1)`: an array of the column's type
        cmp = parent.parent
        other = cmp.expression if cmp.this is parent else cmp.this
        if isinstance(other, exp.Column):
            elem = _column_oid(other, tables)
            return ARRAY_OF.get(elem) if elem else None
    if isinstance(parent, _COMPARISONS + _ARITHMETIC):
        other = parent.expression if parent.this is node else parent.this
        if isinstance(other, exp.Column):
            return _column_oid(other, tables)
        if isinstance(other, VectorDistance):
            return FLOAT8_OID  # `e <-> $1 < $2`
        if isinstance(other, exp.Literal) and not other.is_string:  # `$1 + 1`: the literal's
            if not other.this.isdigit():
                return NUMERIC_OID
            return INT4_OID if int(other.this) < 2**31 else INT8_OID
    if isinstance(parent, exp.In) and isinstance(parent.this, exp.Column):
        return _column_oid(parent.this, tables)
    if isinstance(parent, exp.Between) and isinstance(parent.this, exp.Column):
        return _column_oid(parent.this, tables)
    if isinstance(parent, exp.Tuple) and isinstance(parent.parent, exp.Values):
        insert = parent.parent.parent
        if isinstance(insert, exp.Insert) and tables:
            target = insert.this
            names = (
                [c.name for c in target.expressions]
                if isinstance(target, exp.Schema) and target.expressions
                else [c.name for c in tables[0].columns]
            )
            i = parent.expressions.index(node)
            if i < len(names):
                c = tables[0].column(names[i])
                if c is not None:
                    return CATALOG_TYPE_OIDS.get(c.pg_type)
    if isinstance(parent, exp.EQ) and isinstance(parent.parent, exp.Update):
        return None
    return None
