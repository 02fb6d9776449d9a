"""Translating DuckDB exceptions into Postgres errors (SQLSTATE and Postgres's wording).

Owns: `translate(exc)`, the single place where a `duckdb.Error` becomes a `PgError`.  Messages
are rewritten into what Postgres would say where we know the pattern (unknown relation or
column, duplicate key, not-null, bad cast); anything else keeps DuckDB's text under the
closest SQLSTATE class.
"""

from __future__ import annotations

import re

import duckdb

from engine.errors import PgError, pg_error

_PATTERNS: list[tuple[type, re.Pattern[str], str, str]] = [
    (
        duckdb.CatalogException,
        re.compile(r'Table with name "?([^"!\s]+)"? does not exist'),
        "42P01",
        'relation "{0}" does not exist',
    ),
    (
        duckdb.CatalogException,
        re.compile(r'Table Function with name "?([^"!\s]+)"? does not'),
        "42883",
        "function {0}() does not exist",
    ),
    (
        duckdb.CatalogException,
        re.compile(r'Scalar Function with name "?([^"!\s]+)"? does not'),
        "42883",
        "function {0} does not exist",
    ),
    (
        duckdb.CatalogException,
        re.compile(r"Aggregate Function with name ([^\s!]+) does not"),
        "42883",
        "function {0} does not exist",
    ),
    (
        duckdb.BinderException,
        re.compile(r'Referenced column "([^"]+)" not found'),
        "42703",
        'column "{0}" does not exist',
    ),
    (
        duckdb.BinderException,
        re.compile(r'Values list "([^"]+)" does not have a column named "([^"]+)"'),
        "42703",
        "column {0}.{1} does not exist",
    ),
    (
        duckdb.BinderException,
        re.compile(r'Table "([^"]+)" does not have a column with name "([^"]+)"'),
        "42703",
        'column "{1}" of relation "{0}" does not exist',
    ),
    (
        duckdb.BinderException,
        re.compile(r'Referenced table "([^"]+)" not found'),
        "42P01",
        'missing FROM-clause entry for table "{0}"',
    ),
    (
        duckdb.BinderException,
        re.compile(r"No function matches the given name and argument types '([^']+)'"),
        "42883",
        "function {0} does not exist",
    ),
    (
        duckdb.BinderException,
        re.compile(r"must appear in the GROUP BY clause"),
        "42803",
        "column must appear in the GROUP BY clause or be used in an aggregate function",
    ),
    (
        duckdb.BinderException,
        re.compile(r"Ambiguous reference to column name \"([^\"]+)\""),
        "42702",
        'column reference "{0}" is ambiguous',
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Could not convert string '([^']*)' to (\w+)"),
        "22P02",
        'invalid input syntax for type {1}: "{0}"',
    ),
    (
        duckdb.ConversionException,
        re.compile(r"Malformed JSON"),
        "22P02",
        "invalid input syntax for type json",
    ),
    (duckdb.OutOfRangeException, re.compile(r"[Dd]ivision by zero"), "22012", "division by zero"),
    (duckdb.OutOfRangeException, re.compile(r""), "22003", "value out of range"),
]

_TAGGED = re.compile(r"^\[([0-9A-Z]{5})\] (.*)$")
_DUP_KEY = re.compile(r'Duplicate key "(.+?)" violates (primary key|unique) constraint')
_DUP_IN_STATEMENT = re.compile(r"PRIMARY KEY or UNIQUE constraint violat", re.I)
_NOT_NULL = re.compile(r"NOT NULL constraint failed: (\w+)\.(\w+)")

_DUCK_TYPE_NAMES = {
    "INT32": "integer",
    "INTEGER": "integer",
    "INT64": "bigint",
    "BIGINT": "bigint",
    "INT16": "smallint",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOL": "boolean",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "UUID": "uuid",
}

_CLASS_STATE: list[tuple[type, str]] = [
    (duckdb.ParserException, "42601"),
    (duckdb.CatalogException, "42P01"),
    (duckdb.BinderException, "42703"),
    (duckdb.ConstraintException, "23000"),
    (duckdb.ConversionException, "22P02"),
    (duckdb.TransactionException, "40001"),
    (duckdb.NotImplementedException, "0A000"),
    (duckdb.InterruptException, "57014"),
    (duckdb.InvalidInputException, "22023"),
    (duckdb.OutOfRangeException, "22003"),
]


def _first_line(msg: str) -> str:
    msg = msg.strip()
    msg = re.sub(r"^[A-Za-z ]+ Error: ", "", msg)
    return msg.splitlines()[0] if msg else "internal error"


def translate(exc: Exception, table: str | None = None) -> PgError:
    """The Postgres error a client should see for a DuckDB exception."""
    if isinstance(exc, PgError):
        return exc
    msg = str(exc)
    if isinstance(exc, duckdb.ConstraintException):
        m = _DUP_KEY.search(msg)
        if m:
            keyval = m.group(1)
            cols, _, vals = keyval.partition(": ")
            cname = f"{table}_pkey" if table and m.group(2) == "primary key" else "unique"
            return pg_error(
                "23505",
                f'duplicate key value violates unique constraint "{cname}"',
                detail=f"Key ({cols})=({vals}) already exists.",
            )
        if _DUP_IN_STATEMENT.search(msg):
            cname = f"{table}_pkey" if table else "unique"
            return pg_error("23505", f'duplicate key value violates unique constraint "{cname}"')
        m = _NOT_NULL.search(msg)
        if m:
            return pg_error(
                "23502",
                f'null value in column "{m.group(2)}" of relation "{m.group(1)}" '
                "violates not-null constraint",
            )
    if isinstance(exc, duckdb.InterruptException):  # a CancelRequest interrupted the query
        return pg_error("57014", "canceling statement due to user request")
    if isinstance(exc, duckdb.InvalidInputException):
        # error('[SQLSTATE] message') raised by our SQL (sqlfront.vecfuncs macros)
        m = _TAGGED.match(_first_line(msg))
        if m:
            return pg_error(m.group(1), m.group(2))
    for cls, pat, state, text in _PATTERNS:
        if isinstance(exc, cls):
            m = pat.search(msg)
            if m:
                groups = [
                    _DUCK_TYPE_NAMES.get(g, g.lower()) if g and g.isupper() else g
                    for g in m.groups()
                ]
                return pg_error(state, text.format(*groups))
    for cls, state in _CLASS_STATE:
        if isinstance(exc, cls):
            return pg_error(state, _first_line(msg))
    return pg_error("XX000", _first_line(msg))
