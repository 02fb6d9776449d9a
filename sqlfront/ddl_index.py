"""CREATE INDEX / DROP INDEX / REINDEX: pgvector's HNSW syntax and scalar (payload) indexes.

Owns: validating an index statement the way pgvector and Postgres do (operator classes, `m`
and `ef_construction` ranges, default names `<table>_<column>_idx`), recording the index in
the table's definition, and building it: HNSW graphs through `engine.hnsw`, scalar indexes as
DuckDB ART indexes (which DuckDB uses for point lookups in filters).
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from engine.catalog import EXACT_METRICS, OPCLASS_METRIC, IndexDef, TableDef, opclass_type
from engine.catalog import quote_ident as _q
from engine.database import Database
from engine.errors import (
    DuplicateTable,
    FeatureNotSupported,
    InvalidParameterValue,
    PgError,
    UndefinedObject,
    UndefinedTable,
)
from engine.sparse import is_sparse_dim

_VECTOR_METHODS = ("hnsw", "ivfflat")


def _all_index_names(catalog: dict[str, TableDef]) -> set[str]:
    return {ix.name for t in catalog.values() for ix in t.indexes} | {
        f"{t.name}_pkey" for t in catalog.values() if t.primary_key
    }


def _default_name(table: str, cols: list[str], taken: set[str]) -> str:
    base = f"{table}_{'_'.join(cols)}_idx"
    name, n = base, 0
    while name in taken or name in ():
        n += 1
        name = f"{base}{n}"
    return name


def create_index(
    db: Database, cur: duckdb.DuckDBPyConnection, catalog: dict[str, TableDef], tree: exp.Create
) -> tuple[str, TableDef | None]:
    """Create (and build) the index; returns (notice or "", changed table or None)."""
    ix = tree.this
    table_node = ix.args.get("table")
    table = catalog.get(table_node.name) if table_node is not None else None
    if table is None:
        raise UndefinedTable(f'relation "{table_node.name if table_node else "?"}" does not exist')
    params = ix.args.get("params")
    using = params.args.get("using") if params is not None else None
    method = (using.name if using is not None else "btree").lower()
    items = params.args.get("columns") or [] if params is not None else []
    cols: list[str] = []
    opclasses: list[str | None] = []
    for it in items:
        node = it.this if isinstance(it, exp.Ordered) else it
        opclass = None
        if isinstance(node, exp.Opclass):
            opclass = node.expression.name.lower()
            node = node.this
        if not isinstance(node, exp.Column):
            raise FeatureNotSupported("indexes on expressions are not supported")
        if table.column(node.name) is None:
            raise PgError(f'column "{node.name}" does not exist', sqlstate="42703")
        cols.append(node.name)
        opclasses.append(opclass)
    if not cols:
        raise PgError("index needs at least one column", sqlstate="42601")
    taken = _all_index_names(catalog)
    name = ix.name or _default_name(table.name, cols, taken)
    if name in taken or name in catalog:
        if tree.args.get("exists"):
            return f'relation "{name}" already exists, skipping', None
        raise DuplicateTable(f'relation "{name}" already exists')
    if tree.args.get("unique") and method in _VECTOR_METHODS:
        raise FeatureNotSupported(f'access method "{method}" does not support unique indexes')
    options = _options(params)
    if method in _VECTOR_METHODS:
        ixdef = _vector_index(table, name, method, cols, opclasses, options)
        ixdef.oid = db.next_oid(cur)
        if ixdef.method == "hnsw":
            col = table.column(cols[0])
            assert col is not None and col.dim is not None and col.store_id is not None
            db.hnsw(ixdef, col.dim).build(db.store(col.store_id, col.dim))
    elif method == "btree":
        if any(c is not None for c in opclasses):
            raise FeatureNotSupported("operator classes on btree indexes are not supported")
        for c in cols:
            column = table.column(c)
            if column is not None and column.is_vector:
                raise UndefinedObject(
                    'data type vector has no default operator class for access method "btree"',
                    hint="You must specify an operator class for the index or define a "
                    "default operator class for the data type.",
                )
        unique = "UNIQUE " if tree.args.get("unique") else ""
        cur.execute(
            f"CREATE {unique}INDEX {_q(name)} ON {_q(table.name)} "
            f"({', '.join(_q(c) for c in cols)})"
        )
        ixdef = IndexDef(name=name, columns=cols, method="btree", oid=db.next_oid(cur))
    else:
        raise UndefinedObject(f'access method "{method}" does not exist')
    table.indexes.append(ixdef)
    db.save_table(cur, table)
    return "", table


def _options(params: exp.Expression | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in (params.args.get("with_storage") or []) if params is not None else []:
        key = p.this.name.lower() if isinstance(p, exp.Property) else p.this.name.lower()
        val = p.args.get("value") if isinstance(p, exp.Property) else p.expression
        try:
            out[key] = int(val.name if isinstance(val, exp.Literal) else val.sql())
        except (ValueError, AttributeError):
            raise InvalidParameterValue(
                f'invalid value for parameter "{key}": "{val.sql() if val else ""}"'
            ) from None
    return out


def _vector_index(
    table: TableDef,
    name: str,
    method: str,
    cols: list[str],
    opclasses: list[str | None],
    options: dict[str, int],
) -> IndexDef:
    if len(cols) != 1:
        raise FeatureNotSupported(f"{method} indexes cover exactly one column")
    col = table.column(cols[0])
    assert col is not None
    opclass = opclasses[0]
    if opclass is None or not (col.is_vector or col.pg_type == "bit"):
        raise UndefinedObject(
            f'data type {col.pg_type} has no default operator class for access method "{method}"',
            hint="You must specify an operator class for the index or define a default "
            "operator class for the data type.",
        )
    metric = OPCLASS_METRIC.get(opclass)
    if metric is None or (method == "ivfflat" and metric in ("l1", "jaccard")):
        raise UndefinedObject(
            f'operator class "{opclass}" does not exist for access method "{method}"'
        )
    if opclass_type(opclass) != col.pg_type:
        raise PgError(
            f'operator class "{opclass}" does not accept data type {col.pg_type}',
            sqlstate="42804",
        )
    if method == "ivfflat":
        options = {}  # lists/probes have no meaning for a graph; see the closing notes
    allowed = {"m", "ef_construction"}
    for key in options:
        if key not in allowed:
            raise InvalidParameterValue(f'unrecognized parameter "{key}"')
    m = options.get("m", 16)
    efc = options.get("ef_construction", 64)
    if not 2 <= m <= 100:
        raise InvalidParameterValue(
            f'value {m} out of bounds for option "m"',
            detail='Valid values are between "2" and "100".',
        )
    if not 4 <= efc <= 1000:
        raise InvalidParameterValue(
            f'value {efc} out of bounds for option "ef_construction"',
            detail='Valid values are between "4" and "1000".',
        )
    if efc < 2 * m:
        raise InvalidParameterValue("ef_construction must be greater than or equal to 2 * m")
    return IndexDef(
        name=name,
        columns=cols,
        # no graph for hnswlib's missing spaces, nor for sparsevec over 16000 dimensions
        # (the sparse store): their queries are answered by exact search
        method="exact" if metric in EXACT_METRICS or is_sparse_dim(col.dim) else "hnsw",
        metric=metric,
        opclass=opclass,
        options={"m": m, "ef_construction": efc},
    )


def drop_index(
    db: Database,
    cur: duckdb.DuckDBPyConnection,
    catalog: dict[str, TableDef],
    name: str,
    if_exists: bool,
) -> tuple[str, TableDef | None]:
    for table in catalog.values():
        for ix in table.indexes:
            if ix.name == name:
                table.indexes.remove(ix)
                if ix.method == "btree":
                    cur.execute(f"DROP INDEX {_q(name)}")
                db.save_table(cur, table)
                if ix.method == "hnsw":
                    db.forget_index(name)
                return "", table
    if if_exists:
        return f'index "{name}" does not exist, skipping', None
    raise UndefinedObject(f'index "{name}" does not exist')


def reindex(
    db: Database, cur: duckdb.DuckDBPyConnection, catalog: dict[str, TableDef], kind: str, name: str
) -> None:
    targets: list[tuple[TableDef, IndexDef]] = []
    for table in catalog.values():
        for ix in table.indexes:
            if (kind == "INDEX" and ix.name == name) or (kind == "TABLE" and table.name == name):
                targets.append((table, ix))
    if kind == "INDEX" and not targets:
        raise UndefinedObject(f'index "{name}" does not exist')
    if kind == "TABLE" and name not in catalog:
        raise UndefinedTable(f'relation "{name}" does not exist')
    for table, ix in targets:
        if ix.method != "hnsw":
            continue
        col = table.column(ix.columns[0])
        assert col is not None and col.dim is not None and col.store_id is not None
        db.hnsw(ix, col.dim).build(db.store(col.store_id, col.dim))
