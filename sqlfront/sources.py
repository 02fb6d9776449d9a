"""Which table column each result column of a query comes straight from.

Owns `column_sources(tree, catalog)`: for a plain SELECT over base tables, the (table OID,
attribute number, typmod) of every output column that is a bare column reference or part of a
`*` expansion, (0, 0, -1) for computed ones — what Postgres puts in RowDescription's table OID,
column attribute number and type modifier (`varchar(5)`: 9, `numeric(10,2)`: 655366).
Clients read them: pgjdbc's ResultSetMetaData (isNullable, getBaseTableName, isAutoIncrement,
getPrecision/getScale), psqlODBC's SQLColAttribute, GUI tools that edit result rows.  Called
on the statement before the binder rewrites it.
Must not: resolve anything the binder would reject (unknown names just give (0, 0, -1)).
"""

from __future__ import annotations

from sqlglot import exp

from engine.catalog import TableDef

Source = tuple[int, int, int]
_COMPUTED: Source = (0, 0, -1)


def column_sources(tree: exp.Expression, catalog: dict[str, TableDef]) -> list[Source] | None:
    """One (table OID, attnum, typmod) per output column, or None when the shape is not handled
    (set operations, `*` over a subquery or a catalog relation, ...)."""
    if not isinstance(tree, exp.Select):
        return None
    frm = tree.args.get("from_")
    items = [frm.this] if frm is not None else []
    items += [j.this for j in tree.args.get("joins") or []]
    tables: list[tuple[str, TableDef | None]] = []
    for item in items:
        td = None
        if isinstance(item, exp.Table) and not isinstance(item.this, exp.Func):
            schema = (item.db or "").lower()
            if schema in ("", "public"):
                td = catalog.get(item.name)
        tables.append((item.alias_or_name, td))
    # USING / NATURAL joins merge columns in a `*`: not expanded here
    merged = any(
        j.args.get("using") or str(j.args.get("method") or "").upper() == "NATURAL"
        for j in tree.args.get("joins") or []
    )
    out: list[Source] = []
    for e in tree.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star):
            if merged:
                return None
            qual = e.table if isinstance(e, exp.Column) else ""
            chosen = [t for t in tables if not qual or t[0] == qual]
            if not chosen or any(td is None for _, td in chosen):
                return None
            for _, td in chosen:
                assert td is not None
                out += [(td.oid, i, c.atttypmod) for i, c in enumerate(td.columns, start=1)]
            continue
        inner = e.this if isinstance(e, exp.Alias) else e
        out.append(_source(inner, tables))
    return out


def _source(node: exp.Expression, tables: list[tuple[str, TableDef | None]]) -> Source:
    if not isinstance(node, exp.Column) or node.args.get("db") is not None:
        return _COMPUTED
    ident = node.this
    name = ident.name if isinstance(ident, exp.Identifier) and ident.quoted else node.name.lower()
    found: list[Source] = []
    for alias, td in tables:
        if td is None or (node.table and node.table != alias):
            continue
        for i, c in enumerate(td.columns, start=1):
            if c.name == name:
                found.append((td.oid, i, c.atttypmod))
    return found[0] if len(found) == 1 else _COMPUTED
