"""Table definitions: what a table is, as the layers above see it.

Owns: `ColumnDef` and `TableDef` dataclasses, their JSON form (persisted in the DuckDB table
`__vg_tables`, so DDL is transactional with the data), and the mapping from a Postgres type
name to the DuckDB column type that stores it.  A vector column is stored in DuckDB as
`STRUCT(__vg<store_id> BIGINT)`: a pointer to a slot of its `VectorStore`.  The struct's field
name survives any query (subqueries, joins, `SELECT *`), so a result column of that type is
recognised as "vectors of store N" without tracking where it came from.

Must not: parse SQL (type names arrive already normalised by sqlfront).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

# halfvec: float16-rounded values; sparsevec: dense; both in the float32 store
VECTOR_TYPES = ("vector", "halfvec", "sparsevec")
SLOT_FIELD_PREFIX = "__vg"
_SLOT_STRUCT_RE = re.compile(r"^STRUCT\(__vg(\d+) BIGINT\)$")
_SLOT_LIST_RE = re.compile(r"^STRUCT\(__vg(\d+) BIGINT\)\[\]$")

# Postgres type name (as normalised by sqlfront.dialect) -> DuckDB storage type.
_DUCK_TYPES: dict[str, str] = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "serial": "INTEGER",
    "bigserial": "BIGINT",
    "smallserial": "SMALLINT",
    "real": "FLOAT",
    "double precision": "DOUBLE",
    "numeric": "DECIMAL(38,10)",
    "text": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "name": "VARCHAR",
    "boolean": "BOOLEAN",
    "jsonb": "JSON",
    "json": "JSON",
    "bytea": "BLOB",
    "bit": "BIT",  # bit(n) (pgvector's binary vectors); the length is not enforced
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "time": "TIME",
    "interval": "INTERVAL",
    "uuid": "UUID",
}

SERIAL_TYPES = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}


def quote_ident(ident: str) -> str:
    """A SQL identifier, double-quoted (for the DDL and queries we build for DuckDB)."""
    return '"' + ident.replace('"', '""') + '"'


def slots_sql(table: str, column: str, store_id: int, where_sql: str | None = None) -> str:
    """DuckDB query for the slots (column `s`) of the non-NULL vectors of `table.column` in
    rows passing `where_sql`."""
    q = quote_ident
    sql = f"SELECT struct_extract({q(column)}, '{slot_field(store_id)}') AS s FROM {q(table)}"
    if where_sql:
        return f"{sql} WHERE ({where_sql}) AND {q(column)} IS NOT NULL"
    return f"{sql} WHERE {q(column)} IS NOT NULL"


def supported_type(pg_type: str) -> bool:
    return pg_type in _DUCK_TYPES or pg_type in VECTOR_TYPES


def slot_struct_type(store_id: int) -> str:
    return f"STRUCT({SLOT_FIELD_PREFIX}{store_id} BIGINT)"


def slot_field(store_id: int) -> str:
    return f"{SLOT_FIELD_PREFIX}{store_id}"


def store_id_of_duck_type(duck_type: str) -> int | None:
    """The vector store a DuckDB result column points into, or None if it is not a vector."""
    m = _SLOT_STRUCT_RE.match(duck_type)
    return int(m.group(1)) if m else None


def store_id_of_duck_list_type(duck_type: str) -> int | None:
    """The vector store a DuckDB list result column (`ARRAY[v, w]`, `array_agg(v)`) points
    into, or None if it is not a one-dimensional list of vectors."""
    m = _SLOT_LIST_RE.match(duck_type)
    return int(m.group(1)) if m else None


@dataclass
class ColumnDef:
    name: str
    pg_type: str  # normalised Postgres type name: "bigint", "vector", "text", ...
    typmod: int = -1  # vector: dimensions; varchar(n): n; numeric: packed as Postgres does
    not_null: bool = False
    default_sql: str | None = None  # DuckDB expression text
    store_id: int | None = None  # vector columns: their VectorStore
    type_args: list[int] = field(default_factory=list)

    @property
    def is_vector(self) -> bool:
        return self.pg_type in VECTOR_TYPES

    @property
    def dim(self) -> int | None:
        return self.typmod if self.is_vector and self.typmod > 0 else None

    @property
    def atttypmod(self) -> int:
        """The typmod Postgres stores and reports (pg_attribute, RowDescription): vector(n):
        n; varchar(n) / char(n): n + 4; numeric(p, s): (p << 16 | s) + 4; bit(n): n.  The SQL
        twin is pg_catalog's `__typmod` macro (tests check they agree)."""
        args = self.type_args
        if self.pg_type == "numeric" and args:
            return ((args[0] << 16) | (args[1] if len(args) > 1 else 0)) + 4
        if self.pg_type == "char":
            return (args[0] if args else 1) + 4
        if self.pg_type == "bit" and self.typmod < 0 and args:
            return args[0]
        if self.pg_type == "varchar" and self.typmod < 0 and args:
            return args[0] + 4
        return self.typmod if self.typmod is not None else -1

    def duck_type(self) -> str:
        if self.is_vector:
            assert self.store_id is not None
            return slot_struct_type(self.store_id)
        if self.pg_type == "numeric" and self.type_args:
            p = self.type_args[0]
            s = self.type_args[1] if len(self.type_args) > 1 else 0
            if p <= 38:
                return f"DECIMAL({p},{s})"
        return _DUCK_TYPES[self.pg_type]


# CREATE TABLE ... WITH (...) / ALTER TABLE ... SET (...): name -> (parser, default)
TABLE_OPTIONS = (
    "quantization",
    "rescore",
    "oversampling",
    "storage",
    "segment_rows",
    "autovacuum_enabled",
)
TABLE_OPTION_DEFAULTS = {
    "quantization": "none",
    "rescore": "on",
    "oversampling": "2.0",
    "storage": "memmap",
    "segment_rows": "131072",
    "autovacuum_enabled": "on",  # off: only VACUUM runs the optimizer on the table
}


# pgvector 0.8's HNSW operator classes -> our metric name (hnswlib space is derived from it)
OPCLASS_METRIC = {
    "vector_l2_ops": "l2",
    "vector_cosine_ops": "cosine",
    "vector_ip_ops": "ip",
    "vector_l1_ops": "l1",
    "halfvec_l2_ops": "l2",
    "halfvec_cosine_ops": "cosine",
    "halfvec_ip_ops": "ip",
    "halfvec_l1_ops": "l1",
    "sparsevec_l2_ops": "l2",
    "sparsevec_cosine_ops": "cosine",
    "sparsevec_ip_ops": "ip",
    "sparsevec_l1_ops": "l1",
    "bit_hamming_ops": "hamming",
    "bit_jaccard_ops": "jaccard",
}
# metrics hnswlib has no space for: such an index is recorded (method "exact") and its
# queries are answered by exact search (numpy for l1, DuckDB for the bit metrics)
EXACT_METRICS = frozenset({"l1", "hamming", "jaccard"})


def opclass_type(opclass: str) -> str:
    """The data type a pgvector operator class indexes: "vector", "halfvec", "sparsevec" or
    "bit"."""
    return opclass.split("_", 1)[0]


@dataclass
class IndexDef:
    """An index: `hnsw` over a vector column, or `btree` (a DuckDB ART index) on scalars."""

    name: str
    columns: list[str]
    method: str  # "hnsw" | "btree" | "exact" (an HNSW index without a graph, EXACT_METRICS)
    metric: str | None = None  # hnsw: "l2" | "cosine" | "ip"
    opclass: str | None = None
    options: dict[str, int] = field(default_factory=dict)  # m, ef_construction
    oid: int = 0


@dataclass
class TableDef:
    name: str
    oid: int
    columns: list[ColumnDef]
    primary_key: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    indexes: list[IndexDef] = field(default_factory=list)

    def exact_index(self, column: str, metric: str) -> IndexDef | None:
        """A graphless vector index (method `exact`) on `column` for `metric`."""
        for ix in self.indexes:
            if ix.method == "exact" and ix.columns == [column] and ix.metric == metric:
                return ix
        return None

    def hnsw_index(self, column: str, metric: str) -> IndexDef | None:
        for ix in self.indexes:
            if ix.method == "hnsw" and ix.columns == [column] and ix.metric == metric:
                return ix
        return None

    def column(self, name: str) -> ColumnDef | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def vector_columns(self) -> list[ColumnDef]:
        return [c for c in self.columns if c.is_vector]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TableDef:
        d = json.loads(text)
        d["columns"] = [ColumnDef(**c) for c in d["columns"]]
        d["indexes"] = [IndexDef(**i) for i in d.get("indexes", [])]
        return cls(**d)
