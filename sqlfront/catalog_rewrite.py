"""Rewriting Postgres catalog idioms into DuckDB SQL over the `__vg_pg` emulation.

Owns `rewrite_catalog_query(ctx, tree)`, which the binder calls on every query after
`resolve_tables` (so `pg_catalog.pg_class` already reads `__vg_pg.pg_class`) and before
output names are assigned.  It rewrites, in place:

* `pg_catalog.f(...)` and bare calls of the functions `sqlfront.pgcatalog` defines as macros
  (`format_type`, `pg_get_indexdef`, `pg_get_userbyid`, `obj_description`, ...) into
  `__vg_pg.f(...)`; other `pg_catalog.`-qualified functions lose the qualifier;
* `x::regclass` / `::regtype` / `::regnamespace` / `::regrole` / `::regproc`: a string
  literal is resolved here to its OID (or the Postgres error), `to_regclass('t')` and
  `to_regtype('vector')` likewise; a non-literal is the OID itself, and is printed as a name
  where Postgres would print one (a select-list item, a cast to text, a `||` operand);
* casts to `oid`, `name`, `"char"`, `pg_catalog.text`, `int2vector`, ... into DuckDB types;
* `OPERATOR(pg_catalog.~)` into the operator, `COLLATE pg_catalog.default` away, `'{0}'`
  array literals compared with a column into DuckDB's `'[0]'`;
* session-dependent functions into literals: `current_user`, `session_user`, `user`,
  `current_database()`, `current_catalog`, `current_schema()`, `current_schemas(bool)`,
  `version()`, `current_setting('name')`;
* `pg_database` and `pg_settings`, whose rows depend on the cluster and the session, into
  inline relations built from `ctx`;
* `'pg_catalog.array_in'::regproc` into the function's name (pg_type/pg_proc keep names),
  `information_schema._pg_expandarray(a)` into its macro (rows of `(x, n)` structs),
  `pg_catalog.pg_class.relname` into `pg_class.relname`, `<catalog>.tableoid` into the
  catalog's OID, 0-based subscripts of `pg_index.indkey` & co. (int2vector) into DuckDB's
  1-based ones, `json_build_object` into DuckDB's `json_object`, and `format('%I.%s', ...)`
  (Postgres's %s / %I / %L) into concatenation.

Unaliased select-list items that change are aliased first with the name Postgres gives them
(`SELECT version()` is still a column named `version`).
Must not: resolve user tables (binder) or run anything.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from engine.catalog import SERIAL_TYPES, TableDef
from engine.errors import FeatureNotSupported, PgError, UndefinedObject, UndefinedTable
from sqlfront import pgcatalog as pc
from sqlfront.dialect import VecPostgres
from sqlfront.settings import DEFAULTS, SERVER_VERSION

if TYPE_CHECKING:
    from sqlfront.binder import BindContext

VECGRES_VERSION = "0.1.0"
VERSION_STRING = (
    f"PostgreSQL {SERVER_VERSION} (vecgres {VECGRES_VERSION}) on x86_64-pc-linux-gnu, "
    "compiled by gcc, 64-bit"
)
DATABASE_LOCALE = "C.UTF-8"


def _macro_names() -> frozenset[str]:
    names = set()
    for stmt in pc._macros():
        name = stmt.split(f"MACRO {pc.SCHEMA}.", 1)[1].split("(", 1)[0]
        if not name.startswith("__"):
            names.add(name)
    return frozenset(names)


MACROS = _macro_names()

# A cheap test on the statement text: none of these words, no target in its tree.
_WORD = re.compile(r"[a-z_][a-z0-9_$]*")
_GATE_WORDS = MACROS | {
    "user",
    "session_user",
    "version",
    "operator",
    "collate",
    "current_setting",
    "set_config",
    "oid",
    "xid",
    "xid8",
    "cid",
    "tid",
    "char",
    "int2vector",
    "oidvector",
    "tableoid",
    "information_schema",
    "json_build_object",
    "jsonb_build_object",
    "format",
}
_GATE_PREFIXES = ("pg_", "reg", "to_reg", "current_")
_NAME_CAST = re.compile(r"(?:::|\bas)\s*name\b")


def _may_have_targets(sql: str) -> bool:
    low = sql.lower()
    for w in set(_WORD.findall(low)):
        if w in _GATE_WORDS or w.startswith(_GATE_PREFIXES):
            return True
        if w == "name" and _NAME_CAST.search(low):
            return True
    return False


_REG_TYPES = frozenset(
    {
        "regclass",
        "regtype",
        "regnamespace",
        "regrole",
        "regproc",
        "regprocedure",
        "regoper",
        "regoperator",
        "regconfig",
        "regdictionary",
        "regcollation",
    }
)
_OID_TYPES = frozenset({"oid", "xid", "xid8", "cid", "tid"})
_TEXT_TYPES = frozenset(
    {"name", '"char"', "text", "bpchar", "varchar", "pg_node_tree", "aclitem", "cstring"}
)
_SPECIAL_TYPES = {"int2vector": "SMALLINT[]", "oidvector": "BIGINT[]"}
_COLLATIONS = frozenset({"default", "c", "posix", "ucs_basic"})
_OPERATORS: dict[str, type[exp.Expression]] = {
    "~": exp.RegexpLike,
    "~*": exp.RegexpILike,
    "~~": exp.Like,
    "~~*": exp.ILike,
    "=": exp.EQ,
    "<>": exp.NEQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "||": exp.DPipe,
}
# pg_catalog's int2vector / oidvector columns: subscripts start at 0 (DuckDB lists at 1)
_ZERO_BASED_COLUMNS = frozenset({"indkey", "indoption", "indclass", "indcollation", "proargtypes"})
# Postgres functions DuckDB has under another name (SQLAlchemy's reflection uses these)
_RENAMED = {"json_build_object": "json_object", "jsonb_build_object": "json_object"}
_SINGLE_COLUMN_TABLE_FUNCS = (exp.Explode, exp.GenerateSeries, exp.ExplodingGenerateSeries)


# ---------------------------------------------------------------------------- entry


def rewrite_catalog_query(ctx: BindContext, tree: exp.Expression) -> exp.Expression:
    """Rewrite the catalog idioms of `tree` in place (see the module docstring); returns it."""
    sql = getattr(ctx, "sql", None)
    if isinstance(sql, str) and not _may_have_targets(sql):
        return tree  # nothing here could be a target: skip the tree walk (hot path)
    _system_column_tableoid(tree)
    _unqualify_catalog_columns(tree)
    _zero_based_subscripts(tree)
    if not any(_is_target(n) for n in tree.walk()):
        return tree
    _alias_changed_items(tree)
    for node in reversed(list(tree.walk())):  # children before their parents
        new = _rewrite(ctx, node)
        if new is not None and new is not node:
            node.replace(new)
    return tree


def _unqualify_catalog_columns(tree: exp.Expression) -> None:
    """`pg_catalog.pg_class.relname` (SQLAlchemy's spelling): the relation is read under its
    own name as alias (binder), so the column drops the schema."""
    for col in tree.find_all(exp.Column):
        db = col.args.get("db")
        if db is not None and db.name.lower() in ("pg_catalog", "information_schema"):
            col.set("db", None)


def _system_column_tableoid(tree: exp.Expression) -> None:
    """`<catalog alias>.tableoid` (psql's `\\dL` joins pg_description on it): the catalog's
    pg_class OID, as the system column holds in Postgres."""
    oids: dict[str, int] = {}
    for table in tree.find_all(exp.Table):
        if (table.db or "").lower() == pc.SCHEMA and table.name in pc.SYSTEM_RELATIONS:
            oids[table.alias_or_name] = pc.SYSTEM_RELATIONS[table.name][0]
    if not oids:
        return
    for col in list(tree.find_all(exp.Column)):
        if col.name.lower() == "tableoid" and col.table in oids:
            col.replace(exp.Literal.number(oids[col.table]))


def _is_target(node: exp.Expression) -> bool:
    if isinstance(node, exp.Dot):
        return (_is_pg_catalog(node.this) or _is_info_schema(node.this)) and isinstance(
            node.expression, exp.Func
        )
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in MACROS or str(node.this).lower() in (
            "current_setting",
            "set_config",
            "pg_advisory_unlock_all",
            "to_regclass",
            "to_regtype",
            *_RENAMED,
        )
    if isinstance(
        node,
        exp.CurrentUser
        | exp.SessionUser
        | exp.CurrentDatabase
        | exp.CurrentCatalog
        | exp.CurrentSchema
        | exp.CurrentSchemas
        | exp.CurrentVersion
        | exp.CurrentRole
        | exp.Operator,
    ):
        return True
    if isinstance(node, exp.Column):
        return _is_user_keyword(node)
    if isinstance(node, exp.Collate):
        return _is_pg_collation(node.expression)
    if isinstance(node, exp.Cast):
        return _type_key(node.to) is not None
    if isinstance(node, exp.Table):
        db = node.db.lower() if node.db else None
        if isinstance(node.this, exp.Func):
            return db == "pg_catalog"
        return db == pc.SCHEMA and node.name in pc.DYNAMIC
    if isinstance(node, exp.EQ | exp.NEQ):
        return _array_literal_side(node) is not None
    if isinstance(node, exp.Format):
        return _format_pieces(node) is not None
    return False


_FORMAT_SPEC = re.compile(r"%(.)", re.S)


def _format_pieces(node: exp.Format) -> list[tuple[str, str]] | None:
    """Postgres `format()`'s string as (literal text, conversion) pieces, when it uses only
    `%s`, `%I`, `%L` and `%%` (what psql and drivers use); None otherwise."""
    fmt = node.this
    if not (isinstance(fmt, exp.Literal) and fmt.is_string) or "%" not in fmt.this:
        return None
    pieces: list[tuple[str, str]] = []
    text, pos = "", 0
    for m in _FORMAT_SPEC.finditer(fmt.this):
        text += fmt.this[pos : m.start()]
        pos = m.end()
        conv = m.group(1)
        if conv == "%":
            text += "%"
        elif conv in "sIL":
            pieces.append((text, conv))
            text = ""
        else:
            return None
    if "%" in fmt.this[pos:]:
        return None
    pieces.append((text + fmt.this[pos:], ""))
    if sum(1 for _, c in pieces if c) != len(node.expressions):
        return None
    return pieces


def _format(node: exp.Format) -> exp.Expression | None:
    """`format('%I.%I', a, b)` as DuckDB concatenation (DuckDB's format() is fmt-style)."""
    pieces = _format_pieces(node)
    if pieces is None:
        return None
    args = iter(node.expressions)
    parts: list[exp.Expression] = []
    for text, conv in pieces:
        if text:
            parts.append(exp.Literal.string(text))
        if not conv:
            continue
        arg = exp.Cast(this=next(args), to=exp.DataType.build("VARCHAR"))
        if conv == "s":
            parts.append(exp.Coalesce(this=arg, expressions=[exp.Literal.string("")]))
        elif conv == "I":
            parts.append(_macro("quote_ident", [arg]))
        else:
            quoted = exp.DPipe(
                this=exp.DPipe(
                    this=exp.Literal.string("'"),
                    expression=exp.Anonymous(
                        this="replace",
                        expressions=[arg, exp.Literal.string("'"), exp.Literal.string("''")],
                    ),
                ),
                expression=exp.Literal.string("'"),
            )
            parts.append(exp.Coalesce(this=quoted, expressions=[exp.Literal.string("NULL")]))
    if not parts:
        return exp.Literal.string("")
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return exp.paren(out)


def _zero_based_subscripts(tree: exp.Expression) -> None:
    """`i.indkey[n]` of pg_index / pg_proc (int2vector, oidvector) counts from 0 (psqlODBC's
    SQLPrimaryKeys): DuckDB's list subscript counts from 1."""
    aliases = {
        t.alias_or_name
        for t in tree.find_all(exp.Table)
        if (t.db or "").lower() == pc.SCHEMA and t.name in ("pg_index", "pg_proc")
    }
    if not aliases:
        return
    for node in list(tree.find_all(exp.Bracket)):
        col = node.this
        if (
            isinstance(col, exp.Column)
            and col.name.lower() in _ZERO_BASED_COLUMNS
            and (col.table in aliases or not col.table)
            and len(node.expressions) == 1
            and not node.meta.get("vg_zero_based")
        ):
            (idx,) = node.expressions
            one = exp.Literal.number(1)
            node.set("expressions", [exp.Add(this=exp.paren(idx.copy()), expression=one)])
            node.meta["vg_zero_based"] = True


def _is_pg_catalog(node: exp.Expression) -> bool:
    return isinstance(node, exp.Identifier | exp.Var) and node.name.lower() == "pg_catalog"


def _is_info_schema(node: exp.Expression) -> bool:
    return isinstance(node, exp.Identifier | exp.Var) and node.name.lower() == "information_schema"


def _is_user_keyword(col: exp.Column) -> bool:
    ident = col.this
    return (
        not col.table
        and isinstance(ident, exp.Identifier)
        and not ident.quoted
        and ident.name.lower() in ("user", "current_role")
    )


def _is_pg_collation(node: exp.Expression | None) -> bool:
    if isinstance(node, exp.Column):
        return (node.table or "").lower() == "pg_catalog" or node.name.lower() in _COLLATIONS
    if isinstance(node, exp.Identifier | exp.Var | exp.Literal):
        return node.name.lower() in _COLLATIONS
    return False


# ------------------------------------------------------------------------ output names


def _alias_changed_items(tree: exp.Expression) -> None:
    """Alias unaliased select items that will be rewritten, with Postgres's column name."""
    for select in list(tree.find_all(exp.Select)):
        items = select.expressions
        new = []
        changed = False
        for item in items:
            if isinstance(item, exp.Alias | exp.Star) or (
                isinstance(item, exp.Column) and not _is_user_keyword(item)
            ):
                new.append(item)
                continue
            if not any(_is_target(n) for n in item.walk()):
                new.append(item)
                continue
            name = pg_column_name(item)
            new.append(exp.alias_(item, name, quoted=True))
            changed = True
        if changed:
            select.set("expressions", new)


def pg_column_name(node: exp.Expression) -> str:
    """Postgres's output name for an unaliased select item (FigureColname)."""
    name, _ = _colname(node)
    return name or "?column?"


def _colname(node: exp.Expression) -> tuple[str | None, int]:
    """(name, strength): 2 for a column or function name, 1 for a type name."""
    if isinstance(node, exp.Column):
        return node.name, 2
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return _colname(node.expression)
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower(), 2
    special = {
        exp.CurrentUser: "current_user",
        exp.SessionUser: "session_user",
        exp.CurrentDatabase: "current_database",
        exp.CurrentCatalog: "current_catalog",
        exp.CurrentSchema: "current_schema",
        exp.CurrentSchemas: "current_schemas",
        exp.CurrentVersion: "version",
        exp.CurrentRole: "current_role",
    }
    for cls, name in special.items():
        if isinstance(node, cls):
            return name, 2
    if isinstance(node, exp.Paren):
        return _colname(node.this)
    if isinstance(node, exp.Cast):
        inner, strength = _colname(node.this)
        if strength > 1:
            return inner, strength
        key = _type_key(node.to)
        if key is None:
            from sqlfront.binder import output_name

            return output_name(node), 1
        return key.strip('"').removesuffix("[]"), 1
    if isinstance(node, exp.Func):
        from sqlfront.binder import output_name

        return output_name(node), 2
    return None, 0


# --------------------------------------------------------------------------- rewrites


def _rewrite(ctx: BindContext, node: exp.Expression) -> exp.Expression | None:
    if isinstance(node, exp.Dot):
        if _is_info_schema(node.this):  # information_schema._pg_expandarray(...)
            inner = node.expression
            if isinstance(inner, exp.Anonymous) and str(inner.this).lower() in MACROS:
                return _macro(str(inner.this).lower(), list(inner.expressions))
            return inner if isinstance(inner, exp.Dot) else None  # rewritten already
        if not _is_pg_catalog(node.this):
            return None
        inner = node.expression
        if isinstance(inner, exp.Anonymous):  # not one of ours (those are rewritten already)
            return _function(ctx, inner, qualified=True)
        return inner if isinstance(inner, exp.Func | exp.Dot | exp.Literal | exp.Null) else None
    if isinstance(node, exp.Anonymous):
        return _function(ctx, node, qualified=False)
    if isinstance(node, exp.CurrentUser | exp.SessionUser | exp.CurrentRole):
        return exp.Literal.string(_user(ctx))
    if isinstance(node, exp.Column) and _is_user_keyword(node):
        return exp.Literal.string(_user(ctx))
    if isinstance(node, exp.CurrentDatabase | exp.CurrentCatalog):
        return exp.Literal.string(ctx.db.name)
    if isinstance(node, exp.CurrentSchema):
        return exp.Literal.string("public")
    if isinstance(node, exp.CurrentSchemas):
        return _current_schemas(node.this)
    if isinstance(node, exp.CurrentVersion):
        return exp.Literal.string(VERSION_STRING)
    if isinstance(node, exp.Operator):
        return _operator(node)
    if isinstance(node, exp.Collate) and _is_pg_collation(node.expression):
        return node.this
    if isinstance(node, exp.Cast):
        return _cast(ctx, node)
    if isinstance(node, exp.Table):
        return _table(ctx, node)
    if isinstance(node, exp.Format):
        return _format(node)
    if isinstance(node, exp.EQ | exp.NEQ):
        lit = _array_literal_side(node)
        if lit is not None:
            lit.replace(exp.Literal.string("[" + lit.this[1:-1] + "]"))
        return None
    return None


def _user(ctx: BindContext) -> str:
    return ctx.settings.get("session_authorization") or "postgres"


def _current_schemas(arg: exp.Expression | None) -> exp.Expression:
    with_implicit = exp.Array(
        expressions=[exp.Literal.string("pg_catalog"), exp.Literal.string("public")]
    )
    explicit = exp.Array(expressions=[exp.Literal.string("public")])
    if isinstance(arg, exp.Boolean):
        return with_implicit if arg.this else explicit
    return exp.If(this=arg, true=with_implicit, false=explicit)


def _operator(node: exp.Operator) -> exp.Expression:
    op = str(node.args.get("operator") or "").strip()
    op = op.split(".", 1)[1] if op.lower().startswith("pg_catalog.") else op
    negate = op.startswith("!") and op != "!="
    cls = _OPERATORS.get(op[1:] if negate else op)
    if cls is None:
        raise PgError(f"operator does not exist: {op}", sqlstate="42883")
    new: exp.Expression = cls(this=node.this, expression=node.expression)
    return exp.Not(this=new) if negate else new


def _array_literal_side(node: exp.Expression) -> exp.Literal | None:
    sides = [node.this, node.expression]
    for i in (0, 1):
        lit = sides[i]
        if (
            isinstance(lit, exp.Literal)
            and lit.is_string
            and re.fullmatch(r"\{[^{}\"]*\}", lit.this)
            and isinstance(sides[1 - i], exp.Column)
        ):
            return lit
    return None


# -------------------------------------------------------------------------- functions


def _function(ctx: BindContext, fn: exp.Func, qualified: bool) -> exp.Expression | None:
    if isinstance(fn, exp.Anonymous):
        name = str(fn.this).lower()
        args = list(fn.expressions)
    else:
        if not qualified:
            return None
        return fn  # a function sqlglot knows (lower, now, ...): just drop `pg_catalog.`
    if name == "current_setting":
        return _current_setting(ctx, args)
    if name == "set_config":
        return _set_config(ctx, args)
    if name == "pg_advisory_unlock_all" and not args:
        return exp.Null()  # no advisory locks are ever held (asyncpg's pool runs this on release)
    if name in _RENAMED:
        return exp.Anonymous(this=_RENAMED[name], expressions=args)
    if name in ("to_regclass", "to_regtype") and args and _is_string(args[0]):
        oid = (
            _relation_oid(ctx.catalog, args[0].this)
            if name == "to_regclass"
            else pc.type_oid_by_name(args[0].this)
        )
        return exp.Literal.number(oid) if oid is not None else exp.Null()
    if name == "version" and not args:
        return exp.Literal.string(VERSION_STRING)
    if name in MACROS:
        return _macro(name, args)
    if qualified:
        func = exp.func(name, *args, dialect=VecPostgres)
        if isinstance(func, exp.Format):  # pg_catalog.format(...)
            return _format(func) or func
        return func
    return None


def _macro(name: str, args: list[exp.Expression]) -> exp.Expression:
    return exp.Dot(
        this=exp.to_identifier(pc.SCHEMA),
        expression=exp.Anonymous(this=name, expressions=args),
    )


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _current_setting(ctx: BindContext, args: list[exp.Expression]) -> exp.Expression:
    values = {k.lower(): v for k, v in ctx.settings.items()}
    missing_ok = len(args) > 1 and isinstance(args[1], exp.Boolean) and bool(args[1].this)
    if args and _is_string(args[0]):
        key = args[0].this.lower()
        if key in values:
            return exp.Literal.string(values[key])
        if missing_ok or "." in key:
            return exp.Null()
        raise UndefinedObject(f'unrecognized configuration parameter "{args[0].this}"')
    if not args:
        raise PgError("function current_setting() does not exist", sqlstate="42883")
    case = exp.Case()
    for k, v in sorted(values.items()):
        case = case.when(
            exp.EQ(this=exp.Lower(this=args[0].copy()), expression=exp.Literal.string(k)),
            exp.Literal.string(v),
        )
    return case


def _set_config(ctx: BindContext, args: list[exp.Expression]) -> exp.Expression:
    """`set_config(name, value, is_local)` that keeps a setting's value (asyncpg turns `jit`
    off this way around its type introspection): the value.  A change needs SET."""
    if len(args) != 3:
        raise PgError(
            f"function set_config() with {len(args)} arguments does not exist", sqlstate="42883"
        )
    name, value = args[0], args[1]
    if _is_string(name) and _is_string(value):
        current = {k.lower(): v for k, v in ctx.settings.items()}.get(name.this.lower())
        if current is None:
            raise UndefinedObject(f'unrecognized configuration parameter "{name.this}"')
        if current == value.this:
            return exp.Literal.string(current)
    raise FeatureNotSupported("set_config() that changes a setting is not supported; use SET")


# ------------------------------------------------------------------------------ casts


def _type_key(dt: exp.Expression | None) -> str | None:
    """Lower-case name of a Postgres-only cast target (`regclass`, `oid`, `int2[]`, ...),
    or None for a type sqlglot translates by itself."""
    if isinstance(dt, exp.ObjectIdentifier):
        return dt.name.lower()
    if not isinstance(dt, exp.DataType):
        return None
    if dt.this == exp.DataType.Type.NAME:
        return "name"
    if dt.this == exp.DataType.Type.ARRAY and dt.expressions:
        inner = _type_key(dt.expressions[0])
        return f"{inner}[]" if inner is not None else None
    if dt.this != exp.DataType.Type.USERDEFINED:
        return None
    kind = dt.args.get("kind")
    if isinstance(kind, exp.Dot):
        if not _is_pg_catalog(kind.this):
            return None
        ident = kind.expression
    else:
        ident = kind
    if not isinstance(ident, exp.Identifier):
        return None
    name = ident.name.lower()
    if ident.quoted and name == "char":
        return '"char"'
    if isinstance(kind, exp.Dot) or name in _OID_TYPES | _TEXT_TYPES | _REG_TYPES:
        return name
    if name in _SPECIAL_TYPES:
        return name
    return None


def _duck_type(key: str) -> exp.DataType | None:
    """The DuckDB type a Postgres-only type is read as (None for the reg* types)."""
    if key.endswith("[]"):
        inner = _duck_type(key[:-2])
        return exp.DataType.build(f"{inner.sql('duckdb')}[]", dialect="duckdb") if inner else None
    if key in _REG_TYPES or key in _OID_TYPES:
        return exp.DataType.build("BIGINT")
    if key in _TEXT_TYPES:
        return exp.DataType.build("VARCHAR")
    if key in _SPECIAL_TYPES:
        return exp.DataType.build(_SPECIAL_TYPES[key], dialect="duckdb")
    try:
        return exp.DataType.build(key, dialect=VecPostgres)
    except Exception:  # noqa: BLE001 - an unknown type: leave the cast to DuckDB
        return None


def _cast(ctx: BindContext, node: exp.Cast) -> exp.Expression | None:
    key = _type_key(node.to)
    if key is None:
        return None
    arg = node.this
    if key in _REG_TYPES:
        reg = key if key in ("regclass", "regtype", "regnamespace", "regrole") else "regproc"
        if _is_string(arg) and reg == "regproc":
            # our pg_type/pg_proc keep functions by name: 'pg_catalog.array_in'::regproc
            name = arg.this.strip()
            name = name[len("pg_catalog.") :] if name.lower().startswith("pg_catalog.") else name
            return exp.Literal.string("-" if name == "0" else name)
        if _is_string(arg):
            value: exp.Expression = exp.Literal.number(_reg_literal(ctx, reg, arg.this))
        elif reg == "regproc":
            value = exp.Cast(this=arg, to=exp.DataType.build("VARCHAR"))
        else:
            value = exp.Cast(this=arg, to=exp.DataType.build("BIGINT"))
        if reg == "regproc" or _wants_name(node):
            if reg == "regproc":
                return value
            return _macro(f"__{reg}_out", [value])
        return value
    target = _duck_type(key)
    if target is None:
        return None
    return exp.Cast(this=arg, to=target)


def _wants_name(node: exp.Expression) -> bool:
    """Whether Postgres would print this reg* value (as a name) rather than compare it."""
    parent = node.parent
    if isinstance(parent, exp.Alias):
        parent = parent.parent
        node = node.parent
    if isinstance(parent, exp.Select) and node.arg_key == "expressions":
        return True
    if isinstance(parent, exp.Cast):
        key = _type_key(parent.to)
        if key in _TEXT_TYPES:
            return True
        return parent.to.is_type(*exp.DataType.TEXT_TYPES)
    return isinstance(parent, exp.DPipe)


def _reg_literal(ctx: BindContext, reg: str, text: str) -> int:
    if reg == "regclass":
        oid = _relation_oid(ctx.catalog, text)
        if oid is None:
            raise UndefinedTable(f'relation "{text}" does not exist')
        return oid
    if reg == "regtype":
        oid = pc.type_oid_by_name(text)
        if oid is None:
            raise UndefinedObject(f'type "{text}" does not exist')
        return oid
    if reg == "regnamespace":
        names = {
            "pg_catalog": pc.PG_CATALOG_NS,
            "public": pc.PUBLIC_NS,
            "pg_toast": pc.TOAST_NS,
            "information_schema": pc.INFORMATION_SCHEMA_NS,
        }
        oid = names.get(_ident(text))
        if oid is None:
            raise PgError(f'schema "{text}" does not exist', sqlstate="3F000")
        return oid
    if reg == "regrole":
        roles = {"postgres": pc.BOOTSTRAP_SUPERUSER, "pg_database_owner": pc.PG_DATABASE_OWNER}
        oid = roles.get(_ident(text))
        if oid is None:
            raise UndefinedObject(f'role "{text}" does not exist')
        return oid
    if text.strip() in ("-", "0"):
        return 0
    raise PgError(f'function "{text}" does not exist', sqlstate="42883")


def _ident(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return t[1:-1].replace('""', '"')
    return t.lower()


def split_qualified(text: str) -> tuple[str | None, str]:
    """`schema.name` / `"Quoted"` / `name` -> (schema or None, name), folded as Postgres does."""
    parts: list[str] = []
    cur = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and i + 1 < len(text) and text[i + 1] == '"':
                cur += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch if quoted else ch.lower()
        i += 1
    parts.append(cur)
    parts = [p.strip() if p.strip() == p else p for p in parts]
    if len(parts) == 1:
        return None, parts[0]
    return parts[-2], parts[-1]


def _relation_oid(catalog: dict[str, TableDef], text: str) -> int | None:
    schema, name = split_qualified(text)
    if schema in (None, "pg_catalog") and name in pc.SYSTEM_RELATIONS:
        return pc.SYSTEM_RELATIONS[name][0]
    if schema not in (None, "public"):
        return None
    t = catalog.get(name)
    if t is not None:
        return t.oid
    for t in catalog.values():
        if t.primary_key and f"{t.name}_pkey" == name:
            return pc.derived_oid(t.oid, "pkey")
        for ix in t.indexes:
            if ix.name == name:
                return ix.oid
        for i, c in enumerate(t.columns, start=1):
            if c.pg_type in SERIAL_TYPES and f"{t.name}_{c.name}_seq" == name:
                return pc.derived_oid(t.oid, "seq", i)
    return None


# ----------------------------------------------------------------------------- tables


def _table(ctx: BindContext, table: exp.Table) -> exp.Expression | None:
    db = table.db.lower() if table.db else None
    if isinstance(table.this, exp.Func):
        if db == "pg_catalog":
            table.set("db", None)
        alias = table.args.get("alias")
        if (
            isinstance(table.this, _SINGLE_COLUMN_TABLE_FUNCS)
            and isinstance(alias, exp.TableAlias)
            and not alias.columns
        ):
            alias.set("columns", [exp.to_identifier(alias.name)])
        return None
    if db == pc.SCHEMA and table.name in pc.DYNAMIC:
        if table.name == "pg_database":
            sql = _pg_database_sql(tuple(_database_names(ctx)))
        elif table.name == "pg_cursors":
            sql = _pg_cursors_sql(getattr(ctx, "sql_cursors", None) or {})
        else:
            sql = _pg_settings_sql(tuple(sorted(ctx.settings.items())))
        sub = sqlglot.parse_one(sql, read=VecPostgres)
        return exp.Subquery(
            this=sub, alias=exp.TableAlias(this=exp.to_identifier(table.alias_or_name))
        )
    return None


def _database_names(ctx: BindContext) -> list[str]:
    names = {ctx.db.name}
    path = getattr(ctx.db, "path", None)
    if path is not None:
        for d in path.parent.iterdir():
            if (d / "scalars.duckdb").exists():
                names.add(d.name)
    return sorted(names)


def _sql_value(v: object, typ: str) -> str:
    if v is None:
        return f"CAST(NULL AS {typ})"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return f"CAST({v} AS {typ})"
    if isinstance(v, list):
        return "ARRAY[" + ", ".join(_sql_value(x, "TEXT") for x in v) + "]"
    return "'" + str(v).replace("'", "''") + "'"


def _rows_sql(name: str, rows: list[tuple]) -> str:
    cols = pc.COLUMNS[name]
    if not rows:
        return f"SELECT * FROM {pc.SCHEMA}.{name} WHERE FALSE"
    selects = []
    for row in rows:
        items = [
            f'{_sql_value(v, _pg_type(t))} AS "{c}"' for v, (c, t) in zip(row, cols, strict=True)
        ]
        selects.append("SELECT " + ", ".join(items))
    return " UNION ALL ".join(selects)


def _pg_type(duck: str) -> str:
    return {
        "BIGINT": "BIGINT",
        "VARCHAR": "TEXT",
        "BOOLEAN": "BOOLEAN",
        "INTEGER": "INT",
        "SMALLINT": "SMALLINT",
        "VARCHAR[]": "TEXT[]",
        "BIGINT[]": "BIGINT[]",
        "SMALLINT[]": "SMALLINT[]",
    }.get(duck, "TEXT")


def _pg_cursors_sql(cursors: dict) -> str:
    """pg_cursors: the session's DECLAREd cursors (sqlfront.cursors.SqlCursor by name)."""
    if not cursors:
        return f"SELECT * FROM {pc.SCHEMA}.pg_cursors WHERE FALSE"
    rows = []
    for name, cur in sorted(cursors.items()):
        rows.append(
            f"SELECT {_sql_value(name, 'TEXT')} AS name, "
            f"{_sql_value(cur.statement, 'TEXT')} AS statement, "
            f"{_sql_value(cur.hold, 'BOOLEAN')} AS is_holdable, FALSE AS is_binary, "
            "FALSE AS is_scrollable, "
            f"CAST({_sql_value(cur.created.isoformat(), 'TEXT')} AS TIMESTAMPTZ) AS creation_time"
        )
    return " UNION ALL ".join(rows)


@lru_cache(maxsize=64)
def _pg_database_sql(names: tuple[str, ...]) -> str:
    import zlib

    rows = []
    for name in names:
        oid = (
            pc.POSTGRES_DATABASE
            if name == "postgres"
            else 100000 + zlib.crc32(name.encode()) % 10**6
        )
        rows.append(
            (oid, name, pc.BOOTSTRAP_SUPERUSER, 6, "c", False, True, -1, 716, 1, 1663)
            + (DATABASE_LOCALE, DATABASE_LOCALE, None, None, None)
        )
    return _rows_sql("pg_database", rows)


@lru_cache(maxsize=256)
def _pg_settings_sql(items: tuple[tuple[str, str], ...]) -> str:
    rows = []
    for name, value in items:
        default = DEFAULTS.get(name)
        if value in ("on", "off"):
            vartype = "bool"
        elif re.fullmatch(r"-?\d+", value or ""):
            vartype = "integer"
        else:
            vartype = "string"
        source = "default" if value == default else "session"
        rows.append(
            (name, value, None, "Ungrouped", "", None, "user", vartype, source, None, None)
            + (None, default, value, None, None, False)
        )
    return _rows_sql("pg_settings", rows)


__all__ = ["MACROS", "VERSION_STRING", "pg_column_name", "rewrite_catalog_query"]
