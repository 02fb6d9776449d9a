"""SQL-level cursors: DECLARE ... CURSOR FOR, FETCH, MOVE, CLOSE (psycopg2's named cursors).

Owns: `Cursors`, a session's open cursors.  DECLARE runs its query at once and keeps the rows
(Postgres computes them lazily; the answers are the same for a read-only query); FETCH and MOVE
walk forward through them; a cursor ends with CLOSE, or with its transaction unless it was
declared WITH HOLD.  Only forward movement is supported (FETCH BACKWARD / PRIOR / ABSOLUTE:
0A000).  Errors carry Postgres's SQLSTATEs: DECLARE outside a transaction block without HOLD
25P01, an unknown cursor 34000, a duplicate name 42P03.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import FeatureNotSupported, InvalidCursorName, PgError, SyntaxError_

if TYPE_CHECKING:
    from sqlfront.session import Result

_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_DECLARE = re.compile(
    rf"^({_NAME})\s+((?:(?:BINARY|ASENSITIVE|INSENSITIVE|NO\s+SCROLL|SCROLL)\s+)*)CURSOR\s+"
    r"(?:(WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(.*)$",
    re.I | re.S,
)
_FETCH = re.compile(
    rf"^(?:(NEXT|FORWARD\s+ALL|FORWARD\s+[+]?\d+|FORWARD|ALL|[+]?\d+)\s+)?(?:(?:FROM|IN)\s+)?"
    rf"({_NAME})\s*;?$",
    re.I | re.S,
)


def _ident(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') else text.lower()


@dataclass
class _Cursor:
    result: Result
    hold: bool
    pos: int = 0


class Cursors:
    """The open cursors of one session."""

    def __init__(self) -> None:
        self._open: dict[str, _Cursor] = {}

    def command(
        self, head: str, rest: str, in_block: bool, run_query: Callable[[str], Result]
    ) -> Result:
        """Run DECLARE / FETCH / MOVE / CLOSE (`head`) with the statement's text after it."""
        from sqlfront.session import Result

        if head == "DECLARE":
            m = _DECLARE.match(rest.strip())
            if m is None:
                raise SyntaxError_('syntax error at or near "DECLARE"')
            name, hold = _ident(m.group(1)), (m.group(3) or "").upper() == "WITH"
            if not in_block and not hold:
                raise PgError(
                    "DECLARE CURSOR can only be used in transaction blocks", sqlstate="25P01"
                )
            if name in self._open:
                raise PgError(f'cursor "{name}" already exists', sqlstate="42P03")
            result = run_query(m.group(4))
            if result.columns is None:
                raise PgError("DECLARE CURSOR must be a SELECT query", sqlstate="42601")
            self._open[name] = _Cursor(result, hold)
            return Result(tag="DECLARE CURSOR")
        if head == "CLOSE":
            target = rest.strip().rstrip(";").strip()
            if target.upper() == "ALL":
                self._open.clear()
            elif self._open.pop(_ident(target), None) is None:
                raise InvalidCursorName(f'cursor "{_ident(target)}" does not exist')
            return Result(tag="CLOSE CURSOR")
        m = _FETCH.match(rest.strip())
        if m is None:
            if re.match(r"^(BACKWARD|PRIOR|FIRST|LAST|ABSOLUTE|RELATIVE)\b", rest.strip(), re.I):
                raise FeatureNotSupported(f"{head} supports forward movement only")
            raise SyntaxError_(f'syntax error at or near "{head}"')
        name = _ident(m.group(2))
        cur = self._open.get(name)
        if cur is None:
            raise InvalidCursorName(f'cursor "{name}" does not exist')
        how = " ".join((m.group(1) or "NEXT").upper().split())
        rows = cur.result.rows
        if how in ("ALL", "FORWARD ALL"):
            count = len(rows)
        elif how in ("NEXT", "FORWARD"):
            count = 1
        else:
            count = int(how.split()[-1].lstrip("+"))
        taken = rows[cur.pos : cur.pos + count]
        cur.pos += len(taken)
        if head == "MOVE":
            return Result(tag=f"MOVE {len(taken)}")
        return Result(tag=f"FETCH {len(taken)}", columns=cur.result.columns, rows=list(taken))

    def end_transaction(self) -> None:
        """A transaction ended: its cursors without HOLD close."""
        self._open = {k: c for k, c in self._open.items() if c.hold}
