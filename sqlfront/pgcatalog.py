"""pg_catalog emulation: relations with real Postgres OIDs that catalog queries read.

Owns: the `__vg_pg` schema inside each database's DuckDB file, (re)built once per process:

* static tables with Postgres 15's fixed rows (`pg_type`: `pgtypes.TYPES` plus built-in
  types clients look up by name; `pg_namespace`, `pg_am` incl. pgvector's `hnsw` and
  `ivfflat`, `pg_extension` with `plpgsql` and `vector` 0.8.0, roles, `pg_description`,
  collations, tablespaces, opclasses, languages) and empty ones for the catalogs psql only
  probes (`pg_policy`, `pg_inherits`, `pg_publication`, `pg_trigger`, ...);
* views over our own catalog `__vg_tables` (the `TableDef` JSON in its `def` column, read
  with DuckDB's `from_json`): `pg_class` (tables, their primary-key `<t>_pkey` and other
  indexes, the sequences of serial columns, and the emulated catalogs themselves),
  `pg_attribute`, `pg_attrdef`, `pg_index`, `pg_constraint`, `pg_depend`, `pg_sequence`,
  `pg_tables`, `pg_indexes`.  Views are always current and transactional: a session sees
  its own uncommitted DDL, and nothing needs rebuilding when the catalog changes;
* DuckDB macros for the functions psql and drivers call (`format_type`, `pg_get_indexdef`,
  `pg_get_expr`, `pg_get_userbyid`, `obj_description`, `pg_size_pretty`, ...), called as
  `__vg_pg.<name>(...)` by `sqlfront.catalog_rewrite`, which also turns `::regclass` and
  friends, `OPERATOR(pg_catalog.~)`, `COLLATE pg_catalog.default` and the session-dependent
  functions (`current_user`, `version()`, `current_setting`) into DuckDB SQL.

`EMULATED` names the relations that `pg_catalog.X` / bare `X` resolve to (binder).
Objects our catalog gives no OID (primary-key indexes and constraints, sequences, column
defaults) get synthetic OIDs derived from their table's OID (`derived_oid`), identical in
SQL (`__vg_pg.__oidbase`) and in Python, so a later query can use an OID an earlier one
returned.  DuckDB's own pg_catalog is not used: its OIDs do not join.
"""

from __future__ import annotations

import re
import threading
import weakref

import duckdb

from sqlfront import infoschema, pgproc
from sqlfront import pgtypes as pt
from sqlfront.pgtypes import TYPES as _WIRE_TYPES
from sqlfront.pgtypes import PgType

SCHEMA = "__vg_pg"
_lock = threading.Lock()
# databases whose emulated catalog is built in this process (weak: a dropped database goes,
# and a new one that happens to get the same id() is not taken for it)
_done: weakref.WeakSet = weakref.WeakSet()

# ------------------------------------------------------------------------------ OIDs

BOOTSTRAP_SUPERUSER = 10
PG_DATABASE_OWNER = 6171
PG_CATALOG_NS = 11
PUBLIC_NS = 2200
TOAST_NS = 99
INFORMATION_SCHEMA_NS = 13207
HEAP_AM = 2
BTREE_AM = 403
# pgvector's objects get OIDs from CREATE EXTENSION in real Postgres; ours are fixed, below
# the first OID our catalog hands out (16400) and next to the vector types' (16385-16390).
VECTOR_EXTENSION = 16384
HNSW_AM = 16391
IVFFLAT_AM = 16392
PLPGSQL_EXTENSION = 13559
DEFAULT_COLLATION = 100
C_COLLATION = 950
POSTGRES_DATABASE = 5

# pg_class OIDs of the catalogs (the classoid of pg_description / pg_depend rows).
PG_CLASS = 1259
PG_NAMESPACE = 2615
PG_EXTENSION = 3079
PG_AM = 2601
PG_DATABASE = 1262
PG_TS_CONFIG = 3602
PG_TS_PARSER = 3601

# Postgres 15's text search configurations (OID, name): what `\dF` lists
_TS_DEFAULT_PARSER = 3722
_TS_CONFIGS = [(3748, "simple")] + [
    (13152 + 2 * i, name)
    for i, name in enumerate(
        "arabic armenian basque catalan danish dutch english finnish french german greek "
        "hindi hungarian indonesian irish italian lithuanian nepali norwegian portuguese "
        "romanian russian serbian spanish swedish tamil turkish yiddish".split()
    )
]

# The emulated relations: name -> (pg_class OID in Postgres 15, relkind).
SYSTEM_RELATIONS: dict[str, tuple[int, str]] = {
    "pg_type": (1247, "r"),
    "pg_attribute": (1249, "r"),
    "pg_proc": (1255, "r"),
    "pg_class": (1259, "r"),
    "pg_authid": (1260, "r"),
    "pg_auth_members": (1261, "r"),
    "pg_database": (1262, "r"),
    "pg_tablespace": (1213, "r"),
    "pg_shdescription": (2396, "r"),
    "pg_am": (2601, "r"),
    "pg_attrdef": (2604, "r"),
    "pg_constraint": (2606, "r"),
    "pg_depend": (2608, "r"),
    "pg_description": (2609, "r"),
    "pg_index": (2610, "r"),
    "pg_inherits": (2611, "r"),
    "pg_namespace": (2615, "r"),
    "pg_opclass": (2616, "r"),
    "pg_rewrite": (2618, "r"),
    "pg_trigger": (2620, "r"),
    "pg_sequence": (2224, "r"),
    "pg_extension": (3079, "r"),
    "pg_policy": (3256, "r"),
    "pg_statistic_ext": (3381, "r"),
    "pg_collation": (3456, "r"),
    "pg_enum": (3501, "r"),
    "pg_range": (3541, "r"),
    "pg_publication": (6104, "r"),
    "pg_publication_rel": (6106, "r"),
    "pg_publication_namespace": (6237, "r"),
    "pg_foreign_server": (1417, "r"),
    "pg_foreign_data_wrapper": (2328, "r"),
    "pg_cast": (2605, "r"),
    "pg_conversion": (2607, "r"),
    "pg_language": (2612, "r"),
    "pg_operator": (2617, "r"),
    "pg_db_role_setting": (2964, "r"),
    "pg_foreign_table": (3118, "r"),
    "pg_partitioned_table": (3350, "r"),
    "pg_event_trigger": (3466, "r"),
    "pg_opfamily": (2753, "r"),
    "pg_amop": (2602, "r"),
    "pg_amproc": (2603, "r"),
    "pg_default_acl": (826, "r"),
    "pg_largeobject_metadata": (2995, "r"),
    "pg_subscription": (6100, "r"),
    "pg_user_mappings": (12327, "v"),
    "pg_ts_config": (3602, "r"),
    "pg_ts_dict": (3600, "r"),
    "pg_ts_parser": (3601, "r"),
    "pg_ts_template": (3764, "r"),
    "pg_roles": (12000, "v"),
    "pg_user": (12014, "v"),
    "pg_views": (12028, "v"),
    "pg_tables": (12033, "v"),
    "pg_indexes": (12043, "v"),
    "pg_cursors": (12077, "v"),
    "pg_settings": (12104, "v"),
}
EMULATED = frozenset(SYSTEM_RELATIONS)

# Relations whose rows depend on the session (built per query by catalog_rewrite).
DYNAMIC = frozenset({"pg_database", "pg_settings", "pg_cursors"})

_OID_BLOCK = 128  # synthetic OIDs per table: see derived_oid
_OID_BASE = 2**31


def derived_oid(table_oid: int, kind: str, attnum: int = 0) -> int:
    """Synthetic OID of an object our catalog gives none: a table's primary-key index
    ("pkey") and constraint ("pkeycon"), the sequence of its serial column `attnum`
    ("seq") and that column's pg_attrdef row ("attrdef").  Mirrors `__vg_pg.__oidbase`."""
    base = _OID_BASE + table_oid * _OID_BLOCK
    if kind == "pkey":
        return base
    if kind == "pkeycon":
        return base + 1
    slot = (attnum - 1) % 63
    if kind == "seq":
        return base + 2 + slot
    if kind == "attrdef":
        return base + 65 + slot
    raise ValueError(kind)


# ------------------------------------------------------------------------------ types

# Our catalog's normalised type names (engine.catalog) -> pg_type OID.
TYPE_OIDS = pt.CATALOG_TYPE_OIDS

# format_type's spelling (SQL-standard names) where it differs from typname.
_FORMAT_NAMES: dict[int, str] = {
    pt.BOOL_OID: "boolean",
    pt.CHAR_OID: '"char"',
    pt.INT2_OID: "smallint",
    pt.INT4_OID: "integer",
    pt.INT8_OID: "bigint",
    pt.FLOAT4_OID: "real",
    pt.FLOAT8_OID: "double precision",
    pt.VARCHAR_OID: "character varying",
    pt.BPCHAR_OID: "character",
    pt.TIMESTAMP_OID: "timestamp without time zone",
    pt.TIMESTAMPTZ_OID: "timestamp with time zone",
    pt.TIME_OID: "time without time zone",
    pt.TIMETZ_OID: "time with time zone",
    1562: "bit varying",
}

# Type names `::regtype` / to_regtype accept, beyond typname and format_type's spelling.
TYPE_ALIASES: dict[str, int] = {
    "int": pt.INT4_OID,
    "integer": pt.INT4_OID,
    "smallint": pt.INT2_OID,
    "bigint": pt.INT8_OID,
    "real": pt.FLOAT4_OID,
    "float": pt.FLOAT8_OID,
    "double precision": pt.FLOAT8_OID,
    "boolean": pt.BOOL_OID,
    "decimal": pt.NUMERIC_OID,
    "character varying": pt.VARCHAR_OID,
    "character": pt.BPCHAR_OID,
    "char": pt.BPCHAR_OID,
    "timestamp without time zone": pt.TIMESTAMP_OID,
    "timestamp with time zone": pt.TIMESTAMPTZ_OID,
    "time without time zone": pt.TIME_OID,
    "time with time zone": pt.TIMETZ_OID,
    '"char"': pt.CHAR_OID,
    "bit varying": 1562,
}

_COLLATABLE = {pt.TEXT_OID: DEFAULT_COLLATION, pt.VARCHAR_OID: DEFAULT_COLLATION}
_COLLATABLE[pt.BPCHAR_OID] = DEFAULT_COLLATION
_COLLATABLE[pt.NAME_OID] = C_COLLATION
_ALIGN_D = {
    pt.INT8_OID,
    pt.FLOAT8_OID,
    pt.TIMESTAMP_OID,
    pt.TIMESTAMPTZ_OID,
    pt.TIME_OID,
    pt.TIMETZ_OID,
    pt.INTERVAL_OID,
}
_ALIGN_C = {pt.BOOL_OID, pt.CHAR_OID, pt.NAME_OID, pt.UUID_OID}
_VECTOR_TYPES = {pt.VECTOR_OID, pt.HALFVEC_OID, pt.SPARSEVEC_OID}


def _catalog_types() -> dict[int, PgType]:
    """Every type we speak on the wire, plus built-in types clients look up by name
    (pgvector's register_vector fetches `bit`; drivers map reg*/xid/inet...)."""
    out = dict(_WIRE_TYPES)
    # (oid, typname, typlen, typarray, typelem, typcategory), as in PostgreSQL 15's pg_type
    extra = [
        (22, "int2vector", -1, 1006, pt.INT2_OID, "A"),
        (24, "regproc", 4, 1008, 0, "N"),
        (27, "tid", 6, 1010, 0, "U"),
        (28, "xid", 4, 1011, 0, "U"),
        (29, "cid", 4, 1012, 0, "U"),
        (30, "oidvector", -1, 1013, pt.OID_OID, "A"),
        (142, "xml", -1, 143, 0, "U"),
        (600, "point", 16, 1017, 0, "G"),
        (650, "cidr", -1, 651, 0, "I"),
        (790, "money", 8, 791, 0, "N"),
        (829, "macaddr", 6, 1040, 0, "U"),
        (869, "inet", -1, 1041, 0, "I"),
        (1560, "bit", -1, 1561, 0, "V"),
        (1562, "varbit", -1, 1563, 0, "V"),
        (2205, "regclass", 4, 2210, 0, "N"),
        (2206, "regtype", 4, 2211, 0, "N"),
        (3614, "tsvector", -1, 3643, 0, "U"),
        (3615, "tsquery", -1, 3645, 0, "U"),
        (4089, "regnamespace", 4, 4090, 0, "N"),
        (4096, "regrole", 4, 4097, 0, "N"),
        (2249, "record", -1, 2287, 0, "P"),
        (2278, "void", 4, 0, 0, "P"),
        # pseudo types of pgvector's I/O and access-method functions (pg_proc)
        (pgproc.CSTRING, "cstring", -2, pgproc.CSTRING_ARRAY, 0, "P"),
        (pgproc.INTERNAL, "internal", 8, 0, 0, "P"),
        (pgproc.INDEX_AM_HANDLER, "index_am_handler", 4, 0, 0, "P"),
    ]
    for oid, name, typlen, arr, elem, cat in extra:
        if oid in out:
            continue
        out[oid] = PgType(oid, name, typlen, arr, elem, cat)
        if arr and arr not in out:
            out[arr] = PgType(arr, "_" + name, -1, 0, oid, "A")
    return out


TYPES: dict[int, PgType] = _catalog_types()
_PSEUDO_TYPES = {2249, 2278, pgproc.CSTRING, pgproc.INTERNAL, pgproc.INDEX_AM_HANDLER}
_UNDERSCORE_IO = set(
    "timestamp timestamptz date time timetz interval numeric uuid json jsonb bit varbit inet "
    "cidr macaddr xml point record void".split()
)


def format_type_name(oid: int) -> str | None:
    """format_type(oid, NULL) for a type we know."""
    t = TYPES.get(oid)
    if t is None:
        return None
    if t.category == "A" and t.name.startswith("_"):
        inner = format_type_name(t.elem_oid)
        return f"{inner}[]" if inner else None
    return _FORMAT_NAMES.get(oid, t.name)


def type_oid_by_name(name: str) -> int | None:
    """The OID `'<name>'::regtype` resolves to (typmods and `public.`/`pg_catalog.` allowed)."""
    s = " ".join(name.strip().split()).lower()
    array = s.endswith("[]")
    if array:
        s = s[:-2].strip()
    if "(" in s:
        s = (s[: s.index("(")] + s[s.index(")") + 1 :]).strip() if ")" in s else s
    for prefix in ("pg_catalog.", "public."):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    if s.startswith('"') and s.endswith('"') and s != '"char"':
        s = s[1:-1]
    oid = TYPE_ALIASES.get(s)
    if oid is None:
        for t in TYPES.values():
            if t.name == s or _FORMAT_NAMES.get(t.oid) == s:
                oid = t.oid
                break
    if oid is None:
        return None
    if array:
        t = TYPES.get(oid)
        return t.array_oid if t is not None and t.array_oid else None
    return oid


def _type_rows() -> list[tuple]:
    rows = []
    for t in TYPES.values():
        is_array = t.category == "A" and t.name.startswith("_")
        elem = TYPES.get(t.elem_oid) if is_array else None
        base = elem if elem is not None else t
        if t.oid in _ALIGN_D or (is_array and base.oid in _ALIGN_D):
            align = "d"
        elif t.oid in _ALIGN_C:
            align = "c"
        elif t.oid == pt.INT2_OID:
            align = "s"
        else:
            align = "i"
        if is_array or t.typlen == -1:
            storage = "x"
        else:
            storage = "p"
        if t.oid == pt.NUMERIC_OID:
            storage = "m"
        if t.oid in _VECTOR_TYPES:
            storage = "e"  # pgvector >= 0.6: STORAGE = external
        if is_array:
            subscript = "array_subscript_handler"
        elif t.oid == pt.JSONB_OID:
            subscript = "jsonb_subscript_handler"
        elif t.oid == pt.NAME_OID:
            subscript = "raw_array_subscript_handler"
        else:
            subscript = "-"
        if t.oid in _VECTOR_TYPES:
            modin = f"{t.name}_typmod_in"
        elif t.oid in (pt.VARCHAR_OID, pt.BPCHAR_OID):
            modin = f"{t.name}typmodin"
        elif t.oid in (pt.NUMERIC_OID, pt.TIMESTAMP_OID, pt.TIMESTAMPTZ_OID, pt.TIME_OID):
            modin = f"{t.name}typmodin"
        else:
            modin = "-"
        ns = PUBLIC_NS if t.oid >= 16384 else PG_CATALOG_NS
        # I/O functions: `int4in` for most built-ins, `timestamp_in` for some, as in PG 15
        if is_array:
            io = "array_"
        elif t.oid == 790:
            io = "cash_"
        elif t.name in _UNDERSCORE_IO or t.oid in _VECTOR_TYPES:
            io = t.name + "_"
        else:
            io = t.name
        rows.append(
            (
                t.oid,
                t.name,
                ns,
                BOOTSTRAP_SUPERUSER,
                t.typlen,
                t.typlen in (1, 2, 4, 8),
                "p" if t.oid in _PSEUDO_TYPES else "b",
                t.category,
                t.oid in (pt.BOOL_OID, pt.TEXT_OID, pt.FLOAT8_OID, pt.OID_OID, pt.TIMESTAMPTZ_OID),
                True,
                ",",
                0,
                subscript,
                t.elem_oid,
                t.array_oid,
                f"{io}in",
                f"{io}out",
                f"{io}recv",
                f"{io}send",
                modin,
                "-",
                "array_typanalyze" if is_array else "-",
                align,
                storage,
                False,
                0,
                -1,
                0,
                _COLLATABLE.get(base.oid, 0),
                None,
                None,
                None,
            )
        )
    return rows


# ------------------------------------------------------------------------- relations

# name -> column definitions (DuckDB types; oid/regproc/xid as BIGINT or VARCHAR).
_O = "BIGINT"
_V = "VARCHAR"
_B = "BOOLEAN"
_I = "INTEGER"
_S = "SMALLINT"
_VA = "VARCHAR[]"
_OA = "BIGINT[]"
_SA = "SMALLINT[]"
_I2V = "USMALLINT[]"  # int2vector (pgtypes reports these list types as int2vector/oidvector)
_OV = "UBIGINT[]"  # oidvector (not UINTEGER[]: that is `array_agg(atttypid)`, an oid[])

COLUMNS: dict[str, list[tuple[str, str]]] = {
    "pg_type": [
        ("oid", _O),
        ("typname", _V),
        ("typnamespace", _O),
        ("typowner", _O),
        ("typlen", _S),
        ("typbyval", _B),
        ("typtype", pt.PG_CHAR_DUCKDB),
        ("typcategory", _V),
        ("typispreferred", _B),
        ("typisdefined", _B),
        ("typdelim", _V),
        ("typrelid", _O),
        ("typsubscript", _V),
        ("typelem", _O),
        ("typarray", _O),
        ("typinput", _V),
        ("typoutput", _V),
        ("typreceive", _V),
        ("typsend", _V),
        ("typmodin", _V),
        ("typmodout", _V),
        ("typanalyze", _V),
        ("typalign", _V),
        ("typstorage", _V),
        ("typnotnull", _B),
        ("typbasetype", _O),
        ("typtypmod", _I),
        ("typndims", _I),
        ("typcollation", _O),
        ("typdefaultbin", _V),
        ("typdefault", _V),
        ("typacl", _VA),
    ],
    # format_type's spelling of each type (odd column names: read inside macros)
    "__typfmt": [("__t_oid", _O), ("__t_name", _V), ("__t_fmt", _V)],
    "pg_namespace": [("oid", _O), ("nspname", _V), ("nspowner", _O), ("nspacl", _VA)],
    # pg_get_function_result / _arguments of each pg_proc row (read inside macros)
    "__procfmt": [("__p_oid", _O), ("__p_result", _V), ("__p_args", _V)],
    "pg_ts_config": [
        ("oid", _O),
        ("cfgname", _V),
        ("cfgnamespace", _O),
        ("cfgowner", _O),
        ("cfgparser", _O),
    ],
    "pg_ts_dict": [
        ("oid", _O),
        ("dictname", _V),
        ("dictnamespace", _O),
        ("dictowner", _O),
        ("dicttemplate", _O),
        ("dictinitoption", _V),
    ],
    "pg_ts_parser": [
        ("oid", _O),
        ("prsname", _V),
        ("prsnamespace", _O),
        ("prsstart", _V),
        ("prstoken", _V),
        ("prsend", _V),
        ("prsheadline", _V),
        ("prslextype", _V),
    ],
    "pg_ts_template": [
        ("oid", _O),
        ("tmplname", _V),
        ("tmplnamespace", _O),
        ("tmplinit", _V),
        ("tmpllexize", _V),
    ],
    "pg_am": [("oid", _O), ("amname", _V), ("amhandler", _V), ("amtype", _V)],
    "pg_extension": [
        ("oid", _O),
        ("extname", _V),
        ("extowner", _O),
        ("extnamespace", _O),
        ("extrelocatable", _B),
        ("extversion", _V),
        ("extconfig", _OA),
        ("extcondition", _VA),
    ],
    "pg_description": [
        ("objoid", _O),
        ("classoid", _O),
        ("objsubid", _I),
        ("description", _V),
    ],
    "pg_shdescription": [("objoid", _O), ("classoid", _O), ("description", _V)],
    "pg_authid": [
        ("oid", _O),
        ("rolname", _V),
        ("rolsuper", _B),
        ("rolinherit", _B),
        ("rolcreaterole", _B),
        ("rolcreatedb", _B),
        ("rolcanlogin", _B),
        ("rolreplication", _B),
        ("rolbypassrls", _B),
        ("rolconnlimit", _I),
        ("rolpassword", _V),
        ("rolvaliduntil", "TIMESTAMPTZ"),
    ],
    "pg_auth_members": [
        ("oid", _O),
        ("roleid", _O),
        ("member", _O),
        ("grantor", _O),
        ("admin_option", _B),
    ],
    "pg_tablespace": [
        ("oid", _O),
        ("spcname", _V),
        ("spcowner", _O),
        ("spcacl", _VA),
        ("spcoptions", _VA),
    ],
    "pg_collation": [
        ("oid", _O),
        ("collname", _V),
        ("collnamespace", _O),
        ("collowner", _O),
        ("collprovider", _V),
        ("collisdeterministic", _B),
        ("collencoding", _I),
        ("collcollate", _V),
        ("collctype", _V),
        ("colliculocale", _V),
        ("collversion", _V),
    ],
    "pg_opclass": [
        ("oid", _O),
        ("opcmethod", _O),
        ("opcname", _V),
        ("opcnamespace", _O),
        ("opcowner", _O),
        ("opcfamily", _O),
        ("opcintype", _O),
        ("opcdefault", _B),
        ("opckeytype", _O),
    ],
    "pg_inherits": [
        ("inhrelid", _O),
        ("inhparent", _O),
        ("inhseqno", _I),
        ("inhdetachpending", _B),
    ],
    "pg_policy": [
        ("oid", _O),
        ("polname", _V),
        ("polrelid", _O),
        ("polcmd", _V),
        ("polpermissive", _B),
        ("polroles", _OA),
        ("polqual", _V),
        ("polwithcheck", _V),
    ],
    "pg_statistic_ext": [
        ("oid", _O),
        ("stxrelid", _O),
        ("stxname", _V),
        ("stxnamespace", _O),
        ("stxowner", _O),
        ("stxstattarget", _I),
        ("stxkeys", _SA),
        ("stxkind", _VA),
        ("stxexprs", _V),
    ],
    "pg_publication": [
        ("oid", _O),
        ("pubname", _V),
        ("pubowner", _O),
        ("puballtables", _B),
        ("pubinsert", _B),
        ("pubupdate", _B),
        ("pubdelete", _B),
        ("pubtruncate", _B),
        ("pubviaroot", _B),
    ],
    "pg_publication_rel": [
        ("oid", _O),
        ("prpubid", _O),
        ("prrelid", _O),
        ("prqual", _V),
        ("prattrs", _SA),
    ],
    "pg_publication_namespace": [("oid", _O), ("pnpubid", _O), ("pnnspid", _O)],
    "pg_trigger": [
        ("oid", _O),
        ("tgrelid", _O),
        ("tgparentid", _O),
        ("tgname", _V),
        ("tgfoid", _O),
        ("tgtype", _S),
        ("tgenabled", _V),
        ("tgisinternal", _B),
        ("tgconstrrelid", _O),
        ("tgconstrindid", _O),
        ("tgconstraint", _O),
        ("tgdeferrable", _B),
        ("tginitdeferred", _B),
        ("tgnargs", _S),
        ("tgattr", _SA),
        ("tgargs", "BLOB"),
        ("tgqual", _V),
        ("tgoldtable", _V),
        ("tgnewtable", _V),
    ],
    "pg_rewrite": [
        ("oid", _O),
        ("rulename", _V),
        ("ev_class", _O),
        ("ev_type", _V),
        ("ev_enabled", _V),
        ("is_instead", _B),
        ("ev_qual", _V),
        ("ev_action", _V),
    ],
    "pg_proc": [
        ("oid", _O),
        ("proname", _V),
        ("pronamespace", _O),
        ("proowner", _O),
        ("prolang", _O),
        ("procost", "FLOAT"),
        ("prorows", "FLOAT"),
        ("provariadic", _O),
        ("prosupport", _V),
        ("prokind", _V),
        ("prosecdef", _B),
        ("proleakproof", _B),
        ("proisstrict", _B),
        ("proretset", _B),
        ("provolatile", _V),
        ("proparallel", _V),
        ("pronargs", _S),
        ("pronargdefaults", _S),
        ("prorettype", _O),
        ("proargtypes", _OV),
        ("proallargtypes", _OA),
        ("proargmodes", _VA),
        ("proargnames", _VA),
        ("proargdefaults", _V),
        ("protrftypes", _OA),
        ("prosrc", _V),
        ("probin", _V),
        ("prosqlbody", _V),
        ("proconfig", _VA),
        ("proacl", _VA),
    ],
    "pg_enum": [("oid", _O), ("enumtypid", _O), ("enumsortorder", "FLOAT"), ("enumlabel", _V)],
    "pg_event_trigger": [
        ("oid", _O),
        ("evtname", _V),
        ("evtevent", _V),
        ("evtowner", _O),
        ("evtfoid", _O),
        ("evtenabled", _V),
        ("evttags", _VA),
    ],
    "pg_cast": [
        ("oid", _O),
        ("castsource", _O),
        ("casttarget", _O),
        ("castfunc", _O),
        ("castcontext", _V),
        ("castmethod", _V),
    ],
    "pg_operator": [
        ("oid", _O),
        ("oprname", _V),
        ("oprnamespace", _O),
        ("oprowner", _O),
        ("oprkind", _V),
        ("oprcanmerge", _B),
        ("oprcanhash", _B),
        ("oprleft", _O),
        ("oprright", _O),
        ("oprresult", _O),
        ("oprcom", _O),
        ("oprnegate", _O),
        ("oprcode", _V),
        ("oprrest", _V),
        ("oprjoin", _V),
    ],
    "pg_conversion": [
        ("oid", _O),
        ("conname", _V),
        ("connamespace", _O),
        ("conowner", _O),
        ("conforencoding", _I),
        ("contoencoding", _I),
        ("conproc", _V),
        ("condefault", _B),
    ],
    "pg_language": [
        ("oid", _O),
        ("lanname", _V),
        ("lanowner", _O),
        ("lanispl", _B),
        ("lanpltrusted", _B),
        ("lanplcallfoid", _O),
        ("laninline", _O),
        ("lanvalidator", _O),
        ("lanacl", _VA),
    ],
    "pg_foreign_server": [
        ("oid", _O),
        ("srvname", _V),
        ("srvowner", _O),
        ("srvfdw", _O),
        ("srvtype", _V),
        ("srvversion", _V),
        ("srvacl", _VA),
        ("srvoptions", _VA),
    ],
    "pg_foreign_data_wrapper": [
        ("oid", _O),
        ("fdwname", _V),
        ("fdwowner", _O),
        ("fdwhandler", _O),
        ("fdwvalidator", _O),
        ("fdwacl", _VA),
        ("fdwoptions", _VA),
    ],
    "pg_db_role_setting": [("setdatabase", _O), ("setrole", _O), ("setconfig", _VA)],
    "pg_foreign_table": [("ftrelid", _O), ("ftserver", _O), ("ftoptions", _VA)],
    "pg_opfamily": [
        ("oid", _O),
        ("opfmethod", _O),
        ("opfname", _V),
        ("opfnamespace", _O),
        ("opfowner", _O),
    ],
    "pg_amop": [
        ("oid", _O),
        ("amopfamily", _O),
        ("amoplefttype", _O),
        ("amoprighttype", _O),
        ("amopstrategy", _S),
        ("amoppurpose", _V),
        ("amopopr", _O),
        ("amopmethod", _O),
        ("amopsortfamily", _O),
    ],
    "pg_amproc": [
        ("oid", _O),
        ("amprocfamily", _O),
        ("amproclefttype", _O),
        ("amprocrighttype", _O),
        ("amprocnum", _S),
        ("amproc", _V),
    ],
    "pg_default_acl": [
        ("oid", _O),
        ("defaclrole", _O),
        ("defaclnamespace", _O),
        ("defaclobjtype", _V),
        ("defaclacl", _VA),
    ],
    "pg_largeobject_metadata": [("oid", _O), ("lomowner", _O), ("lomacl", _VA)],
    "pg_subscription": [
        ("oid", _O),
        ("subdbid", _O),
        ("subskiplsn", _V),
        ("subname", _V),
        ("subowner", _O),
        ("subenabled", _B),
        ("subbinary", _B),
        ("substream", _B),
        ("subtwophasestate", _V),
        ("subdisableonerr", _B),
        ("subconninfo", _V),
        ("subslotname", _V),
        ("subsynccommit", _V),
        ("subpublications", _VA),
    ],
    "pg_user_mappings": [
        ("umid", _O),
        ("srvid", _O),
        ("srvname", _V),
        ("umuser", _O),
        ("usename", _V),
        ("umoptions", _VA),
    ],
    "pg_partitioned_table": [
        ("partrelid", _O),
        ("partstrat", _V),
        ("partnatts", _S),
        ("partdefid", _O),
        ("partattrs", _SA),
        ("partclass", _OA),
        ("partcollation", _OA),
        ("partexprs", _V),
    ],
    "pg_range": [
        ("rngtypid", _O),
        ("rngsubtype", _O),
        ("rngmultitypid", _O),
        ("rngcollation", _O),
        ("rngsubopc", _O),
        ("rngcanonical", _V),
        ("rngsubdiff", _V),
    ],
    "pg_database": [
        ("oid", _O),
        ("datname", _V),
        ("datdba", _O),
        ("encoding", _I),
        ("datlocprovider", _V),
        ("datistemplate", _B),
        ("datallowconn", _B),
        ("datconnlimit", _I),
        ("datfrozenxid", _O),
        ("datminmxid", _O),
        ("dattablespace", _O),
        ("datcollate", _V),
        ("datctype", _V),
        ("daticulocale", _V),
        ("datcollversion", _V),
        ("datacl", _VA),
    ],
    "pg_cursors": [
        ("name", _V),
        ("statement", _V),
        ("is_holdable", _B),
        ("is_binary", _B),
        ("is_scrollable", _B),
        ("creation_time", "TIMESTAMPTZ"),
    ],
    "pg_settings": [
        ("name", _V),
        ("setting", _V),
        ("unit", _V),
        ("category", _V),
        ("short_desc", _V),
        ("extra_desc", _V),
        ("context", _V),
        ("vartype", _V),
        ("source", _V),
        ("min_val", _V),
        ("max_val", _V),
        ("enumvals", _VA),
        ("boot_val", _V),
        ("reset_val", _V),
        ("sourcefile", _V),
        ("sourceline", _I),
        ("pending_restart", _B),
    ],
}

_PUBLIC_ACL = ["pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"]
_SYSTEM_ACL = ["postgres=UC/postgres", "=U/postgres"]

STATIC_ROWS: dict[str, list[tuple]] = {
    "pg_type": _type_rows(),
    "__typfmt": [(t.oid, t.name, format_type_name(t.oid)) for t in TYPES.values()],
    "pg_namespace": [
        (PG_CATALOG_NS, "pg_catalog", BOOTSTRAP_SUPERUSER, _SYSTEM_ACL),
        (TOAST_NS, "pg_toast", BOOTSTRAP_SUPERUSER, None),
        (PUBLIC_NS, "public", PG_DATABASE_OWNER, _PUBLIC_ACL),
        (INFORMATION_SCHEMA_NS, "information_schema", BOOTSTRAP_SUPERUSER, _SYSTEM_ACL),
    ],
    "pg_am": [
        (HEAP_AM, "heap", "heap_tableam_handler", "t"),
        (BTREE_AM, "btree", "bthandler", "i"),
        (405, "hash", "hashhandler", "i"),
        (783, "gist", "gisthandler", "i"),
        (2742, "gin", "ginhandler", "i"),
        (4000, "spgist", "spghandler", "i"),
        (3580, "brin", "brinhandler", "i"),
        (IVFFLAT_AM, "ivfflat", "ivfflathandler", "i"),
        (HNSW_AM, "hnsw", "hnswhandler", "i"),
    ],
    "pg_extension": [
        (
            PLPGSQL_EXTENSION,
            "plpgsql",
            BOOTSTRAP_SUPERUSER,
            PG_CATALOG_NS,
            False,
            "1.0",
            None,
            None,
        ),
        (VECTOR_EXTENSION, "vector", BOOTSTRAP_SUPERUSER, PUBLIC_NS, True, "0.8.0", None, None),
    ],
    "pg_description": [
        (HEAP_AM, PG_AM, 0, "heap table access method"),
        (BTREE_AM, PG_AM, 0, "b-tree index access method"),
        (405, PG_AM, 0, "hash index access method"),
        (783, PG_AM, 0, "GiST index access method"),
        (2742, PG_AM, 0, "GIN index access method"),
        (4000, PG_AM, 0, "SP-GiST index access method"),
        (3580, PG_AM, 0, "block range index (BRIN) access method"),
        (IVFFLAT_AM, PG_AM, 0, "ivfflat index access method"),
        (HNSW_AM, PG_AM, 0, "hnsw index access method"),
        (PG_CATALOG_NS, PG_NAMESPACE, 0, "system catalog schema"),
        (TOAST_NS, PG_NAMESPACE, 0, "reserved schema for TOAST tables"),
        (PUBLIC_NS, PG_NAMESPACE, 0, "standard public schema"),
        (PLPGSQL_EXTENSION, PG_EXTENSION, 0, "PL/pgSQL procedural language"),
        (13563, 2612, 0, "PL/pgSQL procedural language"),  # pg_language plpgsql
        (
            VECTOR_EXTENSION,
            PG_EXTENSION,
            0,
            "vector data type and ivfflat and hnsw access methods",
        ),
        (_TS_DEFAULT_PARSER, PG_TS_PARSER, 0, "default word parser"),
        *[
            (
                oid,
                PG_TS_CONFIG,
                0,
                "simple configuration"
                if name == "simple"
                else f"configuration for {name} language",
            )
            for oid, name in _TS_CONFIGS
        ],
    ],
    "pg_proc": pgproc.proc_rows(),
    "__procfmt": pgproc.format_rows(format_type_name),
    "pg_ts_config": [
        (oid, name, PG_CATALOG_NS, BOOTSTRAP_SUPERUSER, _TS_DEFAULT_PARSER)
        for oid, name in _TS_CONFIGS
    ],
    "pg_ts_parser": [
        (_TS_DEFAULT_PARSER, "default", PG_CATALOG_NS, "prsd_start", "prsd_nexttoken")
        + ("prsd_end", "prsd_headline", "prsd_lextype"),
    ],
    "pg_shdescription": [
        (POSTGRES_DATABASE, PG_DATABASE, "default administrative connection database"),
    ],
    "pg_authid": [
        (BOOTSTRAP_SUPERUSER, "postgres", True, True, True, True, True, True, True, -1, None, None),
        (PG_DATABASE_OWNER, "pg_database_owner", False, True, False, False, False, False, False)
        + (-1, None, None),
    ],
    "pg_language": [
        (12, "internal", BOOTSTRAP_SUPERUSER, False, False, 0, 0, 2246, None),
        (13, "c", BOOTSTRAP_SUPERUSER, False, False, 0, 0, 2247, None),
        (14, "sql", BOOTSTRAP_SUPERUSER, False, True, 0, 0, 2248, None),
        (13563, "plpgsql", BOOTSTRAP_SUPERUSER, True, True, 13560, 13561, 13562, None),
    ],
    "pg_tablespace": [
        (1663, "pg_default", BOOTSTRAP_SUPERUSER, None, None),
        (1664, "pg_global", BOOTSTRAP_SUPERUSER, None, None),
    ],
    "pg_collation": [
        (DEFAULT_COLLATION, "default", PG_CATALOG_NS, 10, "d", True, -1, None, None, None, None),
        (C_COLLATION, "C", PG_CATALOG_NS, 10, "c", True, -1, "C", "C", None, None),
        (951, "POSIX", PG_CATALOG_NS, 10, "c", True, -1, "POSIX", "POSIX", None, None),
        (12546, "ucs_basic", PG_CATALOG_NS, 10, "c", True, 6, "C", "C", None, None),
    ],
    "pg_opclass": [
        # btree default opclasses of our scalar types (OIDs as in Postgres 15)
        (1978, BTREE_AM, "int2_ops", PG_CATALOG_NS, 10, 1976, pt.INT2_OID, True, 0),
        (1979, BTREE_AM, "int4_ops", PG_CATALOG_NS, 10, 1976, pt.INT4_OID, True, 0),
        (3124, BTREE_AM, "int8_ops", PG_CATALOG_NS, 10, 1976, pt.INT8_OID, True, 0),
        (3126, BTREE_AM, "text_ops", PG_CATALOG_NS, 10, 1994, pt.TEXT_OID, True, 0),
        (3128, BTREE_AM, "bool_ops", PG_CATALOG_NS, 10, 424, pt.BOOL_OID, True, 0),
        (3122, BTREE_AM, "float8_ops", PG_CATALOG_NS, 10, 1970, pt.FLOAT8_OID, True, 0),
        (10007, BTREE_AM, "float4_ops", PG_CATALOG_NS, 10, 1970, pt.FLOAT4_OID, True, 0),
        (3125, BTREE_AM, "numeric_ops", PG_CATALOG_NS, 10, 1988, pt.NUMERIC_OID, True, 0),
        (3122 + 10000, BTREE_AM, "date_ops", PG_CATALOG_NS, 10, 434, pt.DATE_OID, True, 0),
        (3127, BTREE_AM, "timestamp_ops", PG_CATALOG_NS, 10, 434, pt.TIMESTAMP_OID, True, 0),
        (3127 + 10000, BTREE_AM, "timestamptz_ops", PG_CATALOG_NS, 10, 434)
        + (pt.TIMESTAMPTZ_OID, True, 0),
        (2969, BTREE_AM, "uuid_ops", PG_CATALOG_NS, 10, 2968, pt.UUID_OID, True, 0),
        (4033, BTREE_AM, "jsonb_ops", PG_CATALOG_NS, 10, 4033, pt.JSONB_OID, True, 0),
        # pgvector 0.8.0
        (16393, BTREE_AM, "vector_ops", PUBLIC_NS, 10, 16393, pt.VECTOR_OID, True, 0),
        (16394, IVFFLAT_AM, "vector_l2_ops", PUBLIC_NS, 10, 16394, pt.VECTOR_OID, True, 0),
        (16395, IVFFLAT_AM, "vector_ip_ops", PUBLIC_NS, 10, 16395, pt.VECTOR_OID, False, 0),
        (16396, IVFFLAT_AM, "vector_cosine_ops", PUBLIC_NS, 10, 16396, pt.VECTOR_OID, False) + (0,),
        (16397, HNSW_AM, "vector_l2_ops", PUBLIC_NS, 10, 16397, pt.VECTOR_OID, False, 0),
        (16398, HNSW_AM, "vector_ip_ops", PUBLIC_NS, 10, 16398, pt.VECTOR_OID, False, 0),
        (16399, HNSW_AM, "vector_cosine_ops", PUBLIC_NS, 10, 16399, pt.VECTOR_OID, False, 0),
    ],
}

# operator families of the opclasses above (btree families as named in Postgres 15;
# pgvector's carry their opclass's OID and name)
_OPFAMILY_NAMES = {
    1976: "integer_ops",
    1994: "text_ops",
    424: "bool_ops",
    1970: "float_ops",
    1988: "numeric_ops",
    434: "datetime_ops",
    2968: "uuid_ops",
    4033: "jsonb_ops",
}
STATIC_ROWS["pg_opfamily"] = sorted(
    {
        (fam, am, _OPFAMILY_NAMES.get(fam, name), ns, owner)
        for _oid, am, name, ns, owner, fam, *_ in STATIC_ROWS["pg_opclass"]
    }
)

EMPTY = (
    "pg_amop",
    "pg_amproc",
    "pg_default_acl",
    "pg_largeobject_metadata",
    "pg_subscription",
    "pg_user_mappings",
    "pg_event_trigger",
    "pg_cast",
    "pg_operator",
    "pg_conversion",
    "pg_foreign_server",
    "pg_foreign_data_wrapper",
    "pg_db_role_setting",
    "pg_foreign_table",
    "pg_partitioned_table",
    "pg_auth_members",
    "pg_inherits",
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_trigger",
    "pg_rewrite",
    "pg_enum",
    "pg_ts_dict",
    "pg_ts_template",
    "pg_range",
)

# ---------------------------------------------------------------------------- macros

_TDEF_JSON = (
    '{"name":"VARCHAR","oid":"BIGINT","columns":[{"name":"VARCHAR","pg_type":"VARCHAR",'
    '"typmod":"INTEGER","not_null":"BOOLEAN","default_sql":"VARCHAR","store_id":"BIGINT",'
    '"type_args":["INTEGER"]}],"primary_key":["VARCHAR"],"indexes":[{"name":"VARCHAR",'
    '"columns":["VARCHAR"],"method":"VARCHAR","metric":"VARCHAR","opclass":"VARCHAR",'
    '"options":{"m":"INTEGER","ef_construction":"INTEGER"},"oid":"BIGINT"}]}'
)

# Postgres keywords that quote_ident quotes (every category but "unreserved").
_KEYWORDS = (
    "all analyse analyze and any array as asc asymmetric authorization between bigint binary "
    "bit boolean both case cast char character check coalesce collate collation column "
    "concurrently constraint create cross current_catalog current_date current_role "
    "current_schema current_time current_timestamp current_user dec decimal default "
    "deferrable desc distinct do else end except exists extract false fetch float for "
    "foreign freeze from full grant greatest group grouping having ilike in initially inner "
    "inout int integer intersect interval into is isnull join lateral leading least left "
    "like limit localtime localtimestamp national natural nchar none normalize not notnull "
    "null nullif numeric offset on only or order out outer overlaps overlay placing position "
    "precision primary real references returning right row select session_user setof "
    "similar smallint some substring symmetric table tablesample then time timestamp to "
    "trailing treat trim true union unique user using values varchar variadic verbose when "
    "where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces "
    "xmlparse xmlpi xmlroot xmlserialize xmltable"
).split()


def _sql_list(words: list[str]) -> str:
    return "[" + ", ".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


def _macros() -> list[str]:
    s = SCHEMA
    serial_oids = (
        f"CASE pg_type WHEN 'bigserial' THEN {pt.INT8_OID} WHEN 'serial' THEN {pt.INT4_OID} "
        f"WHEN 'smallserial' THEN {pt.INT2_OID} END"
    )
    type_case = " ".join(f"WHEN '{k}' THEN {v}" for k, v in TYPE_OIDS.items())
    return [
        f"CREATE OR REPLACE MACRO {s}.__oidbase(reloid) AS "
        f"{_OID_BASE}::BIGINT + reloid * {_OID_BLOCK}",
        f"CREATE OR REPLACE MACRO {s}.__typoid(pg_type) AS CASE pg_type {type_case} END",
        f"CREATE OR REPLACE MACRO {s}.__seqtype(pg_type) AS {serial_oids}",
        # the typmod Postgres stores: varchar(n)/char(n): n+4; numeric(p,s): (p<<16 | s)+4
        f"CREATE OR REPLACE MACRO {s}.__typmod(pg_type, typmod, type_args) AS CASE "
        "WHEN pg_type = 'numeric' AND len(type_args) >= 1 THEN "
        "((type_args[1] << 16) | coalesce(type_args[2], 0)) + 4 "
        "WHEN pg_type = 'char' THEN coalesce(type_args[1], 1) + 4 "
        "WHEN pg_type = 'bit' AND typmod < 0 AND len(type_args) >= 1 THEN type_args[1] "
        "WHEN pg_type = 'varchar' AND typmod < 0 AND len(type_args) >= 1 THEN type_args[1] + 4 "
        "ELSE coalesce(typmod, -1) END",
        f"CREATE OR REPLACE MACRO {s}.quote_ident(x) AS CASE "
        "WHEN x IS NULL THEN NULL "
        f"WHEN regexp_full_match(x, '[a-z_][a-z0-9_$]*') AND NOT list_contains("
        f"{_sql_list(_KEYWORDS)}, x) THEN x "
        "ELSE '\"' || replace(x, '\"', '\"\"') || '\"' END",
        # quote_literal (asyncpg's copy_from_query inlines its arguments with it): E'...'
        # with doubled backslashes when the text has one, as Postgres does
        f"CREATE OR REPLACE MACRO {s}.quote_literal(x) AS CASE WHEN x IS NULL THEN NULL "
        "WHEN strpos(x::VARCHAR, chr(92)) > 0 THEN 'E''' || replace(replace(x::VARCHAR, "
        "chr(92), chr(92) || chr(92)), '''', '''''') || '''' "
        "ELSE '''' || replace(x::VARCHAR, '''', '''''') || '''' END",
        f"CREATE OR REPLACE MACRO {s}.format_type(type_oid, typmod) AS CASE "
        "WHEN type_oid IS NULL THEN NULL WHEN type_oid = 0 THEN '-' "
        f"WHEN type_oid IN ({pt.VECTOR_OID}, {pt.HALFVEC_OID}, {pt.SPARSEVEC_OID}) THEN "
        f"(SELECT __t_name FROM {s}.__typfmt WHERE __t_oid = type_oid) || "
        f"CASE WHEN typmod >= 0 THEN '(' || typmod::VARCHAR || ')' ELSE '' END "
        f"WHEN type_oid IN ({pt.VARCHAR_OID}, {pt.BPCHAR_OID}) AND typmod >= 4 THEN "
        f"(CASE type_oid WHEN {pt.VARCHAR_OID} THEN 'character varying' "
        "ELSE 'character' END) || '(' || (typmod - 4)::VARCHAR || ')' "
        f"WHEN type_oid = {pt.BPCHAR_OID} AND typmod IS NOT NULL THEN 'bpchar' "
        f"WHEN type_oid = {pt.BIT_OID} AND typmod >= 0 THEN 'bit(' || typmod::VARCHAR || ')' "
        f"WHEN type_oid = {pt.NUMERIC_OID} AND typmod >= 4 THEN 'numeric(' || "
        "((typmod - 4) >> 16)::VARCHAR || ',' || ((typmod - 4) & 65535)::VARCHAR || ')' "
        f"WHEN type_oid IN ({pt.TIMESTAMP_OID}, {pt.TIMESTAMPTZ_OID}, {pt.TIME_OID}, "
        f"{pt.TIMETZ_OID}) AND typmod >= 0 THEN "
        f"(CASE WHEN type_oid IN ({pt.TIME_OID}, {pt.TIMETZ_OID}) THEN 'time' "
        "ELSE 'timestamp' END) || '(' || typmod::VARCHAR || ') ' || "
        f"(CASE WHEN type_oid IN ({pt.TIMESTAMPTZ_OID}, {pt.TIMETZ_OID}) "
        "THEN 'with time zone' ELSE 'without time zone' END) "
        f"ELSE coalesce((SELECT __t_fmt FROM {s}.__typfmt WHERE __t_oid = type_oid), '???') END",
        f"CREATE OR REPLACE MACRO {s}.pg_get_userbyid(role_oid) AS coalesce("
        f"(SELECT __a_name FROM {s}.__l_role WHERE __a_oid = role_oid), "
        "'unknown (OID=' || role_oid::VARCHAR || ')')",
        f"CREATE OR REPLACE MACRO {s}.pg_encoding_to_char(enc) AS CASE enc "
        "WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END",
        f"CREATE OR REPLACE MACRO {s}.getdatabaseencoding() AS 'UTF8'",
        f"CREATE OR REPLACE MACRO {s}.pg_tablespace_location(x) AS ''",
        f"CREATE OR REPLACE MACRO {s}.pg_char_to_encoding(name) AS CASE upper(name) "
        "WHEN 'UTF8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END",
        f"CREATE OR REPLACE MACRO {s}.pg_table_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_type_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_function_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_opclass_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_collation_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_opfamily_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_operator_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_conversion_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_is_other_temp_schema(x) AS false",
        f"CREATE OR REPLACE MACRO {s}.pg_relation_is_publishable(x) AS false",
        # adbin/indpred/... hold Postgres's deparsed text already
        f"CREATE OR REPLACE MACRO {s}.pg_get_expr(e, rel, pretty := false) AS e::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_indexdef(index_oid, colno := 0, pretty := false) "
        "AS (SELECT CASE WHEN coalesce(colno, 0) = 0 THEN __i_def ELSE __i_cols[colno] "
        f"END FROM {s}.__l_idx WHERE __i_oid = index_oid)",
        f"CREATE OR REPLACE MACRO {s}.pg_get_constraintdef(con, pretty := false) AS "
        f"(SELECT __c_def FROM {s}.__l_con WHERE __c_oid = con)",
        f"CREATE OR REPLACE MACRO {s}.obj_description(obj, catalog := NULL) AS "
        f"(SELECT __d_text FROM {s}.__l_desc WHERE __d_obj = obj AND __d_sub = 0 "
        "AND (catalog IS NULL OR __d_classname = catalog) LIMIT 1)",
        f"CREATE OR REPLACE MACRO {s}.col_description(rel, attnum) AS "
        f"(SELECT __d_text FROM {s}.__l_desc WHERE __d_obj = rel "
        f"AND __d_class = {PG_CLASS} AND __d_sub = attnum LIMIT 1)",
        f"CREATE OR REPLACE MACRO {s}.shobj_description(obj, catalog) AS "
        f"(SELECT __s_text FROM {s}.__l_shdesc WHERE __s_obj = obj LIMIT 1)",
        # Postgres 15's pg_size_pretty: bytes below 10 kB, then units with half rounding
        f"CREATE OR REPLACE MACRO {s}.__half(x) AS (x + CASE WHEN x < 0 THEN -1 ELSE 1 END) // 2",
        f"CREATE OR REPLACE MACRO {s}.pg_size_pretty(n) AS CASE "
        "WHEN n IS NULL THEN NULL "
        "WHEN abs(n) < 10240 THEN n::BIGINT::VARCHAR || ' bytes' "
        f"WHEN abs(n::BIGINT // 512) < 20479 THEN {s}.__half(n::BIGINT // 512)::VARCHAR || ' kB' "
        f"WHEN abs(n::BIGINT // 524288) < 20479 THEN "
        f"{s}.__half(n::BIGINT // 524288)::VARCHAR || ' MB' "
        f"WHEN abs(n::BIGINT // 536870912) < 20479 THEN "
        f"{s}.__half(n::BIGINT // 536870912)::VARCHAR || ' GB' "
        f"WHEN abs(n::BIGINT // 549755813888) < 20479 THEN "
        f"{s}.__half(n::BIGINT // 549755813888)::VARCHAR || ' TB' "
        f"ELSE {s}.__half(n::BIGINT // 562949953421312)::VARCHAR || ' PB' END",
        # sizes: DuckDB does not expose per-table bytes; estimate rows x columns x 8 bytes,
        # rounded up to 8 kB pages as Postgres reports them
        f"CREATE OR REPLACE MACRO {s}.pg_relation_size(rel, fork := 'main') AS coalesce(("
        f"SELECT __z_bytes FROM {s}.__l_size WHERE __z_oid = rel), 0)",
        f"CREATE OR REPLACE MACRO {s}.pg_table_size(rel) AS {s}.pg_relation_size(rel)",
        f"CREATE OR REPLACE MACRO {s}.pg_indexes_size(rel) AS 0::BIGINT",
        f"CREATE OR REPLACE MACRO {s}.pg_tablespace_size(x) AS {s}.pg_database_size(NULL)",
        f"CREATE OR REPLACE MACRO {s}.pg_total_relation_size(rel) AS {s}.pg_relation_size(rel)",
        f"CREATE OR REPLACE MACRO {s}.pg_database_size(db) AS coalesce((SELECT "
        f"sum(__z_bytes) FROM {s}.__l_size), 0)::BIGINT",
        f"CREATE OR REPLACE MACRO {s}.has_table_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_schema_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_database_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_sequence_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_function_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_column_privilege(a, b, c := NULL, d := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.has_type_privilege(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.pg_has_role(a, b, c := NULL) AS true",
        f"CREATE OR REPLACE MACRO {s}.pg_get_statisticsobjdef_columns(x) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_function_result(x) AS "
        f"(SELECT __p_result FROM {s}.__procfmt WHERE __p_oid = x)",
        f"CREATE OR REPLACE MACRO {s}.pg_get_function_arguments(x) AS "
        f"(SELECT __p_args FROM {s}.__procfmt WHERE __p_oid = x)",
        f"CREATE OR REPLACE MACRO {s}.pg_get_function_identity_arguments(x) AS "
        f"(SELECT __p_args FROM {s}.__procfmt WHERE __p_oid = x)",
        f"CREATE OR REPLACE MACRO {s}.pg_get_function_sqlbody(x) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_ts_config_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_ts_dict_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_ts_parser_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_ts_template_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_statistics_obj_is_visible(x) AS x IS NOT NULL",
        f"CREATE OR REPLACE MACRO {s}.pg_get_viewdef(x, pretty := false) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_triggerdef(x, pretty := false) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_ruledef(x, pretty := false) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_partkeydef(x) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_describe_object(a, b, c) AS NULL::VARCHAR",
        f"CREATE OR REPLACE MACRO {s}.pg_get_serial_sequence(tab, col) AS "
        f"(SELECT 'public.' || {s}.quote_ident(__q_seq) FROM {s}.__l_serial "
        "WHERE __q_col = col AND (__q_table = tab OR 'public.' || __q_table = tab))",
        # information_schema._pg_expandarray(arr): rows (x, n), as a struct per element
        f"CREATE OR REPLACE MACRO {s}._pg_expandarray(arr) AS unnest(list_transform("
        "range(1, len(arr) + 1), lambda i: {'x': arr[i], 'n': i::INTEGER}))",
        f"CREATE OR REPLACE MACRO {s}.array_upper(arr, dim) AS "
        "CASE WHEN len(arr) > 0 THEN len(arr) END",
        f"CREATE OR REPLACE MACRO {s}.array_lower(arr, dim) AS CASE WHEN len(arr) > 0 THEN 1 END",
        # `::regclass` and friends (non-literal arguments; literals are resolved in Python)
        f"CREATE OR REPLACE MACRO {s}.__regclass_out(rel) AS coalesce((SELECT "
        f"CASE WHEN __r_nsp IN ({PG_CATALOG_NS}, {PUBLIC_NS}) "
        f"THEN {s}.quote_ident(__r_name) "
        f"ELSE {s}.quote_ident(__r_nspname) || '.' || {s}.quote_ident(__r_name) END "
        f"FROM {s}.__l_rel WHERE __r_oid = rel), CASE WHEN rel = 0 THEN '-' ELSE rel::VARCHAR END)",
        f"CREATE OR REPLACE MACRO {s}.__regclass_find(nsp, rel) AS (SELECT __r_oid "
        f"FROM {s}.__l_rel WHERE __r_name = rel AND (__r_nspname = nsp OR (nsp IS NULL "
        f"AND __r_nsp IN ({PG_CATALOG_NS}, {PUBLIC_NS}))) ORDER BY __r_nsp LIMIT 1)",
        f"CREATE OR REPLACE MACRO {s}.__ident(x) AS CASE WHEN x LIKE '\"%\"' "
        "THEN replace(x[2:-2], '\"\"', '\"') ELSE lower(x) END",
        f"CREATE OR REPLACE MACRO {s}.to_regclass(x) AS CASE "
        "WHEN x IS NULL THEN NULL "
        f'WHEN regexp_full_match(x, \'[^."]+|"[^"]*"\') THEN {s}.__regclass_find('
        f"NULL, {s}.__ident(x)) "
        f"ELSE {s}.__regclass_find({s}.__ident(split_part(x, '.', 1)), "
        f"{s}.__ident(split_part(x, '.', 2))) END",
        f"CREATE OR REPLACE MACRO {s}.__regtype_out(t) AS {s}.format_type(t, NULL)",
        f"CREATE OR REPLACE MACRO {s}.to_regtype(x) AS (SELECT __t_oid FROM {s}.__typfmt "
        "WHERE __t_name = lower(trim(x)) OR __t_fmt = lower(trim(x)) LIMIT 1)",
        f"CREATE OR REPLACE MACRO {s}.__regnamespace_out(n) AS coalesce((SELECT "
        f"{s}.quote_ident(__n_name) FROM {s}.__l_ns WHERE __n_oid = n), n::VARCHAR)",
        f"CREATE OR REPLACE MACRO {s}.to_regnamespace(x) AS "
        f"(SELECT __n_oid FROM {s}.__l_ns WHERE __n_name = {s}.__ident(x))",
        f"CREATE OR REPLACE MACRO {s}.__regrole_out(r) AS coalesce((SELECT "
        f"{s}.quote_ident(__a_name) FROM {s}.__l_role WHERE __a_oid = r), r::VARCHAR)",
        f"CREATE OR REPLACE MACRO {s}.to_regrole(x) AS "
        f"(SELECT __a_oid FROM {s}.__l_role WHERE __a_name = {s}.__ident(x))",
        # Postgres's rendering of a column default from our stored DuckDB text
        f"CREATE OR REPLACE MACRO {s}.__default_text(d, fmt) AS CASE "
        "WHEN d IS NULL THEN NULL "
        "WHEN regexp_full_match(d, '[0-9]+(\\.[0-9]*)?') THEN d "
        "WHEN regexp_full_match(d, '-[0-9]+') THEN '''' || d || '''::' || "
        "CASE WHEN TRY_CAST(d AS HUGEINT) < -2147483648 THEN 'bigint' ELSE 'integer' END "
        "WHEN regexp_full_match(d, '-[0-9]*\\.[0-9]*') THEN '''' || d || '''::numeric' "
        "WHEN regexp_full_match(d, '''([^'']|'''')*''') THEN d || '::' || fmt "
        "WHEN upper(d) IN ('TRUE', 'FALSE') THEN lower(d) "
        "ELSE d END",
    ]


# ----------------------------------------------------------------------------- views


def _views() -> list[tuple[str, str]]:
    s = SCHEMA
    sysrels = ", ".join(
        f"({oid}, '{name}', '{kind}')" for name, (oid, kind) in SYSTEM_RELATIONS.items()
    )
    opclass_by_metric = (
        "CASE ix.metric WHEN 'l2' THEN 'vector_l2_ops' WHEN 'cosine' THEN 'vector_cosine_ops' "
        "WHEN 'ip' THEN 'vector_ip_ops' END"
    )
    return [
        (
            "__sysrel",
            f"SELECT * FROM (VALUES {sysrels}) v(oid, relname, relkind)",
        ),
        (
            "__rel",
            "SELECT t.oid::BIGINT AS reloid, t.name AS relname, "
            f"from_json(t.def, '{_TDEF_JSON}') AS d FROM main.__vg_tables t",
        ),
        (
            "__att",
            "SELECT r.reloid, r.relname, u.c, u.attnum::SMALLINT AS attnum, "
            f"{s}.__typoid(u.c.pg_type) AS typoid, "
            f"{s}.__typmod(u.c.pg_type, u.c.typmod, u.c.type_args) AS typmod "
            f"FROM {s}.__rel r, LATERAL (SELECT unnest(r.d.columns) AS c, "
            "unnest(range(1, len(r.d.columns) + 1)) AS attnum) u",
        ),
        (
            "__seq",
            f"SELECT {s}.__oidbase(a.reloid) + 2 + (a.attnum - 1) % 63 AS oid, "
            "a.relname || '_' || a.c.name || '_seq' AS relname, a.reloid, a.attnum, "
            f"{s}.__seqtype(a.c.pg_type) AS seqtypid FROM {s}.__att a "
            "WHERE a.c.pg_type IN ('serial', 'bigserial', 'smallserial')",
        ),
        (
            "__idx",
            # primary keys: `<table>_pkey`, btree
            f"SELECT {s}.__oidbase(r.reloid) AS indexrelid, r.reloid AS indrelid, "
            "r.relname || '_pkey' AS indexname, r.relname AS tablename, "
            f"{BTREE_AM}::BIGINT AS amoid, 'btree' AS amname, true AS isunique, "
            "true AS isprimary, r.d.primary_key AS cols, "
            f"list_transform(r.d.primary_key, lambda x: {s}.quote_ident(x)) AS keys, "
            "[]::VARCHAR[] AS options, NULL::VARCHAR AS opcname "
            f"FROM {s}.__rel r WHERE len(r.d.primary_key) > 0 "
            "UNION ALL "
            f"SELECT ix.oid, r.reloid, ix.name, r.relname, "
            f"CASE WHEN ix.method = 'btree' THEN {BTREE_AM} ELSE {HNSW_AM} END::BIGINT, "
            "CASE WHEN ix.method = 'btree' THEN 'btree' ELSE 'hnsw' END, "
            "coalesce(di.is_unique, false), false, ix.columns, "
            f"CASE WHEN ix.method = 'btree' THEN list_transform(ix.columns, lambda x: "
            f"{s}.quote_ident(x)) ELSE [{s}.quote_ident(ix.columns[1]) || ' ' || "
            f"coalesce(ix.opclass, {opclass_by_metric})] END, "
            "CASE WHEN ix.method = 'btree' THEN []::VARCHAR[] ELSE "
            "(CASE WHEN coalesce(ix.options.m, 16) <> 16 THEN "
            "['m=' || ix.options.m::VARCHAR] ELSE []::VARCHAR[] END) || "
            "(CASE WHEN coalesce(ix.options.ef_construction, 64) <> 64 THEN "
            "['ef_construction=' || ix.options.ef_construction::VARCHAR] "
            "ELSE []::VARCHAR[] END) END, "
            f"CASE WHEN ix.method <> 'btree' THEN coalesce(ix.opclass, {opclass_by_metric}) END "
            f"FROM {s}.__rel r, LATERAL (SELECT unnest(r.d.indexes) AS ix) u "
            "LEFT JOIN duckdb_indexes() di ON di.index_name = ix.name "
            "AND di.table_name = r.relname AND di.schema_name = 'main'",
        ),
        (
            "__idxdef",
            "SELECT i.*, 'CREATE ' || CASE WHEN i.isunique THEN 'UNIQUE ' ELSE '' END || "
            f"'INDEX ' || {s}.quote_ident(i.indexname) || ' ON public.' || "
            f"{s}.quote_ident(i.tablename) || ' USING ' || i.amname || ' (' || "
            "array_to_string(i.keys, ', ') || ')' || CASE WHEN len(i.options) > 0 THEN "
            "' WITH (' || array_to_string(list_transform(i.options, lambda o: "
            "split_part(o, '=', 1) || '=''' || split_part(o, '=', 2) || ''''), ', ') || ')' "
            "ELSE '' END AS indexdef, "
            "list_transform(i.cols, lambda x: "
            f"{s}.quote_ident(x)) AS quoted_cols FROM {s}.__idx i",
        ),
        (
            "__con",
            f"SELECT {s}.__oidbase(r.reloid) + 1 AS oid, r.relname || '_pkey' AS conname, "
            f"r.reloid AS conrelid, {s}.__oidbase(r.reloid) AS conindid, "
            "list_transform(r.d.primary_key, lambda k: list_position("
            "list_transform(r.d.columns, lambda c: c.name), k))::SMALLINT[] AS conkey, "
            "'PRIMARY KEY (' || array_to_string(list_transform(r.d.primary_key, lambda k: "
            f"{s}.quote_ident(k)), ', ') || ')' AS condef "
            f"FROM {s}.__rel r WHERE len(r.d.primary_key) > 0",
        ),
        (
            "pg_class",
            # the emulated catalogs themselves
            "SELECT oid, relname, "
            f"{PG_CATALOG_NS}::BIGINT AS relnamespace, 0::BIGINT AS reltype, "
            f"0::BIGINT AS reloftype, {BOOTSTRAP_SUPERUSER}::BIGINT AS relowner, "
            f"CASE WHEN relkind = 'r' THEN {HEAP_AM} ELSE 0 END::BIGINT AS relam, "
            "oid AS relfilenode, 0::BIGINT AS reltablespace, 0 AS relpages, "
            "-1::FLOAT AS reltuples, 0 AS relallvisible, 0::BIGINT AS reltoastrelid, "
            "false AS relhasindex, false AS relisshared, 'p' AS relpersistence, relkind, "
            "0::SMALLINT AS relnatts, 0::SMALLINT AS relchecks, false AS relhasrules, "
            "false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity, "
            "false AS relforcerowsecurity, true AS relispopulated, "
            "CASE WHEN relkind = 'r' THEN 'n' ELSE 'n' END AS relreplident, "
            "false AS relispartition, 0::BIGINT AS relrewrite, 0::BIGINT AS relfrozenxid, "
            "0::BIGINT AS relminmxid, NULL::VARCHAR[] AS relacl, "
            "NULL::VARCHAR[] AS reloptions, NULL::VARCHAR AS relpartbound "
            f"FROM {s}.__sysrel "
            "UNION ALL "
            # tables
            f"SELECT reloid, relname, {PUBLIC_NS}, 0, 0, {BOOTSTRAP_SUPERUSER}, {HEAP_AM}, "
            "reloid, 0, 0, -1, 0, 0, len(d.primary_key) + len(d.indexes) > 0, false, 'p', "
            "'r', len(d.columns), 0, false, false, false, false, false, true, 'd', false, "
            f"0, 0, 0, NULL, NULL, NULL FROM {s}.__rel "
            "UNION ALL "
            # indexes
            f"SELECT indexrelid, indexname, {PUBLIC_NS}, 0, 0, {BOOTSTRAP_SUPERUSER}, amoid, "
            "indexrelid, 0, 0, -1, 0, 0, false, false, 'p', 'i', len(cols), 0, false, false, "
            "false, false, false, true, 'n', false, 0, 0, 0, NULL, "
            f"CASE WHEN len(options) > 0 THEN options END, NULL FROM {s}.__idx "
            "UNION ALL "
            # sequences of serial columns
            f"SELECT oid, relname, {PUBLIC_NS}, 0, 0, {BOOTSTRAP_SUPERUSER}, 0, oid, 0, 0, "
            "-1, 0, 0, false, false, 'p', 'S', 3, 0, false, false, false, false, false, "
            f"true, 'n', false, 0, 0, 0, NULL, NULL, NULL FROM {s}.__seq",
        ),
        (
            "pg_attribute",
            "SELECT a.reloid AS attrelid, a.c.name AS attname, a.typoid::UINTEGER AS atttypid, "
            "-1 AS attstattarget, t.typlen AS attlen, a.attnum, 0 AS attndims, "
            "-1 AS attcacheoff, a.typmod AS atttypmod, t.typbyval AS attbyval, "
            "t.typalign AS attalign, t.typstorage AS attstorage, '' AS attcompression, "
            "a.c.not_null OR list_contains(r.d.primary_key, a.c.name) AS attnotnull, "
            "a.c.default_sql IS NOT NULL AS atthasdef, "
            "false AS atthasmissing, '' AS attidentity, '' AS attgenerated, "
            "false AS attisdropped, true AS attislocal, 0 AS attinhcount, "
            "t.typcollation AS attcollation, NULL::VARCHAR[] AS attacl, "
            "NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, "
            "NULL::VARCHAR AS attmissingval "
            f"FROM {s}.__att a JOIN {s}.__rel r ON r.reloid = a.reloid "
            f"LEFT JOIN {s}.pg_type t ON t.oid = a.typoid "
            "UNION ALL "
            # index columns
            "SELECT i.indexrelid, k.col, a.typoid::UINTEGER, -1, t.typlen, k.n::SMALLINT, 0, -1, "
            "a.typmod, t.typbyval, t.typalign, t.typstorage, '', false, false, false, '', "
            "'', false, true, 0, t.typcollation, NULL, NULL, NULL, NULL "
            f"FROM {s}.__idx i, LATERAL (SELECT unnest(i.cols) AS col, "
            "unnest(range(1, len(i.cols) + 1)) AS n) k "
            f"JOIN {s}.__att a ON a.reloid = i.indrelid AND a.c.name = k.col "
            f"LEFT JOIN {s}.pg_type t ON t.oid = a.typoid "
            "UNION ALL "
            # the emulated catalogs' own columns, typed from their DuckDB types
            "SELECT r.oid, c.column_name, m.typoid::UINTEGER, -1, t.typlen, "
            "c.column_index::SMALLINT, "
            "0, -1, -1, t.typbyval, t.typalign, t.typstorage, '', c.is_nullable = 'NO', "
            "false, false, '', '', false, true, 0, t.typcollation, NULL, NULL, NULL, NULL "
            f"FROM {s}.__sysrel r JOIN duckdb_columns() c ON c.schema_name = '{s}' "
            "AND c.table_name = r.relname "
            "JOIN (VALUES ('BIGINT', 26), ('VARCHAR', 25), ('BOOLEAN', 16), ('INTEGER', 23), "
            "('SMALLINT', 21), ('FLOAT', 700), ('VARCHAR[]', 1009), ('BIGINT[]', 1028), "
            "('SMALLINT[]', 1005), ('TIMESTAMP WITH TIME ZONE', 1184), ('BLOB', 17), "
            f"('{_sql_str(pt.PG_CHAR_DUCKDB)}', 18), ('UINTEGER', 26), "
            "('USMALLINT[]', 22), ('UBIGINT[]', 30)) "
            "m(duck, typoid) ON m.duck = c.data_type "
            f"LEFT JOIN {s}.pg_type t ON t.oid = m.typoid "
            "UNION ALL "
            # sequences: last_value, log_cnt, is_called
            "SELECT q.oid, v.name, v.typ::UINTEGER, -1, v.len, v.n::SMALLINT, 0, -1, -1, true, "
            "CASE WHEN v.len = 8 THEN 'd' ELSE 'c' END, 'p', '', true, false, false, '', '', "
            "false, true, 0, 0, NULL, NULL, NULL, NULL "
            f"FROM {s}.__seq q, (VALUES ('last_value', {pt.INT8_OID}, 8, 1), "
            f"('log_cnt', {pt.INT8_OID}, 8, 2), ('is_called', {pt.BOOL_OID}, 1, 3)) "
            "v(name, typ, len, n)",
        ),
        (
            "pg_attrdef",
            f"SELECT {s}.__oidbase(a.reloid) + 65 + (a.attnum - 1) % 63 AS oid, "
            "a.reloid AS adrelid, a.attnum AS adnum, "
            "CASE WHEN a.c.pg_type IN ('serial', 'bigserial', 'smallserial') THEN "
            f"'nextval(''' || {s}.quote_ident(a.relname || '_' || a.c.name || '_seq') || "
            "'''::regclass)' "
            f"ELSE {s}.__default_text(a.c.default_sql, {s}.format_type(a.typoid, NULL)) END "
            f"AS adbin FROM {s}.__att a WHERE a.c.default_sql IS NOT NULL",
        ),
        (
            "pg_index",
            "SELECT indexrelid, indrelid, len(cols)::SMALLINT AS indnatts, "
            "len(cols)::SMALLINT AS indnkeyatts, isunique AS indisunique, "
            "false AS indnullsnotdistinct, isprimary AS indisprimary, "
            "false AS indisexclusion, true AS indimmediate, false AS indisclustered, "
            "true AS indisvalid, false AS indcheckxmin, true AS indisready, "
            "true AS indislive, false AS indisreplident, "
            "(SELECT list(a.attnum ORDER BY k.n) FROM (SELECT unnest(i.cols) AS col, "
            "unnest(range(1, len(i.cols) + 1)) AS n) k "
            f"JOIN {s}.__att a ON a.reloid = i.indrelid AND a.c.name = k.col)::{_I2V} AS indkey, "
            f"list_transform(cols, lambda x: 0)::{_OV} AS indcollation, "
            # default btree opclass of each key column's type; the named one for hnsw
            "(SELECT list(coalesce(oc.oid, 0) ORDER BY k.n) FROM (SELECT unnest(i.cols) AS col, "
            "unnest(range(1, len(i.cols) + 1)) AS n) k "
            f"JOIN {s}.__att a ON a.reloid = i.indrelid AND a.c.name = k.col "
            f"LEFT JOIN {s}.pg_opclass oc ON oc.opcmethod = i.amoid AND CASE WHEN "
            "i.opcname IS NULL THEN oc.opcdefault AND oc.opcintype = a.typoid "
            f"ELSE oc.opcname = i.opcname END)::{_OV} AS indclass, "
            f"list_transform(cols, lambda x: 0)::{_I2V} AS indoption, "
            f"NULL::VARCHAR AS indexprs, NULL::VARCHAR AS indpred FROM {s}.__idx i",
        ),
        (
            "pg_constraint",
            f"SELECT oid, conname, {PUBLIC_NS}::BIGINT AS connamespace, 'p' AS contype, "
            "false AS condeferrable, false AS condeferred, true AS convalidated, conrelid, "
            "0::BIGINT AS contypid, conindid, 0::BIGINT AS conparentid, "
            "0::BIGINT AS confrelid, ' ' AS confupdtype, ' ' AS confdeltype, "
            "' ' AS confmatchtype, true AS conislocal, 0 AS coninhcount, "
            "true AS connoinherit, conkey, NULL::SMALLINT[] AS confkey, "
            "NULL::BIGINT[] AS conpfeqop, NULL::BIGINT[] AS conppeqop, "
            "NULL::BIGINT[] AS conffeqop, NULL::SMALLINT[] AS confdelsetcols, "
            f"NULL::BIGINT[] AS conexclop, NULL::VARCHAR AS conbin FROM {s}.__con",
        ),
        (
            "pg_depend",
            # a serial column owns its sequence; an index depends on its table
            f"SELECT {PG_CLASS}::BIGINT AS classid, oid AS objid, 0 AS objsubid, "
            f"{PG_CLASS}::BIGINT AS refclassid, reloid AS refobjid, attnum::INTEGER AS "
            f"refobjsubid, 'a' AS deptype FROM {s}.__seq "
            "UNION ALL "
            f"SELECT {PG_CLASS}, indexrelid, 0, {PG_CLASS}, indrelid, 0, 'a' "
            f"FROM {s}.__idx WHERE NOT isprimary",
        ),
        (
            "pg_sequence",
            "SELECT oid AS seqrelid, seqtypid, 1::BIGINT AS seqstart, "
            "1::BIGINT AS seqincrement, "
            f"CASE seqtypid WHEN {pt.INT8_OID} THEN 9223372036854775807 "
            f"WHEN {pt.INT4_OID} THEN 2147483647 ELSE 32767 END::BIGINT AS seqmax, "
            "1::BIGINT AS seqmin, 1::BIGINT AS seqcache, false AS seqcycle "
            f"FROM {s}.__seq",
        ),
        (
            "pg_roles",
            "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, "
            "rolreplication, rolconnlimit, '********' AS rolpassword, rolvaliduntil, "
            "rolbypassrls, NULL::VARCHAR[] AS rolconfig, oid "
            f"FROM {s}.pg_authid",
        ),
        (
            "pg_user",
            "SELECT rolname AS usename, oid AS usesysid, rolcreatedb AS usecreatedb, "
            "rolsuper AS usesuper, rolreplication AS userepl, rolbypassrls AS usebypassrls, "
            "'********' AS passwd, rolvaliduntil AS valuntil, NULL::VARCHAR[] AS useconfig "
            f"FROM {s}.pg_authid WHERE rolcanlogin",
        ),
        (
            "pg_tables",
            "SELECT 'public' AS schemaname, relname AS tablename, 'postgres' AS tableowner, "
            "NULL::VARCHAR AS tablespace, relhasindex AS hasindexes, false AS hasrules, "
            f"false AS hastriggers, false AS rowsecurity FROM {s}.pg_class "
            f"WHERE relkind = 'r' AND relnamespace = {PUBLIC_NS}",
        ),
        (
            "pg_indexes",
            "SELECT 'public' AS schemaname, tablename, indexname, "
            f"NULL::VARCHAR AS tablespace, indexdef FROM {s}.__idxdef",
        ),
        # lookups read by macros: column names no caller's query uses, since a macro's
        # body is inlined into the caller's scope
        (
            "__l_rel",
            "SELECT c.oid AS __r_oid, c.relname AS __r_name, c.relkind AS __r_kind, "
            "c.relnamespace AS __r_nsp, n.nspname AS __r_nspname "
            f"FROM {s}.pg_class c JOIN {s}.pg_namespace n ON n.oid = c.relnamespace",
        ),
        ("__l_role", f"SELECT oid AS __a_oid, rolname AS __a_name FROM {s}.pg_authid"),
        ("__l_ns", f"SELECT oid AS __n_oid, nspname AS __n_name FROM {s}.pg_namespace"),
        (
            "__l_desc",
            "SELECT d.objoid AS __d_obj, d.classoid AS __d_class, d.objsubid AS __d_sub, "
            "d.description AS __d_text, c.relname AS __d_classname "
            f"FROM {s}.pg_description d LEFT JOIN {s}.__sysrel c ON c.oid = d.classoid",
        ),
        (
            "__l_shdesc",
            f"SELECT objoid AS __s_obj, description AS __s_text FROM {s}.pg_shdescription",
        ),
        (
            "__l_idx",
            "SELECT indexrelid AS __i_oid, indexdef AS __i_def, quoted_cols AS __i_cols "
            f"FROM {s}.__idxdef",
        ),
        ("__l_con", f"SELECT oid AS __c_oid, condef AS __c_def FROM {s}.__con"),
        (
            "__l_size",
            # DuckDB does not expose a table's bytes: estimate rows x columns x 8 bytes,
            # in 8 kB pages as Postgres counts them
            "SELECT r.reloid AS __z_oid, (ceil(t.estimated_size * t.column_count * 8 / "
            f"8192.0) * 8192)::BIGINT AS __z_bytes FROM {s}.__rel r JOIN duckdb_tables() t "
            "ON t.table_name = r.relname AND t.schema_name = 'main'",
        ),
        (
            "__l_serial",
            "SELECT q.relname AS __q_seq, r.relname AS __q_table, a.c.name AS __q_col "
            f"FROM {s}.__seq q JOIN {s}.__rel r ON r.reloid = q.reloid "
            f"JOIN {s}.__att a ON a.reloid = q.reloid AND a.attnum = q.attnum",
        ),
        (
            "pg_views",
            "SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS viewname, "
            "NULL::VARCHAR AS viewowner, NULL::VARCHAR AS definition WHERE false",
        ),
    ]


def _ordered_definitions() -> list[str]:
    """CREATE statements of the views and macros, each after the ones it reads: DuckDB
    binds a view's or a macro's body when it is created."""
    defs: dict[str, str] = {}
    for stmt in _macros():
        defs[stmt.split(f"MACRO {SCHEMA}.", 1)[1].split("(", 1)[0]] = stmt
    for name, body in _views():
        defs[name] = f"CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {body}"
    out: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise RuntimeError(f"cycle in catalog definitions: {path}")
        body = defs[name].split(" AS ", 1)[1]
        for ref in re.findall(rf"\b{SCHEMA}\.(\w+)", body):
            if ref in defs and ref != name:
                visit(ref, (*path, name))
        done.add(name)
        out.append(defs[name])

    for name in defs:
        visit(name, ())
    return out


def _sql_str(text: str) -> str:
    """`text` for inside a SQL string literal."""
    return text.replace("'", "''")


def _table_ddl(name: str) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in COLUMNS[name])
    return f"CREATE OR REPLACE TABLE {SCHEMA}.{name} ({cols})"


def ensure(cur: duckdb.DuckDBPyConnection, db: object) -> None:
    """Create or refresh the emulated catalog in this database (once per process)."""
    with _lock:
        if db in _done:
            return
        cur.execute("BEGIN")
        try:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            static = [*STATIC_ROWS, *EMPTY, *DYNAMIC]
            for name in static:
                cur.execute(_table_ddl(name))
                rows = STATIC_ROWS.get(name)
                if rows:
                    marks = ", ".join(["?"] * len(COLUMNS[name]))
                    cur.executemany(f"INSERT INTO {SCHEMA}.{name} VALUES ({marks})", rows)
            # DuckDB binds macro and view bodies when they are created: macros that read
            # the views come after them, the views' own helper macros before.
            for stmt in _ordered_definitions():
                cur.execute(stmt)
            for stmt in infoschema.definitions(getattr(db, "name", "postgres")):
                cur.execute(stmt)
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise
        _done.add(db)
