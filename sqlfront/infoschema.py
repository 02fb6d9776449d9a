"""information_schema emulation: the SQL-standard views answered as Postgres 15 does.

Owns the `__vg_is` schema of each database's DuckDB file: views named like Postgres's
(`tables`, `columns`, `schemata`, `table_constraints`, `key_column_usage`, `check_constraints`,
`constraint_column_usage`, `referential_constraints`, `views`, `sequences`, `routines`) over
the pg_catalog emulation (`sqlfront.pgcatalog`'s `__vg_pg` views), so our tables appear in
schema `public` with Postgres's type names: `data_type` is `format_type` for built-in types,
`ARRAY` for arrays and `USER-DEFINED` for pgvector's types (with `udt_name` `vector`), as in
Postgres; `routines` lists pgvector's functions (`sqlfront.pgproc`).

The binder points `information_schema.<name>` at `__vg_is.<name>` for the names in `VIEWS`;
other information_schema relations are left to DuckDB.  Built by `pgcatalog.ensure`, after the
`__vg_pg` views it reads; the database's name is written into the views (`table_catalog`).
Must not: run anything but the CREATE statements it returns.
"""

from __future__ import annotations

from sqlfront import pgtypes as pt

SCHEMA = "__vg_is"
PG = "__vg_pg"

VIEWS = (
    "tables",
    "columns",
    "schemata",
    "table_constraints",
    "key_column_usage",
    "check_constraints",
    "constraint_column_usage",
    "referential_constraints",
    "views",
    "sequences",
    "routines",
)

# information_schema.routines' columns after `security_type`, all NULL here as in Postgres
# (except the yes_or_no ones, which Postgres fills with 'NO')
_ROUTINE_TAIL = (
    "to_sql_specific_catalog to_sql_specific_schema to_sql_specific_name as_locator:NO "
    "created:T last_altered:T new_savepoint_level is_udt_dependent:NO "
    "result_cast_from_data_type result_cast_as_locator:NO result_cast_char_max_length:I "
    "result_cast_char_octet_length:I result_cast_char_set_catalog result_cast_char_set_schema "
    "result_cast_char_set_name result_cast_collation_catalog result_cast_collation_schema "
    "result_cast_collation_name result_cast_numeric_precision:I "
    "result_cast_numeric_precision_radix:I result_cast_numeric_scale:I "
    "result_cast_datetime_precision:I result_cast_interval_type "
    "result_cast_interval_precision:I result_cast_type_udt_catalog result_cast_type_udt_schema "
    "result_cast_type_udt_name result_cast_scope_catalog result_cast_scope_schema "
    "result_cast_scope_name result_cast_maximum_cardinality:I result_cast_dtd_identifier"
).split()


def _nulls(spec: list[str]) -> str:
    """`name` -> NULL::VARCHAR, `name:I` -> NULL::INTEGER, `name:T` -> NULL::TIMESTAMPTZ,
    `name:NO` -> 'NO'."""
    out = []
    for item in spec:
        name, _, kind = item.partition(":")
        value = {"I": _I, "T": "NULL::TIMESTAMPTZ", "NO": "'NO'"}.get(kind, _V)
        out.append(f"{value} AS {name}")
    return ", ".join(out)


_V = "NULL::VARCHAR"
_I = "NULL::INTEGER"
_SERIAL_TYPES = (
    f"({pt.INT8_OID}, 'bigint', 64, '9223372036854775807'), "
    f"({pt.INT4_OID}, 'integer', 32, '2147483647'), ({pt.INT2_OID}, 'smallint', 16, '32767')"
)
_INTS = f"{pt.INT2_OID}, {pt.INT4_OID}, {pt.INT8_OID}"
_FLOATS = f"{pt.FLOAT4_OID}, {pt.FLOAT8_OID}"
_CHARS = f"{pt.VARCHAR_OID}, {pt.BPCHAR_OID}"
_TIMES = f"{pt.TIME_OID}, {pt.TIMETZ_OID}, {pt.TIMESTAMP_OID}, {pt.TIMESTAMPTZ_OID}"


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _views(db: str) -> list[tuple[str, str]]:
    cat = _quote(db)
    sysrels = (
        f"SELECT {cat} AS table_catalog, 'pg_catalog' AS table_schema, relname AS table_name, "
        "CASE relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END AS table_type "
        f"FROM {PG}.__sysrel"
    )
    own = " UNION ALL ".join(f"SELECT {cat}, 'information_schema', '{v}', 'VIEW'" for v in VIEWS)
    notnull = (
        # Postgres 15 lists each NOT NULL column as a CHECK constraint of this name
        f"SELECT '{2200}_' || a.reloid::VARCHAR || '_' || a.attnum::VARCHAR || '_not_null' "
        f"AS conname, a.relname, {PG}.quote_ident(a.c.name) || ' IS NOT NULL' AS clause "
        f"FROM {PG}.__att a JOIN {PG}.__rel r ON r.reloid = a.reloid "
        "WHERE a.c.not_null OR list_contains(r.d.primary_key, a.c.name)"
    )
    pkcols = (
        f"SELECT c.conname, r.relname, u.col, u.n FROM {PG}.__con c "
        f"JOIN {PG}.__rel r ON r.reloid = c.conrelid, LATERAL (SELECT "
        "unnest(r.d.primary_key) AS col, unnest(range(1, len(r.d.primary_key) + 1)) AS n) u"
    )
    type_mid = (
        "character_maximum_length:I character_octet_length:I character_set_catalog "
        "character_set_schema character_set_name collation_catalog collation_schema "
        "collation_name numeric_precision:I numeric_precision_radix:I numeric_scale:I "
        "datetime_precision:I interval_type interval_precision:I"
    ).split()
    return [
        (
            "sequences",
            f"SELECT {cat} AS sequence_catalog, 'public' AS sequence_schema, "
            "q.relname AS sequence_name, t.name AS data_type, t.bits AS numeric_precision, "
            "2 AS numeric_precision_radix, 0 AS numeric_scale, '1' AS start_value, "
            "'1' AS minimum_value, t.maxv AS maximum_value, '1' AS increment, "
            f"'NO' AS cycle_option FROM {PG}.__seq q JOIN (VALUES {_SERIAL_TYPES}) "
            "t(oid, name, bits, maxv) ON t.oid = q.seqtypid",
        ),
        (
            "routines",
            f"SELECT {cat} AS specific_catalog, 'public' AS specific_schema, "
            "p.proname || '_' || p.oid::VARCHAR AS specific_name, "
            f"{cat} AS routine_catalog, 'public' AS routine_schema, "
            "p.proname AS routine_name, CASE p.prokind WHEN 'f' THEN 'FUNCTION' "
            "WHEN 'p' THEN 'PROCEDURE' END AS routine_type, "
            f"{_V} AS module_catalog, {_V} AS module_schema, {_V} AS module_name, "
            f"{_V} AS udt_catalog, {_V} AS udt_schema, {_V} AS udt_name, "
            "CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN 'ARRAY' "
            f"WHEN t.typnamespace = 11 THEN {PG}.format_type(t.oid, NULL) "
            f"ELSE 'USER-DEFINED' END AS data_type, {_nulls(type_mid)}, "
            f"{cat} AS type_udt_catalog, CASE WHEN t.typnamespace = 11 THEN 'pg_catalog' "
            "ELSE 'public' END AS type_udt_schema, t.typname AS type_udt_name, "
            f"{_V} AS scope_catalog, {_V} AS scope_schema, {_V} AS scope_name, "
            f"{_I} AS maximum_cardinality, '0' AS dtd_identifier, "
            "CASE WHEN l.lanname = 'sql' THEN 'SQL' ELSE 'EXTERNAL' END AS routine_body, "
            f"{_V} AS routine_definition, "
            "CASE WHEN l.lanname = 'c' THEN p.prosrc END AS external_name, "
            "upper(l.lanname) AS external_language, 'GENERAL' AS parameter_style, "
            "CASE WHEN p.provolatile = 'i' THEN 'YES' ELSE 'NO' END AS is_deterministic, "
            "'MODIFIES' AS sql_data_access, "
            "CASE WHEN p.proisstrict THEN 'YES' ELSE 'NO' END AS is_null_call, "
            f"{_V} AS sql_path, 'YES' AS schema_level_routine, "
            "0 AS max_dynamic_result_sets, 'NO' AS is_user_defined_cast, "
            "'NO' AS is_implicitly_invocable, "
            "CASE WHEN p.prosecdef THEN 'DEFINER' ELSE 'INVOKER' END AS security_type, "
            f"{_nulls(_ROUTINE_TAIL)} FROM {PG}.pg_proc p "
            f"JOIN {PG}.pg_type t ON t.oid = p.prorettype "
            f"JOIN {PG}.pg_language l ON l.oid = p.prolang",
        ),
        (
            "tables",
            "SELECT *, NULL::VARCHAR AS self_referencing_column_name, "
            f"{_V} AS reference_generation, {_V} AS user_defined_type_catalog, "
            f"{_V} AS user_defined_type_schema, {_V} AS user_defined_type_name, "
            "CASE WHEN table_type = 'BASE TABLE' THEN 'YES' ELSE 'NO' END "
            f"AS is_insertable_into, 'NO' AS is_typed, {_V} AS commit_action FROM ("
            f"SELECT {cat} AS table_catalog, 'public' AS table_schema, relname AS table_name, "
            f"'BASE TABLE' AS table_type FROM {PG}.__rel "
            f"UNION ALL {sysrels} UNION ALL {own})",
        ),
        (
            "columns",
            f"SELECT {cat} AS table_catalog, 'public' AS table_schema, a.relname AS table_name, "
            "a.c.name AS column_name, a.attnum::INTEGER AS ordinal_position, "
            "d.adbin AS column_default, "
            "CASE WHEN a.c.not_null OR list_contains(r.d.primary_key, a.c.name) THEN 'NO' "
            "ELSE 'YES' END AS is_nullable, "
            "CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN 'ARRAY' "
            f"WHEN t.typnamespace = 11 THEN {PG}.format_type(a.typoid, NULL) "
            "ELSE 'USER-DEFINED' END AS data_type, "
            f"CASE WHEN a.typoid IN ({_CHARS}) AND a.typmod >= 4 THEN a.typmod - 4 "
            "END::INTEGER AS character_maximum_length, "
            f"CASE WHEN a.typoid IN ({_CHARS}) AND a.typmod >= 4 THEN (a.typmod - 4) * 4 "
            f"WHEN a.typoid IN ({_CHARS}, {pt.TEXT_OID}) THEN 1073741824 "
            "END::INTEGER AS character_octet_length, "
            f"CASE a.typoid WHEN {pt.INT2_OID} THEN 16 WHEN {pt.INT4_OID} THEN 32 "
            f"WHEN {pt.INT8_OID} THEN 64 WHEN {pt.FLOAT4_OID} THEN 24 "
            f"WHEN {pt.FLOAT8_OID} THEN 53 WHEN {pt.NUMERIC_OID} THEN CASE "
            "WHEN a.typmod >= 4 THEN (a.typmod - 4) >> 16 END END::INTEGER AS numeric_precision, "
            f"CASE WHEN a.typoid IN ({_INTS}, {_FLOATS}) THEN 2 "
            f"WHEN a.typoid = {pt.NUMERIC_OID} THEN 10 END::INTEGER AS numeric_precision_radix, "
            f"CASE WHEN a.typoid IN ({_INTS}) THEN 0 WHEN a.typoid = {pt.NUMERIC_OID} "
            "AND a.typmod >= 4 THEN (a.typmod - 4) & 65535 END::INTEGER AS numeric_scale, "
            f"CASE WHEN a.typoid = {pt.DATE_OID} THEN 0 "
            f"WHEN a.typoid IN ({_TIMES}, {pt.INTERVAL_OID}) THEN "
            "CASE WHEN a.typmod >= 0 THEN a.typmod ELSE 6 END END::INTEGER "
            "AS datetime_precision, "
            f"{_V} AS interval_type, {_I} AS interval_precision, "
            f"{_V} AS character_set_catalog, {_V} AS character_set_schema, "
            f"{_V} AS character_set_name, {_V} AS collation_catalog, "
            f"{_V} AS collation_schema, {_V} AS collation_name, {_V} AS domain_catalog, "
            f"{_V} AS domain_schema, {_V} AS domain_name, {cat} AS udt_catalog, "
            "CASE WHEN t.typnamespace = 11 THEN 'pg_catalog' ELSE 'public' END AS udt_schema, "
            f"t.typname AS udt_name, {_V} AS scope_catalog, {_V} AS scope_schema, "
            f"{_V} AS scope_name, {_I} AS maximum_cardinality, "
            "a.attnum::VARCHAR AS dtd_identifier, 'NO' AS is_self_referencing, "
            f"'NO' AS is_identity, {_V} AS identity_generation, {_V} AS identity_start, "
            f"{_V} AS identity_increment, {_V} AS identity_maximum, "
            f"{_V} AS identity_minimum, 'NO' AS identity_cycle, 'NEVER' AS is_generated, "
            f"{_V} AS generation_expression, 'YES' AS is_updatable "
            f"FROM {PG}.__att a JOIN {PG}.__rel r ON r.reloid = a.reloid "
            f"LEFT JOIN {PG}.pg_type t ON t.oid = a.typoid "
            f"LEFT JOIN {PG}.pg_attrdef d ON d.adrelid = a.reloid AND d.adnum = a.attnum",
        ),
        (
            "schemata",
            f"SELECT {cat} AS catalog_name, s.schema_name, s.schema_owner, "
            f"{_V} AS default_character_set_catalog, {_V} AS default_character_set_schema, "
            f"{_V} AS default_character_set_name, {_V} AS sql_path FROM (VALUES "
            "('information_schema', 'postgres'), ('pg_catalog', 'postgres'), "
            "('pg_toast', 'postgres'), ('public', 'pg_database_owner')) "
            "s(schema_name, schema_owner)",
        ),
        (
            "table_constraints",
            f"SELECT {cat} AS constraint_catalog, 'public' AS constraint_schema, "
            f"c.conname AS constraint_name, {cat} AS table_catalog, 'public' AS table_schema, "
            "r.relname AS table_name, 'PRIMARY KEY' AS constraint_type, "
            "'NO' AS is_deferrable, 'NO' AS initially_deferred, 'YES' AS enforced, "
            f"{_V} AS nulls_distinct FROM {PG}.__con c JOIN {PG}.__rel r "
            "ON r.reloid = c.conrelid "
            f"UNION ALL SELECT {cat}, 'public', conname, {cat}, 'public', relname, 'CHECK', "
            f"'NO', 'NO', 'YES', NULL FROM ({notnull})",
        ),
        (
            "key_column_usage",
            f"SELECT {cat} AS constraint_catalog, 'public' AS constraint_schema, "
            f"conname AS constraint_name, {cat} AS table_catalog, 'public' AS table_schema, "
            "relname AS table_name, col AS column_name, n::INTEGER AS ordinal_position, "
            f"{_I} AS position_in_unique_constraint FROM ({pkcols})",
        ),
        (
            "check_constraints",
            f"SELECT {cat} AS constraint_catalog, 'public' AS constraint_schema, "
            f"conname AS constraint_name, clause AS check_clause FROM ({notnull})",
        ),
        (
            "constraint_column_usage",
            f"SELECT {cat} AS table_catalog, 'public' AS table_schema, relname AS table_name, "
            f"col AS column_name, {cat} AS constraint_catalog, "
            f"'public' AS constraint_schema, conname AS constraint_name FROM ({pkcols})",
        ),
        (
            "referential_constraints",
            # no foreign keys: the columns, no rows
            f"SELECT {_V} AS constraint_catalog, {_V} AS constraint_schema, "
            f"{_V} AS constraint_name, {_V} AS unique_constraint_catalog, "
            f"{_V} AS unique_constraint_schema, {_V} AS unique_constraint_name, "
            f"{_V} AS match_option, {_V} AS update_rule, {_V} AS delete_rule WHERE false",
        ),
        (
            "views",
            f"SELECT {_V} AS table_catalog, {_V} AS table_schema, {_V} AS table_name, "
            f"{_V} AS view_definition, {_V} AS check_option, {_V} AS is_updatable, "
            f"{_V} AS is_insertable_into, {_V} AS is_trigger_updatable, "
            f"{_V} AS is_trigger_deletable, {_V} AS is_trigger_insertable_into WHERE false",
        ),
    ]


def definitions(db_name: str) -> list[str]:
    """CREATE statements of the schema and its views, for the database named `db_name`."""
    out = [f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"]
    for name, body in _views(db_name):
        out.append(f"CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {body}")
    return out
