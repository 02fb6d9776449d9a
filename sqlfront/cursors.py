"""SQL-level cursors: DECLARE ... CURSOR, FETCH, MOVE, CLOSE (psqlODBC's UseDeclareFetch,
psycopg's server-side cursors, SQLAlchemy's stream_results).

Owns parsing those statements' text (sqlglot leaves them as commands) and `SqlCursor`, a
declared cursor's rows.  A cursor's query runs when it is declared and its rows are kept
(Postgres also reads a cursor from the snapshot of its DECLARE); FETCH and MOVE go forward
only (NEXT, FORWARD [n | ALL], n, ALL), as for a NO SCROLL cursor.  The session keeps the
cursors, closes those without HOLD at the end of their transaction, and those declared in a
transaction that rolls back.
Must not: run queries (the session does).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from engine.errors import FeatureNotSupported, InvalidCursorName, SyntaxError_

_NAME = r'("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
_DECLARE = re.compile(
    rf"^\s*{_NAME}\s+((?:\w+\s+)*?)CURSOR\b\s*((?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(.*)$",
    re.I | re.S,
)
_DECLARE_OPTIONS = {"BINARY", "INSENSITIVE", "ASENSITIVE", "SCROLL", "NO"}


@dataclass
class SqlCursor:
    """A declared cursor: its result columns (session `Column`s), rows and position."""

    columns: list
    rows: list[tuple]
    hold: bool
    txn: int  # the transaction it was declared in (closed if that one rolls back)
    statement: str = ""  # pg_cursors.statement
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    pos: int = 0

    def take(self, count: int | None) -> list[tuple]:
        """The next `count` rows (all remaining for None), moving past them."""
        end = len(self.rows) if count is None else min(len(self.rows), self.pos + count)
        out = self.rows[self.pos : end]
        self.pos = end
        return out


def ident(word: str) -> str:
    """A cursor name as Postgres folds it."""
    if len(word) >= 2 and word[0] == '"' and word[-1] == '"':
        return word[1:-1].replace('""', '"')
    return word.lower()


def parse_declare(rest: str) -> tuple[str, bool, str]:
    """`DECLARE <rest>` -> (name, WITH HOLD, query text)."""
    m = _DECLARE.match(rest)
    if m is None:
        raise SyntaxError_('syntax error at or near "DECLARE"')
    name, options, hold, query = m.group(1), m.group(2).upper().split(), m.group(3), m.group(4)
    for opt in options:
        if opt not in _DECLARE_OPTIONS:
            raise SyntaxError_(f'syntax error at or near "{opt}"')
    if "BINARY" in options:
        raise FeatureNotSupported("BINARY cursors are not supported")
    if "SCROLL" in options and "NO" not in options:
        raise FeatureNotSupported("SCROLL cursors are not supported (use NO SCROLL)")
    with_hold = bool(hold) and hold.upper().startswith("WITH ")
    return ident(name), with_hold, query.strip().rstrip(";")


def parse_fetch(verb: str, rest: str) -> tuple[int | None, str]:
    """`FETCH|MOVE <rest>` -> (row count, None for ALL; cursor name)."""
    words = rest.split()
    if not words:
        raise SyntaxError_(f'syntax error at end of input after "{verb}"')
    name = words[-1]
    words = words[:-1]
    if words and words[-1].upper() in ("FROM", "IN"):
        words = words[:-1]
    upper = [w.upper() for w in words]
    count: int | None
    if upper in ([], ["NEXT"], ["FORWARD"]):
        count = 1
    elif upper in (["ALL"], ["FORWARD", "ALL"]):
        count = None
    elif len(upper) in (1, 2) and (len(upper) == 1 or upper[0] == "FORWARD"):
        try:
            count = int(words[-1])
        except ValueError:
            raise FeatureNotSupported(
                f"{verb} {' '.join(words)} is not supported (forward-only cursors)"
            ) from None
        if count < 0:
            raise FeatureNotSupported("cursor can only scan forward")
    else:
        raise FeatureNotSupported(
            f"{verb} {' '.join(words)} is not supported (forward-only cursors)"
        )
    return count, ident(name)


def missing(name: str) -> InvalidCursorName:
    return InvalidCursorName(f'cursor "{name}" does not exist')
