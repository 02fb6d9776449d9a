"""COPY: the statement, its options, COPY FROM STDIN data, and COPY TO STDOUT output.

Owns:
  * reading a COPY statement (`is_copy`, `parse_copy` -> `CopyStatement`), by a small parser over
    the statement text: sqlglot 30 rejects or mangles several Postgres forms (``(FORMAT
    BINARY)``, ``(FORMAT text)``, ``(FORMAT 'csv')``, ``HEADER MATCH``), so COPY never goes
    through it.  Both the option list ``[WITH] (FORMAT csv, HEADER, ...)`` and the pre-9.0
    keyword form ``[WITH] [BINARY] [DELIMITER [AS] 'x'] [NULL [AS] 'x'] [CSV [HEADER] [QUOTE
    [AS] 'q'] [ESCAPE [AS] 'e'] [FORCE QUOTE|NOT NULL|NULL cols]]`` (what psql's ``\\copy``
    sends) are read; `copy_options` checks them with Postgres 15's rules and messages;
  * `CopyIn`: ``COPY t [(cols)] FROM STDIN`` data in Postgres's text, csv and binary formats
    (`feed` bytes as CopyData arrives, `finish` on CopyDone, `fail` on CopyFail).  Data is
    handed in blocks of about `CHUNK_BYTES` to a `_Pipeline` of three threads, so that the
    connection keeps reading meanwhile: (1) parse, in bulk: text/csv lines are split with str
    methods and converted column by column (integers with numpy); binary tuples are located by
    a scan that reads only the length words of variable-width fields (the fixed-width ones are
    then checked with numpy, falling back to reading every length word when a check fails),
    and their values gathered with numpy or a few slices per row; parsed blocks are merged
    into batches of `LOAD_ROWS` -- or, for text blocks `sqlfront.copy_duck` accepts, only
    checked and counted, their lines left whole; (2) text-format vectors are parsed by DuckDB
    (`_FloatParser`, no GIL), and whole-line batches read by DuckDB's CSV reader
    (`DuckTextReader`; the Python path when it cannot be sure); (3) load: each batch's
    vectors go to the column's `VectorStore` in one `append`, its rows to DuckDB in one
    ``INSERT ... SELECT`` from registered numpy arrays, in the session's transaction.
    Errors come out in row order, with Postgres's texts;
  * `copy_to`: ``COPY t [(cols)] | (query) TO STDOUT`` -> a `Result` carrying `CopyOut` (one
    CopyData payload per row, as Postgres sends them);
  * Postgres's error texts and SQLSTATEs for bad data (22P04 bad copy file format, 22P02 and
    the types' own input errors, 22000 vector dimensions), with the CONTEXT line Postgres adds
    (``COPY t, line 3, column e: "[1,2]"``) in the error's `context` attribute.

Must not: know bytes of the protocol framing (wire) or own the transaction (the session starts
and ends it; `CopyIn` reports its end through the `on_end` callback).
"""

from __future__ import annotations

import queue
import re
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from sqlglot import exp

from engine.catalog import ColumnDef, TableDef, slot_field
from engine.catalog import quote_ident as _q
from engine.duck_errors import translate
from engine.errors import (
    BadCopyFileFormat,
    DataException,
    FeatureNotSupported,
    InvalidParameterValue,
    PgError,
    QueryCanceled,
    SyntaxError_,
    UndefinedColumn,
    UndefinedTable,
    pg_error,
)
from engine.sparse import is_sparse_dim
from sqlfront import pgtypes as pt
from sqlfront import vectors
from sqlfront.copy_duck import (
    SIMPLE_ESCAPES,
    DuckTextReader,
    RawText,
    columns_for,
    float_matrix,
)
from sqlfront.splitter import leading_words, split_statements

if TYPE_CHECKING:
    from sqlfront.session import Result, Session

CHUNK_BYTES = 1 << 20
"""COPY FROM data is handed to the parser in blocks of about this size.  Small enough for the
several passes of parsing to stay in cache and reuse freed memory: on the 2-core dev VM,
where fresh pages are very slow to touch, text parsing cost 34 us per corpus row in 32 MB
blocks and 17 us in 1-2 MB ones.  Session override: the custom setting
``vecgres.copy_chunk_bytes`` (tests use small blocks)."""

LOAD_ROWS = 8192
"""Parsed blocks are merged until they hold this many rows before the DuckDB work (the float
parse of text vectors, the INSERT), which has a fixed cost of a few ms per statement.
Session override: ``vecgres.copy_batch_rows``."""

BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_BINARY_HEADER = BINARY_SIGNATURE + b"\x00\x00\x00\x00\x00\x00\x00\x00"
_BINARY_TRAILER = b"\xff\xff"

# ============================================================================================
# the statement


@dataclass
class CopyOptions:
    """Checked COPY options (Postgres 15's `ProcessCopyOptions`)."""

    format: str = "text"  # text | csv | binary
    delimiter: str = "\t"
    null: str = "\\N"
    header: bool = False
    header_match: bool = False
    quote: str = '"'
    escape: str = '"'
    force_quote: list[str] | None = None  # ["*"] = all columns
    force_not_null: list[str] = field(default_factory=list)
    force_null: list[str] = field(default_factory=list)


@dataclass(eq=False)  # identity hash: sqlglot may hash the node that holds it
class CopySpec:
    """What a COPY statement asks for, as written (options not yet checked)."""

    is_from: bool
    table: str | None = None
    table_quoted: bool = False
    schema: str | None = None
    columns: list[str] | None = None
    query: str | None = None  # COPY (query) TO
    query_offset: int = 0
    target: str = "stdio"  # stdio | file | program
    raw_options: list[tuple[str, object]] = field(default_factory=list)
    has_where: bool = False


class CopyStatement(exp.Expression):
    """A COPY statement (our own node: see the module docstring); `spec` holds a `CopySpec`."""

    arg_types = {"spec": True}

    @property
    def spec(self) -> CopySpec:
        return self.args["spec"]


_COPY_WORD = re.compile("copy", re.IGNORECASE)


def is_copy(sql: str) -> bool:
    """Whether any statement of `sql` is a COPY (a cheap test first, the splitter after)."""
    if _COPY_WORD.search(sql) is None:
        return False
    return any(leading_words(s.text, 1) == ["COPY"] for s in split_statements(sql))


def parse_statements(
    sql: str, parse: Callable[[str], list[exp.Expression]]
) -> list[exp.Expression]:
    """`parse(sql)`, except that COPY statements become `CopyStatement` nodes."""
    if not is_copy(sql):
        return parse(sql)
    out: list[exp.Expression] = []
    for st in split_statements(sql):
        if leading_words(st.text, 1) == ["COPY"]:
            out.append(parse_copy(st.text, st.offset))
        else:
            out.extend(parse(st.text))
    return out


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<estr>[Ee]'(?:[^'\\]|\\.|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<dollar>\$\$.*?\$\$|\$(?P<tag>[A-Za-z_]\w*)\$.*?\$(?P=tag)\$)
  | (?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*)
  | (?P<op>.)
    """,
    re.X | re.S,
)

_E_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _e_string(body: str) -> str:
    def rep(m: re.Match[str]) -> str:
        s = m.group(1)
        if s in _E_ESCAPES:
            return _E_ESCAPES[s]
        if s[0] in "01234567":
            return chr(int(s, 8) & 0xFF)
        if s[0] == "x" and len(s) > 1:
            return chr(int(s[1:], 16))
        return s

    body = body.replace("''", "'")
    return re.sub(r"\\([0-7]{1,3}|x[0-9A-Fa-f]{1,2}|.)", rep, body, flags=re.S)


@dataclass
class _Tok:
    kind: str  # word (lower-cased) | ident | str | num | op | dollar
    value: str
    pos: int  # 0-based offset in the statement text
    text: str  # as written


class _Parser:
    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.offset = offset
        self.toks: list[_Tok] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            raw = m.group(0)
            if kind == "ws":
                continue
            if kind in ("str", "estr"):
                body = raw[2:-1] if kind == "estr" else raw[1:-1].replace("''", "'")
                value = _e_string(body) if kind == "estr" else body
                self.toks.append(_Tok("str", value, m.start(), raw))
            elif kind == "qid":
                self.toks.append(_Tok("ident", raw[1:-1].replace('""', '"'), m.start(), raw))
            elif kind in ("word", "num"):
                self.toks.append(
                    _Tok("word" if kind == "word" else "num", raw.lower(), m.start(), raw)
                )
            elif kind == "dollar":
                self.toks.append(_Tok("dollar", raw, m.start(), raw))
            else:
                self.toks.append(_Tok("op", raw, m.start(), raw))
        self.i = 0

    # -- token helpers
    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise self.error(None)
        self.i += 1
        return t

    def error(self, tok: _Tok | None) -> SyntaxError_:
        if tok is None:
            return SyntaxError_(
                "syntax error at end of input", position=self.offset + len(self.text) + 1
            )
        return SyntaxError_(
            f'syntax error at or near "{tok.text}"', position=self.offset + tok.pos + 1
        )

    def is_word(self, *words: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "word" and t.value in words

    def is_op(self, op: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == "op" and t.value == op

    def expect_word(self, *words: str) -> str:
        t = self.next()
        if t.kind != "word" or t.value not in words:
            raise self.error(t)
        return t.value

    def paren_column_list(self) -> list[str]:
        """`a, "B", c)` after an opening parenthesis: names (unquoted ones lower-cased)."""
        cols = self.column_list()
        self.expect_op(")")
        return cols

    def expect_op(self, op: str) -> None:
        t = self.next()
        if t.kind != "op" or t.value != op:
            raise self.error(t)

    def name(self) -> tuple[str, bool]:
        t = self.next()
        if t.kind == "ident":
            return t.value, True
        if t.kind == "word":
            return t.text, False
        raise self.error(t)

    def string(self) -> str:
        t = self.next()
        if t.kind != "str":
            raise self.error(t)
        return t.value

    # -- grammar
    def statement(self) -> CopySpec:
        self.expect_word("copy")
        legacy_binary = False
        if self.is_word("binary"):
            self.next()
            legacy_binary = True
        spec = CopySpec(is_from=True)
        if self.is_op("("):
            start = self.next()
            depth = 1
            while depth:
                t = self.next()
                if t.kind == "op" and t.value == "(":
                    depth += 1
                elif t.kind == "op" and t.value == ")":
                    depth -= 1
            end = self.toks[self.i - 1]
            spec.query = self.text[start.pos + 1 : end.pos]
            spec.query_offset = self.offset + start.pos + 1
        else:
            first, quoted = self.name()
            if self.is_op("."):
                self.next()
                spec.schema = first
                first, quoted = self.name()
            spec.table, spec.table_quoted = first, quoted
            if self.is_op("("):
                self.next()
                spec.columns = self.paren_column_list()
        direction = self.next()
        if direction.kind != "word" or direction.value not in ("from", "to"):
            raise self.error(direction)
        spec.is_from = direction.value == "from"
        if spec.is_from and spec.query is not None:
            raise self.error(direction)
        if self.is_word("program"):
            self.next()
            self.string()
            spec.target = "program"
        elif self.is_word("stdin", "stdout"):
            self.next()
        else:
            self.string()
            spec.target = "file"
        if legacy_binary:
            spec.raw_options.append(("format", "binary"))
        if self.is_word("using") and self.is_word("delimiters", k=1):
            self.next()
            self.next()
            spec.raw_options.append(("delimiter", self.string()))
        elif self.is_word("delimiters"):
            self.next()
            spec.raw_options.append(("delimiter", self.string()))
        if self.is_word("with"):
            self.next()
        if self.is_op("("):
            self.next()
            spec.raw_options += self.option_list()
        else:
            spec.raw_options += self.legacy_options()
        if self.is_word("where"):
            spec.has_where = True
            self.i = len(self.toks)
        if self.is_op(";"):
            self.next()
        t = self.peek()
        if t is not None:
            raise self.error(t)
        return spec

    def option_list(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        while True:
            t = self.next()
            if t.kind not in ("word", "ident"):
                raise self.error(t)
            name = t.value.lower() if t.kind == "word" else t.value
            value: object = None
            nt = self.peek()
            if nt is None:
                raise self.error(None)
            if nt.kind == "op" and nt.value == "(":
                self.next()
                value = self.paren_column_list()
            elif nt.kind == "op" and nt.value == "*":
                self.next()
                value = ["*"]
            elif nt.kind in ("str", "num"):
                self.next()
                value = nt.value
            elif nt.kind == "op" and nt.value == "-" and self.peek(1) is not None:
                self.next()
                value = "-" + self.next().value
            elif nt.kind in ("word", "ident"):
                self.next()
                value = nt.value.lower() if nt.kind == "word" else nt.value
            out.append((name, value))
            if self.is_op(","):
                self.next()
                continue
            self.expect_op(")")
            return out

    def legacy_options(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        while True:
            t = self.peek()
            if t is None or t.kind != "word" or t.value == "where":
                return out
            self.next()
            w = t.value
            if w in ("binary", "csv"):
                out.append(("format", w))
            elif w == "oids":
                out.append(("oids", True))
            elif w == "freeze":
                out.append(("freeze", True))
            elif w == "header":
                out.append(("header", True))
            elif w in ("delimiter", "null", "quote", "escape", "encoding"):
                if self.is_word("as"):
                    self.next()
                out.append((w, self.string()))
            elif w == "force":
                kind = self.next()
                if kind.kind == "word" and kind.value == "quote":
                    if self.is_op("*"):
                        self.next()
                        out.append(("force_quote", ["*"]))
                    else:
                        out.append(("force_quote", self.column_list()))
                elif kind.kind == "word" and kind.value == "not":
                    self.expect_word("null")
                    out.append(("force_not_null", self.column_list()))
                elif kind.kind == "word" and kind.value == "null":
                    out.append(("force_null", self.column_list()))
                else:
                    raise self.error(kind)
            else:
                raise self.error(t)

    def column_list(self) -> list[str]:
        cols = []
        while True:
            c, q = self.name()
            cols.append(c if q else c.lower())
            if not self.is_op(","):
                return cols
            self.next()


def parse_copy(text: str, offset: int = 0) -> CopyStatement:
    """Read one COPY statement; `offset` (0-based) places error positions in the whole query."""
    return CopyStatement(spec=_Parser(text, offset).statement())


def _conflict() -> PgError:
    return SyntaxError_("conflicting or redundant options")


def _bool_option(name: str, value: object) -> bool:
    if value is None:
        return True
    s = str(value).lower()
    if s in ("true", "on", "1", "t", "yes", "y"):
        return True
    if s in ("false", "off", "0", "f", "no", "n"):
        return False
    raise SyntaxError_(f"{name} requires a Boolean value")


def copy_options(raw: list[tuple[str, object]], is_from: bool) -> CopyOptions:
    """Check COPY options like Postgres 15's ProcessCopyOptions (texts and SQLSTATEs)."""
    o = CopyOptions()
    seen: set[str] = set()
    delimiter = null = quote = escape = None
    for name, value in raw:
        if name in seen:
            raise _conflict()
        seen.add(name)
        if name == "format":
            fmt = str(value).lower() if value is not None else ""
            if fmt not in ("text", "csv", "binary"):
                raise InvalidParameterValue(f'COPY format "{value}" not recognized')
            o.format = fmt
        elif name == "freeze":
            _bool_option(name, value)
        elif name == "oids":
            raise FeatureNotSupported("COPY ... WITH OIDS is not supported")
        elif name == "delimiter":
            delimiter = _str_option(name, value)
        elif name == "null":
            null = _str_option(name, value)
        elif name == "header":
            if isinstance(value, str) and value.lower() == "match":
                if not is_from:
                    raise FeatureNotSupported('cannot use "match" with HEADER in COPY TO')
                o.header = o.header_match = True
            else:
                o.header = _bool_option(name, value)
        elif name == "quote":
            quote = _str_option(name, value)
        elif name == "escape":
            escape = _str_option(name, value)
        elif name in ("force_quote", "force_not_null", "force_null"):
            if not isinstance(value, list):
                raise SyntaxError_(f'argument to option "{name}" must be a list of column names')
            setattr(o, name, value)
        elif name == "encoding":
            enc = str(value).upper().replace("-", "").replace("_", "")
            if enc not in ("UTF8", "UNICODE", "SQLASCII"):
                raise FeatureNotSupported(f'COPY encoding "{value}" is not supported; use UTF8')
        else:
            raise SyntaxError_(f'option "{name}" not recognized')
    binary = o.format == "binary"
    csv = o.format == "csv"
    if binary and delimiter is not None:
        raise SyntaxError_("cannot specify DELIMITER in BINARY mode")
    if binary and null is not None:
        raise SyntaxError_("cannot specify NULL in BINARY mode")
    if binary and o.header:
        raise SyntaxError_("cannot specify HEADER in BINARY mode")
    o.delimiter = delimiter if delimiter is not None else ("," if csv else "\t")
    o.null = null if null is not None else ("" if csv else "\\N")
    if csv:
        o.quote = quote if quote is not None else '"'
        o.escape = escape if escape is not None else o.quote
    if len(o.delimiter.encode()) != 1:
        raise FeatureNotSupported("COPY delimiter must be a single one-byte character")
    if o.delimiter in "\r\n":
        raise FeatureNotSupported("COPY delimiter cannot be newline or carriage return")
    if "\r" in o.null or "\n" in o.null:
        raise FeatureNotSupported("COPY null representation cannot use newline or carriage return")
    if not csv and o.delimiter in "\\.abcdefghijklmnopqrstuvwxyz0123456789":
        raise FeatureNotSupported(f'COPY delimiter cannot be "{o.delimiter}"')
    if not csv and quote is not None:
        raise FeatureNotSupported("COPY quote available only in CSV mode")
    if csv and len(o.quote.encode()) != 1:
        raise FeatureNotSupported("COPY quote must be a single one-byte character")
    if csv and o.delimiter == o.quote:
        raise FeatureNotSupported("COPY delimiter and quote must be different")
    if not csv and escape is not None:
        raise FeatureNotSupported("COPY escape available only in CSV mode")
    if csv and len(o.escape.encode()) != 1:
        raise FeatureNotSupported("COPY escape must be a single one-byte character")
    if o.force_quote is not None and not csv:
        raise FeatureNotSupported("COPY force quote available only in CSV mode")
    if o.force_quote is not None and is_from:
        raise FeatureNotSupported("COPY force quote only available using COPY TO")
    for name, cols in (("force not null", o.force_not_null), ("force null", o.force_null)):
        if cols and not csv:
            raise FeatureNotSupported(f"COPY {name} available only in CSV mode")
        if cols and not is_from:
            raise FeatureNotSupported(f"COPY {name} only available using COPY FROM")
    if not binary and o.delimiter in o.null:
        raise FeatureNotSupported("COPY delimiter must not appear in the NULL specification")
    if csv and o.quote in o.null:
        raise FeatureNotSupported("CSV quote character must not appear in the NULL specification")
    return o


def _str_option(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise SyntaxError_(f"{name} requires a string value")
    return value


# ============================================================================================
# the target table and its columns

# bit columns are copied as their text (`101`), in binary COPY too
_PG_TYPE_OIDS = {**pt.CATALOG_TYPE_OIDS, "bit": pt.TEXT_OID}

# binary fixed-width types read with numpy: oid -> (width, big-endian dtype)
_FIXED: dict[int, tuple[int, str]] = {
    pt.INT2_OID: (2, ">i2"),
    pt.INT4_OID: (4, ">i4"),
    pt.INT8_OID: (8, ">i8"),
    pt.FLOAT4_OID: (4, ">f4"),
    pt.FLOAT8_OID: (8, ">f8"),
    pt.BOOL_OID: (1, "u1"),
}


@dataclass
class _Col:
    """One column of the COPY column list."""

    name: str
    oid: int
    cdef: ColumnDef

    @property
    def is_vector(self) -> bool:
        return self.cdef.is_vector

    @property
    def dim(self) -> int:
        return self.cdef.dim or -1

    def binary_width(self) -> int | None:
        """The length every non-NULL binary value of this column must have, if fixed."""
        if self.is_vector and self.dim > 0 and self.cdef.pg_type == "vector":
            return 4 + 4 * self.dim
        f = _FIXED.get(self.oid)
        return f[0] if f else None


def _find(names: Sequence[str], name: str, quoted: bool) -> str | None:
    if name in names:
        return name
    if quoted:
        return None
    low = name.lower()
    hits = [n for n in names if n.lower() == low]
    return hits[0] if len(hits) == 1 else None


def _resolve(catalog: dict[str, TableDef], spec: CopySpec) -> tuple[TableDef, list[_Col]]:
    assert spec.table is not None
    if spec.schema is not None and spec.schema.lower() not in ("public", "main"):
        raise UndefinedTable(f'relation "{spec.schema}.{spec.table}" does not exist')
    key = _find(list(catalog), spec.table, spec.table_quoted)
    if key is None:
        raise UndefinedTable(f'relation "{spec.table}" does not exist')
    tdef = catalog[key]
    names = [c.name for c in tdef.columns]
    if spec.columns is None:
        cdefs = list(tdef.columns)
    else:
        cdefs = []
        for c in spec.columns:
            found = _find(names, c, quoted=True) or _find(names, c, quoted=False)
            if found is None:
                raise UndefinedColumn(f'column "{c}" of relation "{tdef.name}" does not exist')
            cd = tdef.column(found)
            assert cd is not None
            if cd in cdefs:
                raise PgError(f'column "{found}" specified more than once', sqlstate="42701")
            cdefs.append(cd)
    cols = [_Col(c.name, _PG_TYPE_OIDS.get(c.pg_type, pt.TEXT_OID), c) for c in cdefs]
    return tdef, cols


def _check_listed(opts: CopyOptions, cols: list[_Col]) -> tuple[set[str], set[str], set[str]]:
    """FORCE_* column names -> sets of column names (Postgres: 42P10 when not in the list)."""
    names = [c.name for c in cols]
    out = []
    for label, wanted in (
        ("FORCE_QUOTE", opts.force_quote or []),
        ("FORCE_NOT_NULL", opts.force_not_null),
        ("FORCE_NULL", opts.force_null),
    ):
        if wanted == ["*"]:
            out.append(set(names))
            continue
        got = set()
        for w in wanted:
            f = _find(names, w, quoted=True) or _find(names, w, quoted=False)
            if f is None:
                raise PgError(f'{label} column "{w}" not referenced by COPY', sqlstate="42P10")
            got.add(f)
        out.append(got)
    return out[0], out[1], out[2]


# ============================================================================================
# errors with Postgres's COPY context

_MAX_DISPLAY = 100


def _show(value: str) -> str:
    """Postgres's limit_printout_length: at most 100 bytes, then "..."."""
    b = value.encode()
    if len(b) <= _MAX_DISPLAY:
        return value
    return b[:_MAX_DISPLAY].decode(errors="ignore") + "..."


def _context(err: PgError, text: str) -> PgError:
    if getattr(err, "context", None) is None:
        err.context = text  # type: ignore[attr-defined]
    return err


class _Where:
    """Builds the CONTEXT of an error: relation, line number, column, value."""

    def __init__(self, relname: str) -> None:
        self.relname = relname

    def line(self, line: int, raw: str | None = None) -> str:
        if raw is None:
            return f"COPY {self.relname}, line {line}"
        return f'COPY {self.relname}, line {line}: "{_show(raw)}"'

    def column(self, line: int, col: str, value: str | None = None, binary: bool = False) -> str:
        if binary:
            return f"COPY {self.relname}, line {line}, column {col}"
        if value is None:
            return f"COPY {self.relname}, line {line}, column {col}: null input"
        return f'COPY {self.relname}, line {line}, column {col}: "{_show(value)}"'


# ============================================================================================
# column conversion (text input)


@dataclass
class _Vecs:
    """A chunk's values of one vector column: the non-NULL rows' vectors and where they go."""

    matrix: np.ndarray  # [m, dim] float32 (a sparse store's: [m] SparseVectorValue objects)
    present: np.ndarray | None  # bool [n]; None = every row has a vector


_INTS_RE = re.compile(r"-?[0-9]{1,18}(?:\n-?[0-9]{1,18})*")


def _first_error(
    values: Sequence[str | None], decode: Callable[[str], Any], where: Callable[[int, str], str]
) -> list[Any]:
    """Decode every value one by one; the first failure gets its CONTEXT."""
    out: list[Any] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(decode(v))
        except PgError as e:
            raise _context(e, where(i, v)) from None
    return out


def _text_decoder(oid: int) -> Callable[[str], Any]:
    def dec(v: str) -> Any:
        if "\x00" in v:
            raise pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
        return pt.decode_param(oid, 0, v.encode())

    return dec


def _int_range_error(oid: int, bits: int, v: str) -> PgError:
    name = {16: "smallint", 32: "integer", 64: "bigint"}[bits]
    return pg_error("22003", f'value "{v}" is out of range for type {name}')


def _ints_from_text(
    col: _Col, values: list[str | None], where: Callable[[int, str], str]
) -> np.ndarray:
    bits = pt.INT_BITS[col.oid]
    nulls = [i for i, v in enumerate(values) if v is None] if None in values else []
    present = [v for v in values if v is not None] if nulls else values
    joined = "\n".join(present)  # type: ignore[arg-type]
    arr: np.ndarray
    if present and _INTS_RE.fullmatch(joined):
        arr = np.array(joined.split("\n"), dtype=np.int64)
        if bits < 64:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            bad = (arr < lo) | (arr > hi)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                full_i = _full_index(values, i) if nulls else i
                v = present[i]
                assert v is not None
                raise _context(_int_range_error(col.oid, bits, v), where(full_i, v))
    else:
        decoded = _first_error(values, _text_decoder(col.oid), where)
        if not nulls:
            return np.array(decoded, dtype=np.int64)
        arr = np.array([d for d in decoded if d is not None], dtype=np.int64)
    if not nulls:
        return arr
    full = np.zeros(len(values), dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool)
    mask[nulls] = True
    full[~mask] = arr
    return np.ma.masked_array(full, mask=mask)


def _full_index(values: Sequence[object], k: int) -> int:
    """Index in `values` of the k-th non-None value."""
    seen = -1
    for i, v in enumerate(values):
        if v is not None:
            seen += 1
            if seen == k:
                return i
    raise IndexError(k)


class _FloatParser:
    """Parses plain pgvector literals in bulk with DuckDB (its own connection, no tables).

    ``string_split`` + DuckDB's VARCHAR -> FLOAT cast, which rounds the decimal straight to
    float4 (fast_float, like strtof) and runs without the GIL; the literals go in as they are
    (no copy on our side), one list per literal.  Measured on the dev VM: ~24 us of CPU per
    384-d literal, against ~28 us for numpy's text reader (which holds the GIL) plus the copies
    it needs.  (DuckDB's JSON reader parses them in ~14 us, but takes ``true``, ``"1"``,
    trailing commas and NaN, and reads ``-0`` as +0: the guards cost what it saves.)  Checks:
    every literal is ``[...]`` with exactly `dim` elements, all finite; the cast refuses empty
    elements, stray brackets and junk.  It also takes digit separators (``1_0``) and ``+-1``,
    which pgvector refuses, so those are kept from it.  Whatever fails a check (also hex
    floats, which the cast refuses) goes to the exact parser, which reports pgvector's error
    or agrees."""

    def __init__(self, open_cursor: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        self._open = open_cursor
        self._cur: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self._cur is not None:
            self._cur.close()
            self._cur = None

    def run(self, texts: list[str], dim: int) -> np.ndarray | None:
        """[len(texts), dim] float32, or None to let the exact parser decide."""
        n = len(texts)
        if self._cur is None:
            self._cur = self._open()
        cur = self._cur
        cur.register("__vg_floats", {"i": np.arange(n), "v": _objects(texts)})
        try:
            got = cur.execute(_FLOATS_SQL).fetchnumpy()
        except duckdb.Error:
            return None
        finally:
            cur.unregister("__vg_floats")
        if got["bad"].any() or not np.array_equal(got["i"], np.arange(n)):
            return None
        return float_matrix(got["x"], dim)


# (a subquery computing len(x) here doubled the CPU: lengths are checked with numpy)
_FLOATS_SQL = """
SELECT i, CAST(string_split(v[2:-2], ',') AS FLOAT[]) AS x,
  v[1] <> '[' OR v[-1] <> ']' OR contains(v, '_') OR contains(v, '+-') AS bad
FROM __vg_floats
"""


class _TextVectors:
    """A vector column of a text/csv chunk, parsed later (by the load stage, see `_Pipeline`)."""

    def __init__(
        self, col: _Col, values: list[str | None], where: Callable[[int, str], str]
    ) -> None:
        self.col = col
        self.values = values
        self._at = [len(values)]

        def where_(i: int, v: str) -> str:
            self._at[0] = i
            return where(i, v)

        self.where = where_
        self.present: np.ndarray | None = None
        self.texts: list[str] = values  # type: ignore[assignment]
        if None in values:
            self.present = np.array([v is not None for v in values], dtype=bool)
            self.texts = [v for v in values if v is not None]
        self.parts = [self]

    @staticmethod
    def group(parts: list[Any]) -> _TextVectors:
        """The parts (of consecutive blocks) as one column, parsed by one `resolve`."""
        flat: list[_TextVectors] = []
        for p in parts:
            flat.extend(p.parts)
        g = _TextVectors.__new__(_TextVectors)
        g.col = flat[0].col
        g.parts = flat
        return g

    def resolve(self, floats: _FloatParser) -> _Vecs:
        dim = self.col.dim
        parts = self.parts
        present = None
        if any(p.present is not None for p in parts):
            present = np.concatenate(
                [
                    p.present if p.present is not None else np.ones(len(p.values), dtype=bool)
                    for p in parts
                ]
            )
        n = sum(len(p.texts) for p in parts)
        if n == 0 and is_sparse_dim(dim):
            return _Vecs(_sparse_objects([]), present)
        if n == 0:
            return _Vecs(np.empty((0, max(dim, 1)), np.float32), present)
        mat = None
        if dim > 0 and self.col.cdef.pg_type != "sparsevec":
            texts = parts[0].texts if len(parts) == 1 else [t for p in parts for t in p.texts]
            mat = floats.run(texts, dim)
        if mat is None:  # the exact parser: pgvector's error, with its line, or the values
            mat = np.concatenate([p.exact() for p in parts if p.texts])
        return _Vecs(mat, present)

    def where_row(self) -> int:
        """The row of the last error reported through `where` (after `resolve` raised)."""
        return self._at[0]

    def exact(self) -> np.ndarray:
        dim = self.col.dim

        def parse(v: str) -> np.ndarray | vectors.SparseVectorValue:
            if self.col.cdef.pg_type == "sparsevec":
                sv = vectors.parse_sparsevec_text(v, dim if dim > 0 else None)
                return vectors.sparse_value(sv)
            return vectors.parse_vector_text(v, dim if dim > 0 else None)

        rows = _first_error(self.values, parse, self.where)
        got = [r for r in rows if r is not None]
        if is_sparse_dim(dim):  # the sparse store's rows (the dimension was checked)
            return _sparse_objects(got)
        first = got[0].shape[0]
        for i, r in enumerate(rows):
            if r is not None and r.shape[0] != first:  # unsized column: all must agree
                v = self.values[i]
                assert v is not None
                raise _context(
                    DataException(f"expected {first} dimensions, not {r.shape[0]}"),
                    self.where(i, v),
                )
        return np.stack(got).astype(np.float32, copy=False)


def _sparse_objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of `SparseVectorValue`s (numpy would unpack the tuples)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


def _objects(values: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _convert_text(col: _Col, values: list[str | None], where: Callable[[int, str], str]) -> Any:
    """One column of a text/csv chunk (str or None per row) -> what the loader inserts
    (vector columns: a `_TextVectors`, parsed by the load stage)."""
    if col.is_vector:
        return _TextVectors(col, values, where)
    if col.oid in pt.STRING_OIDS:
        return _objects(values)
    if col.oid in pt.INT_BITS:
        return _ints_from_text(col, values, where)
    decoded = _first_error(values, _text_decoder(col.oid), where)
    return _objects(decoded)


# ============================================================================================
# text and csv records

_ESCAPE_RE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.S)


def _unescape(field: str) -> str:
    """De-backslash a text-format field (Postgres's CopyReadAttributesText)."""
    raw_bytes = False

    def rep(m: re.Match[str]) -> str:
        nonlocal raw_bytes
        o, h, c = m.groups()
        if c is not None:
            return SIMPLE_ESCAPES.get(c, c)
        v = int(o, 8) & 0xFF if o is not None else int(h, 16)
        if v == 0:
            raise pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00')
        if v < 0x80:
            return chr(v)
        raw_bytes = True
        return chr(0xDC00 + v)  # surrogateescape: a raw byte, re-assembled below

    out = _ESCAPE_RE.sub(rep, field)
    if raw_bytes:
        b = out.encode("utf-8", "surrogateescape")
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _bad_utf8(b, e) from None
    return out


def _bad_utf8(b: bytes, e: UnicodeDecodeError) -> PgError:
    bad = " ".join(f"0x{x:02x}" for x in b[e.start : min(e.end + 1, len(b))])
    return pg_error("22021", f'invalid byte sequence for encoding "UTF8": {bad}')


def _odd_backslashes(s: str) -> bool:
    return (len(s) - len(s.rstrip("\\"))) % 2 == 1


def _text_fields(line: str, delim: str, null: str) -> list[str | None]:
    """Fields of a text-format line that contains backslashes."""
    fields: list[str] = []
    cur: str | None = None
    for part in line.split(delim):
        cur = part if cur is None else cur + delim + part
        if _odd_backslashes(cur):
            continue  # an escaped delimiter: the field goes on
        fields.append(cur)
        cur = None
    if cur is not None:
        fields.append(cur)
    return [None if f == null else (_unescape(f) if "\\" in f else f) for f in fields]


@dataclass
class _Records:
    """The records of one chunk: fields (str or None) per row, and each row's raw text."""

    rows: list[list[str | None]]
    raw: list[str]
    consumed: int  # characters of the chunk text used
    eof: bool = False  # the end-of-data marker was seen


class _TextSplitter:
    """Postgres's text format: lines, delimiter, backslash escapes, \\N."""

    def __init__(self, opts: CopyOptions, where: _Where) -> None:
        self.delim = opts.delimiter
        self.null = opts.null
        self.where = where
        self.crlf: bool | None = None

    def cut(self, data: bytes, final: bool) -> int:
        """Bytes of `data` that end at a record boundary."""
        if final:
            return len(data)
        p = data.rfind(b"\n")
        while p >= 0:
            k = p
            while k > 0 and data[k - 1] == 0x5C:  # an escaped newline continues the record
                k -= 1
            if (p - k) % 2 == 0:
                return p + 1
            p = data.rfind(b"\n", 0, k)
        return 0

    def split(self, text: str, final: bool, line0: int) -> _Records:
        lines = text.split("\n")
        terminated = lines[-1] == ""
        if terminated:
            lines.pop()
        if self.crlf is None and lines:
            self.crlf = lines[0].endswith("\r")
        if "\r" in text:
            lines = self._strip_cr(lines, line0, terminated)
        has_bs = "\\" in text
        eof = False
        if has_bs:
            lines = self._join_escaped_newlines(lines)
            if "\\." in lines:
                lines = lines[: lines.index("\\.")]
                eof = True
        d, null = self.delim, self.null
        rows: list[list[str | None]]
        if not has_bs:
            rows = [line.split(d) for line in lines]  # type: ignore[misc]
            if "\\" not in null and null in text:  # (\N cannot occur: no backslash here)
                for r in rows:
                    if null in r:
                        r[:] = [None if f == null else f for f in r]
        else:
            rows = [
                _text_fields(line, d, null) if "\\" in line else line.split(d)  # type: ignore[misc]
                for line in lines
            ]
            if "\\" not in null and null in text:
                for r, line in zip(rows, lines, strict=True):
                    if "\\" not in line and null in r:
                        r[:] = [None if f == null else f for f in r]
        return _Records(rows, lines, len(text), eof)

    def _strip_cr(self, lines: list[str], line0: int, terminated: bool) -> list[str]:
        out = []
        last = len(lines) - 1
        for i, line in enumerate(lines):
            if self.crlf and (line.endswith("\r") or i < last or terminated):
                if not line.endswith("\r"):
                    raise _context(
                        BadCopyFileFormat(
                            "literal newline found in data", hint='Use "\\n" to represent newline.'
                        ),
                        self.where.line(line0 + i + 1),
                    )
                line = line[:-1]
            if "\r" in line:
                raise _context(
                    BadCopyFileFormat(
                        "literal carriage return found in data",
                        hint='Use "\\r" to represent carriage return.',
                    ),
                    self.where.line(line0 + i + 1),
                )
            out.append(line)
        return out

    @staticmethod
    def _join_escaped_newlines(lines: list[str]) -> list[str]:
        if not any(line.endswith("\\") for line in lines):
            return lines
        out: list[str] = []
        cur: str | None = None
        for line in lines:
            cur = line if cur is None else cur + "\n" + line
            if cur.endswith("\\") and _odd_backslashes(cur):
                continue
            out.append(cur)
            cur = None
        if cur is not None:
            out.append(cur)
        return out


class _CsvSplitter:
    """Postgres's CSV format: quotes anywhere in a field, ESCAPE inside quotes, unquoted NULL."""

    def __init__(self, opts: CopyOptions, where: _Where, names: list[str]) -> None:
        self.opts = opts
        self.where = where
        self.crlf: bool | None = None
        d, q, e = (re.escape(x) for x in (opts.delimiter, opts.quote, opts.escape))
        if opts.quote == opts.escape:
            quoted = f"{q}(?:[^{q}]+|{q}{q})*{q}"
        else:
            quoted = f"{q}(?:[^{q}{e}]+|{e}[{q}{e}]?)*{q}"
        self._field = re.compile(f"(?:[^{d}{q}\\r\\n]+|{quoted})*")
        self._quoted = re.compile(quoted)
        esc_pair = re.compile(f"{e}([{q}{e}])")
        self._unquote_body = (
            (lambda s: s.replace(opts.quote * 2, opts.quote))
            if opts.quote == opts.escape
            else (lambda s: esc_pair.sub(r"\1", s))
        )
        self.not_null: list[bool] = []
        self.force_null: list[bool] = []
        self.names = names

    def cut(self, data: bytes, final: bool) -> int:
        if final:
            return len(data)
        return data.rfind(b"\n") + 1

    def _value(self, raw: str, j: int) -> str | None:
        q = self.opts.quote
        null = self.opts.null
        force_nn = j < len(self.not_null) and self.not_null[j]
        if q not in raw:
            if raw == null and not force_nn:
                return None
            return raw
        value = self._quoted.sub(lambda m: self._unquote_body(m.group(0)[1:-1]), raw)
        if j < len(self.force_null) and self.force_null[j] and value == null:
            return None
        return value

    def split(self, text: str, final: bool, line0: int) -> _Records:
        o = self.opts
        d, q, null = o.delimiter, o.quote, o.null
        rows: list[list[str | None]] = []
        raws: list[str] = []
        pos = 0
        n = len(text)
        simple_null = not any(self.not_null) and not any(self.force_null)
        while pos < n:
            nl = text.find("\n", pos)
            line = text[pos:] if nl < 0 else text[pos:nl]
            if self.crlf is None:
                self.crlf = line.endswith("\r")
            if q not in line:
                if nl < 0 and not final:
                    break
                if self.crlf and line.endswith("\r"):
                    line = line[:-1]
                if line == "\\.":
                    return _Records(rows, raws, n, eof=True)
                if "\r" in line:
                    raise _context(
                        BadCopyFileFormat(
                            "unquoted carriage return found in data",
                            hint="Use quoted CSV field to represent carriage return.",
                        ),
                        self.where.line(line0 + len(rows) + 1),
                    )
                fields: list[str | None] = line.split(d)  # type: ignore[assignment]
                if simple_null:
                    if null in fields:
                        fields = [None if f == null else f for f in fields]
                else:
                    fields = [self._value(f, j) for j, f in enumerate(fields)]  # type: ignore[arg-type]
                rows.append(fields)
                raws.append(line)
                pos = n if nl < 0 else nl + 1
                continue
            rec = self._record(text, pos, final, line0 + len(rows) + 1)
            if rec is None:
                break
            fields, raw, pos = rec
            rows.append(fields)
            raws.append(raw)
        return _Records(rows, raws, pos)

    def _record(
        self, text: str, pos: int, final: bool, line: int
    ) -> tuple[list[str | None], str, int] | None:
        """One record with quotes (it may span lines); None if it is not complete yet."""
        d, q = self.opts.delimiter, self.opts.quote
        fields: list[str | None] = []
        start = pos
        n = len(text)
        while True:
            m = self._field.match(text, pos)
            assert m is not None
            raw = m.group(0)
            end = m.end()
            fields.append(self._value(raw, len(fields)))
            c = text[end] if end < n else ""
            if c == d:
                pos = end + 1
                continue
            if c == "\n":
                return fields, text[start:end], end + 1
            if c == "\r" and self.crlf and text.startswith("\r\n", end):
                return fields, text[start:end], end + 2
            if c == "":
                if not final:
                    return None
                return fields, text[start:end], end
            if c == q:  # an opening quote with no closing one
                if not final:
                    return None
                raise _context(
                    BadCopyFileFormat("unterminated CSV quoted field"),
                    self.where.line(line, text[start:]),
                )
            raise _context(
                BadCopyFileFormat(
                    "unquoted carriage return found in data",
                    hint="Use quoted CSV field to represent carriage return.",
                ),
                self.where.line(line),
            )


# ============================================================================================
# binary tuples

_I16 = struct.Struct(">h").unpack_from
_I32 = struct.Struct(">i").unpack_from
_AR = [np.arange(k) for k in range(17)]


def _be_i32(a: np.ndarray, offs: np.ndarray) -> np.ndarray:
    return a[offs[:, None] + _AR[4]].view(">i4").reshape(-1).astype(np.int64)


def _be_i16(a: np.ndarray, offs: np.ndarray) -> np.ndarray:
    return a[offs[:, None] + _AR[2]].view(">i2").reshape(-1).astype(np.int64)


def _scan_all(
    buf: bytes, pos: int, nf: int, final: bool, line0: int, where: _Where
) -> tuple[list[int], list[int], int, bool]:
    """Every tuple from `pos`, reading every length word: (row starts, nf lengths per row,
    position after the last complete tuple, trailer seen).  Raises Postgres's errors."""
    starts: list[int] = []
    lens: list[int] = []
    end = len(buf)
    rng = range(nf)
    while True:
        line = line0 + len(starts) + 1
        if pos + 2 > end:
            if final and pos < end:
                raise _context(BadCopyFileFormat("unexpected EOF in COPY data"), where.line(line))
            return starts, lens, pos, False
        (cnt,) = _I16(buf, pos)
        if cnt == -1:
            if end > pos + 2:
                raise _context(
                    BadCopyFileFormat("received copy data after EOF marker"), where.line(line)
                )
            return starts, lens, pos + 2, True
        if cnt != nf:
            raise _context(
                BadCopyFileFormat(f"row field count is {cnt}, expected {nf}"), where.line(line)
            )
        p = pos + 2
        row: list[int] = []
        for _ in rng:
            if p + 4 > end:
                break
            (ln,) = _I32(buf, p)
            if ln < -1:
                raise _context(BadCopyFileFormat("invalid field size"), where.line(line))
            row.append(ln)
            p += 4 + ln if ln > 0 else 4
        if len(row) < nf or p > end:
            if final:
                raise _context(BadCopyFileFormat("unexpected EOF in COPY data"), where.line(line))
            return starts, lens, pos, False
        starts.append(pos)
        lens += row
        pos = p


def _scan_layout(
    buf: bytes, pos: int, g0: int, gaps: tuple[int, ...], minrow: int
) -> tuple[list[int], list[int], int]:
    """Tuples from `pos` assuming every fixed-width field is non-NULL with its width: only
    the variable-width fields' length words are read (`g0` bytes before the first, `gaps[k]`
    after the k-th).  The caller checks the assumption with numpy."""
    starts: list[int] = []
    lens: list[int] = []
    end = len(buf)
    sa = starts.append
    la = lens.append
    k = len(gaps)
    try:
        while pos + minrow <= end:
            p = pos + g0
            for g in gaps:
                (ln,) = _I32(buf, p)
                la(ln)
                p += 4 + g + ln if ln > 0 else 4 + g
            if p > end:
                break
            sa(pos)
            pos = p
    except struct.error:  # a length word beyond the data: the last tuple is incomplete
        pass
    del lens[len(starts) * k :]
    return starts, lens, pos


class _BinaryReader:
    """Postgres's binary COPY format: header, tuples, trailer."""

    def __init__(self, cols: list[_Col], where: _Where) -> None:
        self.cols = cols
        self.nf = len(cols)
        self.where = where
        self.header_done = False
        self.eof = False
        self.widths = [c.binary_width() for c in cols]
        self.var = [j for j, w in enumerate(self.widths) if w is None]
        self.fixed = [j for j, w in enumerate(self.widths) if w is not None]
        gaps = [2]
        for w in self.widths:
            if w is None:
                gaps.append(0)
            else:
                gaps[-1] += 4 + w
        self.g0 = gaps[0]
        self.gaps = tuple(gaps[1:])
        self.minrow = self.g0 + sum(4 + g for g in self.gaps)
        self.fast = bool(self.fixed)

    def header(self, buf: bytes, final: bool) -> int:
        """Bytes of header at the start of `buf`, or -1 if it has not all arrived."""
        n = len(buf)
        if n < 11 or buf[:11] != BINARY_SIGNATURE:
            if n >= 11 or final or BINARY_SIGNATURE[:n] != buf:
                raise BadCopyFileFormat("COPY file signature not recognized")
            return -1
        if n < 15:
            if final:
                raise BadCopyFileFormat("invalid COPY file header (missing flags)")
            return -1
        (flags,) = _I32(buf, 11)
        if flags & (1 << 16):
            raise BadCopyFileFormat("invalid COPY file header (WITH OIDS)")
        if (flags & ~(1 << 16)) >> 16:
            raise BadCopyFileFormat("unrecognized critical flags in COPY file header")
        if n < 19:
            if final:
                raise BadCopyFileFormat("invalid COPY file header (missing length)")
            return -1
        (ext,) = _I32(buf, 15)
        if ext < 0:
            raise BadCopyFileFormat("invalid COPY file header (missing length)")
        if n < 19 + ext:
            if final:
                raise BadCopyFileFormat("invalid COPY file header (wrong length)")
            return -1
        return 19 + ext

    def read(self, buf: bytes, final: bool, line0: int) -> tuple[int, np.ndarray, np.ndarray]:
        """(bytes consumed, row starts, [rows, nf] field lengths) of the complete tuples."""
        empty = (np.empty(0, np.int64), np.empty((0, self.nf), np.int64))
        pos = 0
        if not self.header_done:
            pos = self.header(buf, final)
            if pos < 0:
                return 0, *empty
            self.header_done = True
        if self.eof:
            if len(buf) > pos:
                raise _context(
                    BadCopyFileFormat("received copy data after EOF marker"),
                    self.where.line(line0 + 1),
                )
            return len(buf), *empty
        a = np.frombuffer(buf, np.uint8)
        starts = np.empty(0, np.int64)
        lens = np.empty((0, self.nf), np.int64)
        if self.fast:
            s, v, p = _scan_layout(buf, pos, self.g0, self.gaps, self.minrow)
            if s:
                starts = np.array(s, dtype=np.int64)
                lens = np.empty((len(s), self.nf), np.int64)
                if self.var:
                    lens[:, self.var] = np.array(v, dtype=np.int64).reshape(len(s), -1)
                for j in self.fixed:
                    lens[:, j] = self.widths[j]
                if self._layout_holds(a, starts, lens):
                    pos = p
                else:  # a NULL or an odd length in a fixed-width field: read every word
                    self.fast = False
                    starts = np.empty(0, np.int64)
                    lens = np.empty((0, self.nf), np.int64)
        s2, l2, pos, eof = _scan_all(buf, pos, self.nf, final, line0 + len(starts), self.where)
        self.eof = eof
        if s2:
            starts = np.concatenate([starts, np.array(s2, dtype=np.int64)])
            lens = np.concatenate([lens, np.array(l2, dtype=np.int64).reshape(len(s2), -1)])
        return pos, starts, lens

    def _layout_holds(self, a: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> bool:
        if (_be_i16(a, starts) != self.nf).any():
            return False
        if self.var and (lens[:, self.var] < -1).any():
            return False
        words = field_offsets(starts, lens)
        for j in self.fixed:
            if (_be_i32(a, words[:, j]) != self.widths[j]).any():
                return False
        return True


def field_offsets(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """[rows, nf] offsets of each field's length word, from row starts and field lengths."""
    sizes = 4 + np.maximum(lens, 0)
    return starts[:, None] + 2 + np.cumsum(sizes, axis=1) - sizes


def _convert_binary(
    col: _Col,
    a: np.ndarray,
    data: bytes,
    offs: np.ndarray,
    lens: np.ndarray,
    where: Callable[[int], str],
) -> Any:
    """One column of a binary chunk (data offsets, lengths; -1 = NULL) -> loader input."""
    n = len(offs)
    nulls = lens < 0

    def fail_at(i: int, decode: Callable[[bytes], Any]) -> PgError:
        o, ln = int(offs[i]), int(lens[i])
        try:
            decode(data[o : o + ln])
        except PgError as e:
            return _context(e, where(i))
        return _context(pg_error("22P03", "incorrect binary data format"), where(i))

    def param(data: bytes) -> Any:
        return pt.decode_param(col.oid, 1, data)

    if col.is_vector and col.dim > 0 and col.cdef.pg_type == "vector":
        dim = col.dim
        present = ~nulls
        idx = np.flatnonzero(present)
        po = offs[idx]
        bad = lens[idx] != 4 + 4 * dim
        if len(po):
            hdr = a[po[:, None] + _AR[4]].view(">i2").reshape(-1, 2)
            bad |= (hdr[:, 0] != dim) | (hdr[:, 1] != 0)

        def vec(data: bytes) -> Any:
            return vectors.decode_vector_binary(data, dim)

        if bad.any():
            raise fail_at(int(idx[np.flatnonzero(bad)[0]]), vec)
        nb = 4 * dim
        blob = b"".join([data[o : o + nb] for o in (po + 4).tolist()])
        # big-endian -> native: a uint32 byteswap is cheaper than astype(">f4" -> "<f4")
        mat = np.frombuffer(blob, np.uint32).byteswap().view(np.float32).reshape(-1, dim)
        if not np.isfinite(mat @ np.ones(dim, np.float32)).all():  # NaN/inf, or an overflow
            finite = np.isfinite(mat).all(axis=1)
            if not finite.all():
                raise fail_at(int(idx[np.flatnonzero(~finite)[0]]), vec)
        return _Vecs(mat, present if len(idx) < n else None)
    fixed = _FIXED.get(col.oid)
    if fixed is not None:
        w, dt = fixed
        bad = ~nulls & (lens != w)
        if bad.any():
            raise fail_at(int(np.flatnonzero(bad)[0]), param)
        o = np.where(nulls, 0, offs)
        raw = a[o[:, None] + _AR[w]]
        if col.oid == pt.BOOL_OID:
            vals = raw.reshape(-1) != 0
        else:
            vals = raw.view(dt).reshape(-1).astype(np.dtype(dt).newbyteorder("="))
        return np.ma.masked_array(vals, mask=nulls) if nulls.any() else vals
    if col.oid in pt.STRING_OIDS:
        if n == 0:
            return _objects([])
        ll = np.maximum(lens, 0)
        parts = [data[o : o + k] for o, k in zip(offs.tolist(), ll.tolist(), strict=True)]
        blob = b"\x00".join(parts)
        strs: list[Any] | None = None
        if blob.count(b"\x00") == n - 1:
            try:
                strs = blob.decode("utf-8").split("\x00")
            except UnicodeDecodeError:
                strs = None
        if strs is None:
            for i in range(n):
                if not nulls[i]:
                    p = parts[i]
                    if b"\x00" in p:
                        raise _context(
                            pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
                            where(i),
                        )
                    try:
                        p.decode("utf-8")
                    except UnicodeDecodeError:
                        raise fail_at(i, param) from None
            raise AssertionError("unreachable")  # pragma: no cover
        if nulls.any():
            for i in np.flatnonzero(nulls).tolist():
                strs[i] = None
        return _objects(strs)
    out: list[Any] = []
    for i, (o, ln) in enumerate(zip(offs.tolist(), lens.tolist(), strict=True)):
        if ln < 0:
            out.append(None)
            continue
        try:
            out.append(param(data[o : o + ln]))
        except PgError as e:
            raise _context(e, where(i)) from None
    if col.is_vector:  # halfvec / sparsevec columns (and unsized vector columns)
        if col.dim > 0:
            for i, v in enumerate(out):
                n = v.dim if isinstance(v, vectors.SparseVectorValue) else None
                n = n if n is not None else (None if v is None else len(v))
                if n is not None and n != col.dim:
                    raise _context(
                        DataException(f"expected {col.dim} dimensions, not {n}"), where(i)
                    )
        return _vectors_from_objects(out)
    return _objects(out)


def _vectors_from_objects(values: list[Any]) -> _Vecs:
    present = np.array([v is not None for v in values], dtype=bool)
    if any(isinstance(v, vectors.SparseVectorValue) and is_sparse_dim(v.dim) for v in values):
        got_sparse = [v for v in values if v is not None]
        return _Vecs(_sparse_objects(got_sparse), None if present.all() else present)
    got = [
        vectors.sparse_to_dense(v)
        if isinstance(v, vectors.SparseVectorValue)
        else np.asarray(v, np.float32)
        for v in values
        if v is not None
    ]
    mat = np.stack(got) if got else np.empty((0, 1), np.float32)
    return _Vecs(mat, None if present.all() else present)


# ============================================================================================
# inserting a chunk


class _Loader:
    """Appends a batch's vectors to their stores and its rows to DuckDB, in the session's
    transaction, with one ``INSERT ... SELECT`` from numpy arrays registered as a relation."""

    def __init__(self, session: Session, tdef: TableDef, cols: list[_Col]) -> None:
        self.session = session
        self.cols = cols
        self.table = tdef.name
        self.rel = f"__vg_copy_{session.pid}"
        exprs = []
        for j, c in enumerate(cols):
            ref = f'"c{j}"'
            if c.is_vector:
                assert c.cdef.store_id is not None
                f = slot_field(c.cdef.store_id)
                exprs.append(f'CASE WHEN {ref} < 0 THEN NULL ELSE struct_pack("{f}" := {ref}) END')
            else:
                exprs.append(f"CAST({ref} AS {c.cdef.duck_type()})")
        names = ", ".join(_q(c.name) for c in cols)
        self.sql = (
            f"INSERT INTO {_q(self.table)} ({names}) SELECT {', '.join(exprs)} FROM {self.rel}"
        )

    def insert(self, n: int, values: list[Any]) -> None:
        if n == 0:
            return
        s = self.session
        reg: dict[str, Any] = {}
        for j, (c, v) in enumerate(zip(self.cols, values, strict=True)):
            if c.is_vector:
                assert isinstance(v, _Vecs) and c.cdef.store_id is not None
                slots = np.full(n, -1, dtype=np.int64)
                if len(v.matrix):
                    dim = c.cdef.dim or v.matrix.shape[1]
                    mat = v.matrix
                    if c.cdef.pg_type == "halfvec":
                        mat = vectors.round_halfvec(mat)
                    got = s.db.store(c.cdef.store_id, dim).append(mat)
                    s._touched.add(c.cdef.store_id)
                    if v.present is None:
                        slots = got
                    else:
                        slots[v.present] = got
                reg[f"c{j}"] = slots
            elif c.oid == pt.NUMERIC_OID:
                reg[f"c{j}"] = _objects(
                    [None if x is None else format(x, "f") for x in v]  # Decimal -> text
                )
            else:
                reg[f"c{j}"] = v
        s._written.add(self.table)
        cur = s.cur
        cur.register(self.rel, reg)
        try:
            cur.execute(self.sql)
        finally:
            try:
                cur.unregister(self.rel)
            except duckdb.Error:  # the failed INSERT aborted the transaction: keep its error
                pass


# ============================================================================================
# COPY FROM STDIN


QUEUE_CHUNKS = 16
"""Blocks that may wait for the parse stage before `feed` blocks (the backpressure to the
client); between the later stages, where items are merged batches, at most 2 wait."""


@dataclass
class _Batch:
    """Parsed rows: a value array (or `_Vecs` / `_TextVectors`) per COPY column."""

    n: int
    values: list[Any]
    raw: RawText | None = None  # lines for DuckDB's reader, not parsed yet (then no values)


def _merge(batches: list[_Batch]) -> _Batch:
    """One batch with the rows of `batches` (all raw, or all parsed), in order."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0].raw
    if first is not None:
        parts = [p for b in batches if b.raw is not None for p in b.raw.parts]
        n = sum(b.n for b in batches)
        return _Batch(n, [], RawText(parts, n, first.line0))
    cols: list[Any] = []
    for j in range(len(batches[0].values)):
        parts = [b.values[j] for b in batches]
        first = parts[0]
        if isinstance(first, _TextVectors):
            cols.append(_TextVectors.group(parts))
        elif isinstance(first, _Vecs):
            present = None
            if any(p.present is not None for p in parts):
                present = np.concatenate(
                    [
                        p.present if p.present is not None else np.ones(b.n, dtype=bool)
                        for p, b in zip(parts, batches, strict=True)
                    ]
                )
            cols.append(_Vecs(np.concatenate([p.matrix for p in parts]), present))
        elif any(isinstance(p, np.ma.MaskedArray) for p in parts):
            cols.append(np.ma.concatenate(parts))
        else:
            cols.append(np.concatenate(parts))
    return _Batch(sum(b.n for b in batches), cols)


class _Pipeline:
    """Threads that process COPY chunks in stages, in order, while the connection keeps
    reading CopyData: parse (splitting and converting, Python-heavy), then vectors (the DuckDB
    float parse of text-format vectors), then load (vector file appends and DuckDB INSERTs);
    the last two mostly run without the GIL.  An error travels down the queues, so errors
    surface in row order; the first one stops the work and is re-raised by the next `put`,
    `raise_error` or `close`."""

    def __init__(self, stages: list[Callable[[Any], Any]]) -> None:
        self._stages = stages
        self._queues: list[queue.Queue[Any]] = [
            queue.Queue(maxsize=QUEUE_CHUNKS if k == 0 else 2) for k in range(len(stages))
        ]
        self._error: BaseException | None = None
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._run, args=(k,), name=f"vecgres-copy-{k}", daemon=True)
            for k in range(len(stages))
        ]
        for t in self._threads:
            t.start()

    def _run(self, k: int) -> None:
        inbox = self._queues[k]
        outbox = self._queues[k + 1] if k + 1 < len(self._queues) else None
        failed = False
        while True:
            item = inbox.get()
            if item is None:
                if outbox is not None:
                    outbox.put(None)
                return
            if failed or self._stopped or self._error is not None:
                continue  # drain
            if isinstance(item, BaseException):  # from an earlier stage: pass it on, in order
                results: Any = [item]
            else:
                try:
                    results = self._stages[k](item)
                except BaseException as e:  # noqa: BLE001 - reported in order, below
                    results = e
                if not isinstance(results, list):
                    results = [results]
            for result in results:
                if isinstance(result, BaseException):
                    failed = True
                    if outbox is None:
                        self._error = result
                    else:
                        outbox.put(result)
                    break
                if outbox is not None and result is not None:
                    outbox.put(result)

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, block: list[bytes]) -> None:
        self.raise_error()
        self._queues[0].put(block)

    def close(self) -> None:
        """Wait until every chunk went through every stage; raise the first error."""
        self._queues[0].put(None)
        for t in self._threads:
            t.join()
        self.raise_error()

    def stop(self) -> None:
        """Drop the work not started yet and wait for the threads to end."""
        self._stopped = True
        if self._threads[0].is_alive():
            self._queues[0].put(None)
        for t in self._threads:
            t.join()


_DUP_IN_STATEMENT = re.compile(r'constraint violation: duplicate key "(.*)"')


class CopyIn:
    """One COPY FROM STDIN in progress: `feed` CopyData, then `finish` (CopyDone) or `fail`.

    Any error ends the COPY (the session rolls back its transaction, or fails the block);
    later calls do nothing.  `rest` holds statements of the same simple Query that follow the
    COPY (the protocol runs them after it).
    """

    def __init__(
        self,
        session: Session,
        stmt: CopyStatement,
        on_end: Callable[[BaseException | None], None],
    ) -> None:
        spec = stmt.spec
        if spec.target != "stdio":
            raise _file_error()
        if spec.has_where:
            raise FeatureNotSupported("COPY FROM ... WHERE is not supported")
        self.opts = copy_options(spec.raw_options, is_from=True)
        self.tdef, self.cols = _resolve(session.catalog, spec)
        if not self.cols:
            raise FeatureNotSupported("COPY FROM needs at least one column")
        _, not_null, force_null = _check_listed(self.opts, self.cols)
        self.session = session
        self.on_end = on_end
        self.where = _Where(self.tdef.name)
        self.binary = self.opts.format == "binary"
        self.format_code = 1 if self.binary else 0
        self.column_count = len(self.cols)
        self.rest: list[exp.Expression] = []
        self.rest_sql = ""
        self._pending: list[bytes] = []  # CopyData not yet handed to the parser
        self._pending_len = 0
        self._carry = b""  # the incomplete record at the end of the last parsed block
        self._worker: _Pipeline | None = None
        self._rows = 0  # rows inserted so far
        self._lines = 0  # records read so far (the header included): Postgres's line numbers
        self._ended = False
        self._eof = False
        self._loader = _Loader(session, self.tdef, self.cols)
        self._bin = _BinaryReader(self.cols, self.where) if self.binary else None
        self._split: _TextSplitter | _CsvSplitter | None = None
        if self.opts.format == "text":
            self._split = _TextSplitter(self.opts, self.where)
        elif self.opts.format == "csv":
            csv = _CsvSplitter(self.opts, self.where, [c.name for c in self.cols])
            csv.not_null = [c.name in not_null for c in self.cols]
            csv.force_null = [c.name in force_null for c in self.cols]
            self._split = csv
        self._header_pending = self.opts.header
        self._chunk_bytes = _int_setting(session, "vecgres.copy_chunk_bytes", CHUNK_BYTES)
        self._batch_rows = _int_setting(session, "vecgres.copy_batch_rows", LOAD_ROWS)
        self._acc: list[_Batch] = []  # parsed blocks not yet merged into a load batch
        self._acc_rows = 0
        self._floats = _FloatParser(session.db.cursor)
        self._duck: DuckTextReader | None = None
        if (
            self.opts.format == "text"
            and self.opts.delimiter == "\t"
            and self.opts.null == "\\N"
            and _text_reader_setting(session) == "duckdb"
        ):
            kinds = [(c.oid, c.cdef.pg_type, c.cdef.dim or 0) for c in self.cols]
            duck_cols = columns_for(kinds)
            if duck_cols is not None:
                self._duck = DuckTextReader(duck_cols, session.db.cursor)

    # -- protocol entry points
    def feed(self, data: bytes) -> None:
        if self._ended:
            return
        self._guard(lambda: self._feed(data))

    def finish(self) -> Result:
        from sqlfront.session import Result

        if self._ended:
            raise PgError("COPY has already ended")
        self._guard(self._finish)
        self._end(None)
        return Result(tag=f"COPY {self._rows}")

    def fail(self, message: str) -> PgError:
        """CopyFail: the COPY is abandoned; returns the error to report (57014)."""
        err = QueryCanceled(f"COPY from stdin failed: {message}")
        if not self._ended:
            self._end(err)
        return err

    def abort(self, err: PgError | None = None) -> None:
        """End the COPY without finishing it (a protocol error, the connection going away)."""
        if not self._ended:
            self._end(err or QueryCanceled("COPY from stdin aborted"))

    # -- internals
    def _end(self, err: BaseException | None) -> None:
        self._ended = True
        self._pending = []
        if self._worker is not None:  # before the session touches the DuckDB cursor again
            self._worker.stop()
            self._worker = None
        self._floats.close()
        if self._duck is not None:
            self._duck.close()
        self.on_end(err)

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as e:
            if not self._ended:
                self._end(e)
            if isinstance(e, duckdb.Error):
                raise self._translate(e) from e
            raise

    def _translate(self, e: duckdb.Error) -> PgError:
        err = translate(e, self.tdef.name)
        dup = _DUP_IN_STATEMENT.search(str(e))
        if err.sqlstate == "23000" and dup and self.tdef.primary_key:
            # DuckDB 2.0's text for a key repeated inside one INSERT (engine.duck_errors only
            # knows the one for a clash with an existing row)
            return pg_error(
                "23505",
                f'duplicate key value violates unique constraint "{self.tdef.name}_pkey"',
                detail=f"Key ({', '.join(self.tdef.primary_key)})=({dup.group(1)}) already exists.",
            )
        return err

    def _feed(self, data: bytes) -> None:
        if self.session.cancel.is_set():
            raise QueryCanceled("canceling statement due to user request")
        if self._worker is not None:
            self._worker.raise_error()
        self._pending.append(bytes(data))
        self._pending_len += len(data)
        if self._pending_len >= self._chunk_bytes:
            if self._worker is None:
                self._worker = _Pipeline([self._parse_stage, self._vectors, self._load])
            self._worker.put(self._take_pending())

    def _finish(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        batch = self._parse(self._take_pending(), final=True)
        ready = self._accumulate(batch)
        merged = self._take_acc()
        if merged is not None:
            ready.append(merged)
        for b in ready:
            self._load(self._vectors(b))

    def _parse_stage(self, block: list[bytes]) -> list[Any]:
        """Pipeline stage 1: parse a block; emit a merged batch once it holds enough rows.
        A parse error goes after the rows parsed before it (errors stay in row order)."""
        try:
            batch = self._parse(block, final=False)
        except BaseException as e:  # noqa: BLE001 - passed down the pipeline
            return [self._take_acc(), e]
        ready = self._accumulate(batch)
        if self._acc_rows >= self._batch_rows:
            ready.append(self._take_acc())
        return ready

    def _accumulate(self, batch: _Batch | None) -> list[_Batch]:
        """Add a parsed block to the batch being gathered; a block of the other kind (raw
        lines for DuckDB vs rows parsed in Python) first sends the gathered one on."""
        if batch is None:
            return []
        ready = []
        if self._acc and (self._acc[0].raw is None) != (batch.raw is None):
            merged = self._take_acc()
            assert merged is not None
            ready.append(merged)
        self._acc.append(batch)
        self._acc_rows += batch.n
        return ready

    def _take_acc(self) -> _Batch | None:
        if not self._acc:
            return None
        merged = _merge(self._acc)
        self._acc = []
        self._acc_rows = 0
        return merged

    def _take_pending(self) -> list[bytes]:
        block = self._pending
        self._pending = []
        self._pending_len = 0
        return block

    def _parse(self, block: list[bytes], final: bool) -> _Batch | None:
        """Parse the complete records of carry-over + `block`, the CopyData payloads received
        since the last one (in the pipeline's parse thread while data streams in, in the
        caller's for the last block).  They are joined here, with the carry-over, in one
        copy: the vector text of a COPY is hundreds of MB, each pass over it counts."""
        if self.session.cancel.is_set():
            raise QueryCanceled("canceling statement due to user request")
        if self._carry:
            block = [self._carry, *block]
        data = block[0] if len(block) == 1 else b"".join(block)
        self._carry = b""
        if self._eof:
            if self.binary and data:
                raise _context(
                    BadCopyFileFormat("received copy data after EOF marker"),
                    self.where.line(self._lines + 1),
                )
            return None  # text/csv: data after \. is ignored
        chunk = self._binary_chunk if self.binary else self._text_chunk
        used, batch = chunk(data, final)
        if used < len(data):
            self._carry = data[used:]
        return batch

    def _vectors(self, batch: _Batch) -> _Batch:
        """Parse the text-format vectors of a batch (DuckDB, without the GIL); raw lines
        are read whole by DuckDB, or parsed here in Python when it cannot be sure."""
        if batch.raw is not None:
            batch = self._read_raw(batch.raw)
        if any(isinstance(v, _TextVectors) for v in batch.values):
            batch.values = [
                v.resolve(self._floats) if isinstance(v, _TextVectors) else v for v in batch.values
            ]
        return batch

    def _read_raw(self, raw: RawText) -> _Batch:
        assert self._duck is not None
        got = self._duck.read(raw)
        if got is None:  # Postgres's error for the first bad line, or the same rows
            _, batch = self._text_chunk(b"".join(raw.parts), True, line0=raw.line0)
            assert batch is not None and batch.n == raw.rows
            return batch
        values = [_Vecs(*v) if isinstance(v, tuple) else v for v in got.values]
        return _Batch(raw.rows, values)

    def _load(self, batch: _Batch) -> None:
        if self.session.cancel.is_set():
            raise QueryCanceled("canceling statement due to user request")
        self._loader.insert(batch.n, batch.values)
        self._rows += batch.n

    def _text_chunk(
        self, data: bytes, final: bool, line0: int | None = None
    ) -> tuple[int, _Batch | None]:
        """Parse the whole records at the start of `data`: (bytes used, their rows).  With
        `line0` (the records before `data`), the lines a raw batch held, from another thread:
        the COPY's own position is left alone."""
        assert self._split is not None
        cut = self._split.cut(data, final)
        if cut == 0:
            return 0, None
        if line0 is None and self._duck is not None and not self._header_pending:
            raw = self._raw_lines(data, cut)
            if raw is not None:
                return cut, raw
        own = line0 is None  # this COPY's next records (not a raw batch's)
        lines_before = self._lines if line0 is None else line0
        try:
            text = str(memoryview(data)[:cut], "utf-8")  # (no copy of the bytes first)
        except UnicodeDecodeError as e:
            line = lines_before + data.count(b"\n", 0, e.start) + 1
            raise _context(_bad_utf8(data[:cut], e), self.where.line(line)) from None
        if "\x00" in text:
            line = lines_before + text.count("\n", 0, text.index("\x00")) + 1
            raise _context(
                pg_error("22021", 'invalid byte sequence for encoding "UTF8": 0x00'),
                self.where.line(line),
            )
        recs = self._split.split(text, final, lines_before)
        rows, raws = recs.rows, recs.raw
        first = 0
        if own and self._header_pending and rows:
            self._header_pending = False
            self._check_header(rows[0], raws[0])
            first = 1
        line0 = lines_before + first  # line number of rows[first] is line0 + 1
        body = rows[first:] if first else rows
        n = len(body)
        ncols = len(self.cols)
        if any(len(r) != ncols for r in body):
            for i, r in enumerate(body):
                if len(r) < ncols:
                    raise _context(
                        BadCopyFileFormat(f'missing data for column "{self.cols[len(r)].name}"'),
                        self.where.line(line0 + i + 1, raws[first + i]),
                    )
                if len(r) > ncols:
                    raise _context(
                        BadCopyFileFormat("extra data after last expected column"),
                        self.where.line(line0 + i + 1, raws[first + i]),
                    )
        values: list[Any] = []
        errors: list[tuple[int, int, PgError]] = []
        columns = list(zip(*body, strict=True)) if n else [() for _ in self.cols]
        for j, c in enumerate(self.cols):
            at = [n]

            def where(i: int, v: str, name: str = c.name, at: list[int] = at) -> str:
                at[0] = i
                return self.where.column(line0 + i + 1, name, v)

            try:
                values.append(_convert_text(c, list(columns[j]), where))
            except PgError as e:
                errors.append((at[0], j, e))
                values.append(None)
        if errors:  # Postgres reports the first bad row's first bad column
            for j, v in enumerate(values):
                if isinstance(v, _TextVectors) and v.texts:
                    try:  # the exact parser: the DuckDB one belongs to the load stage
                        v.exact()
                    except PgError as e:
                        errors.append((v.where_row(), j, e))
            raise min(errors, key=lambda t: (t[0], t[1]))[2]
        if own:
            self._lines += len(rows)
        batch = _Batch(n, values) if n else None
        if recs.eof and own:
            self._eof = True
            return len(data), batch
        used = recs.consumed
        return (cut if used == len(text) else len(text[:used].encode("utf-8"))), batch

    def _raw_lines(self, data: bytes, cut: int) -> _Batch | None:
        """The records `data[:cut]` as a raw batch for DuckDB's reader, if it accepts them."""
        assert self._duck is not None and self._split is not None
        if not self._duck.accepts(data, cut):
            return None
        rows = data.count(b"\n", 0, cut) + (data[cut - 1] != 0x0A)
        block = data if cut == len(data) else memoryview(data)[:cut]  # (no copy)
        if self._split.crlf is None:
            self._split.crlf = False  # the first line ends in a bare newline
        raw = RawText([block], rows, self._lines)
        self._lines += rows
        return _Batch(rows, [], raw)

    def _check_header(self, fields: list[str | None], raw: str) -> None:
        if not self.opts.header_match:
            return
        line = self.where.line(1, raw)
        if len(fields) != len(self.cols):
            raise _context(
                BadCopyFileFormat(
                    f"wrong number of fields in header line: got {len(fields)}, "
                    f"expected {len(self.cols)}"
                ),
                line,
            )
        for i, (f, c) in enumerate(zip(fields, self.cols, strict=True)):
            if f is None:
                raise _context(
                    BadCopyFileFormat(
                        f"column name mismatch in header line field {i + 1}: "
                        f'got null value ("{self.opts.null}"), '
                        f'expected "{c.name}"'
                    ),
                    line,
                )
            if f != c.name:
                raise _context(
                    BadCopyFileFormat(
                        f"column name mismatch in header line field {i + 1}: "
                        f'got "{f}", expected "{c.name}"'
                    ),
                    line,
                )

    def _binary_chunk(self, data: bytes, final: bool) -> tuple[int, _Batch | None]:
        assert self._bin is not None
        used, starts, lens = self._bin.read(data, final, self._lines)
        n = len(starts)
        self._eof = self._bin.eof
        if n == 0:
            return used, None
        a = np.frombuffer(data, np.uint8)
        offs = field_offsets(starts, lens) + 4
        line0 = self._lines
        values = []
        errors: list[tuple[int, int, PgError]] = []
        for j, c in enumerate(self.cols):
            at = [n]

            def where(i: int, name: str = c.name, at: list[int] = at) -> str:
                at[0] = i
                return self.where.column(line0 + i + 1, name, binary=True)

            try:
                values.append(_convert_binary(c, a, data, offs[:, j], lens[:, j], where))
            except PgError as e:
                errors.append((at[0], j, e))
        if errors:  # Postgres reports the first bad row's first bad column
            raise min(errors, key=lambda t: (t[0], t[1]))[2]
        self._lines += n
        return used, _Batch(n, values)


def _text_reader_setting(session: Session) -> str:
    """`vecgres.copy_text_reader`: 'duckdb' (default: DuckDB's CSV reader where it applies)
    or 'python' (always the Python splitter; for comparisons)."""
    name = "vecgres.copy_text_reader"
    raw = session.settings.values.get(name, "") or "duckdb"
    if raw not in ("duckdb", "python"):
        raise InvalidParameterValue(f'invalid value for parameter "{name}": "{raw}"')
    return raw


def _int_setting(session: Session, name: str, default: int) -> int:
    raw = session.settings.values.get(name, "")
    try:
        return max(1, int(raw)) if raw else default
    except ValueError:
        raise InvalidParameterValue(f'invalid value for parameter "{name}": "{raw}"') from None


def _file_error() -> PgError:
    return FeatureNotSupported(
        "COPY to or from a file or program is not supported",
        hint="Anyone can COPY to stdout or from stdin. psql's \\copy command also works for "
        "anyone.",
    )


# ============================================================================================
# COPY TO STDOUT


@dataclass
class CopyOut:
    """COPY TO STDOUT output: the CopyData payloads (one per row, as Postgres sends them)."""

    format: int  # 0 text/csv, 1 binary
    column_count: int
    chunks: list[bytes]


_TEXT_OUT_ESCAPES = {
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def copy_to(
    session: Session,
    stmt: CopyStatement,
    run_query: Callable[[exp.Expression, str], Result],
) -> Result:
    """Run ``COPY ... TO STDOUT``: the rows, encoded, in a `Result` with `copy_out` set."""
    from sqlfront.dialect import parse
    from sqlfront.session import Result

    spec = stmt.spec
    if spec.target != "stdio":
        raise _file_error()
    opts = copy_options(spec.raw_options, is_from=False)
    if spec.query is not None:
        try:
            trees = parse(spec.query)
        except SyntaxError_ as e:
            if e.position is not None:
                e.position += spec.query_offset
            raise
        if len(trees) != 1:
            raise SyntaxError_("COPY (query) must contain exactly one statement")
        res = run_query(trees[0], spec.query)
        if res.columns is None:
            raise FeatureNotSupported("COPY query must have a RETURNING clause")
        names = [c.name for c in res.columns]
    else:
        tdef, cols = _resolve(session.catalog, spec)
        names = [c.name for c in cols]
        sql = f"SELECT {', '.join(_q(n) for n in names)} FROM {_q(tdef.name)}"
        res = run_query(parse(sql)[0], sql)
        assert res.columns is not None
    oids = [c.type_oid for c in res.columns]
    rows = res.rows
    if opts.format == "binary":
        chunks = _binary_out(rows, oids)
    else:
        force = set()
        if opts.force_quote:
            fake = [_Col(n, 0, ColumnDef(n, "text")) for n in names]
            force = _check_listed(opts, fake)[0]
        chunks = _text_out(rows, oids, names, opts, [n in force for n in names])
    out = CopyOut(1 if opts.format == "binary" else 0, len(oids), chunks)
    return Result(tag=f"COPY {len(rows)}", copy_out=out)


def _column_texts(values: list[Any], oid: int) -> list[str | None]:
    if oid == pt.VECTOR_OID:
        idx = [i for i, v in enumerate(values) if v is not None]
        out: list[str | None] = [None] * len(values)
        if idx:
            mats = [np.asarray(values[i], dtype=np.float32).reshape(-1) for i in idx]
            if len({m.shape[0] for m in mats}) == 1:
                strs = vectors.format_vectors_bulk(np.stack(mats))
            else:
                strs = [vectors.format_vector_text(m) for m in mats]
            for i, s in zip(idx, strs, strict=True):
                out[i] = s
        return out
    fmt = pt.text_formatter(oid)
    return [None if v is None else fmt(v) for v in values]


def _text_out(
    rows: list[tuple],
    oids: list[int],
    names: list[str],
    opts: CopyOptions,
    force_quote: list[bool],
) -> list[bytes]:
    d = opts.delimiter
    null = opts.null
    single = len(oids) == 1
    if opts.format == "csv":
        q, e = opts.quote, opts.escape
        needs = re.compile("[" + re.escape(d + q + "\n\r") + "]")

        def enc(s: str, force: bool) -> str:
            if not (force or s == null or (single and s == "\\.") or needs.search(s)):
                return s
            if q in s or e in s:
                s = "".join(e + c if c in (q, e) else c for c in s)
            return q + s + q
    else:
        table = str.maketrans({d: "\\" + d, **_TEXT_OUT_ESCAPES})  # \t beats backslash-tab
        special = re.compile("[" + re.escape("".join(_TEXT_OUT_ESCAPES) + d) + "]")

        def enc(s: str, force: bool) -> str:
            return s.translate(table) if special.search(s) else s

    chunks: list[bytes] = []
    if opts.header:
        chunks.append((d.join(enc(n, False) for n in names) + "\n").encode())
    if not rows:
        return chunks
    columns = list(zip(*rows, strict=True))
    texts = []
    for j, oid in enumerate(oids):
        vals = _column_texts(list(columns[j]), oid)
        fq = force_quote[j]
        texts.append([null if v is None else enc(v, fq) for v in vals])
    for fields in zip(*texts, strict=True):
        chunks.append((d.join(fields) + "\n").encode())
    return chunks


def _binary_out(rows: list[tuple], oids: list[int]) -> list[bytes]:
    encs = [pt.binary_encoder(oid) for oid in oids]
    head = struct.pack(">h", len(oids))
    pack = struct.Struct(">i").pack
    chunks: list[bytes] = []
    for row in rows:
        parts = [head]
        for v, enc in zip(row, encs, strict=True):
            if v is None:
                parts.append(b"\xff\xff\xff\xff")
            else:
                b = enc(v)
                parts.append(pack(len(b)))
                parts.append(b)
        chunks.append(b"".join(parts))
    if chunks:
        chunks[0] = _BINARY_HEADER + chunks[0]
        chunks.append(_BINARY_TRAILER)
    else:
        chunks.append(_BINARY_HEADER + _BINARY_TRAILER)
    return chunks


__all__ = [
    "CHUNK_BYTES",
    "CopyIn",
    "CopyOptions",
    "CopyOut",
    "CopySpec",
    "CopyStatement",
    "copy_options",
    "copy_to",
    "is_copy",
    "parse_copy",
    "parse_statements",
]
