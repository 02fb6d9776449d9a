"""In-process DB-API 2.0 connection: the same SQL as the server, without a socket.

Owns: `connect(path)` (a data directory, or ":memory:"), `Connection` and `Cursor` with
PEP 249's surface (execute / executemany / fetch* / description / rowcount, commit /
rollback, autocommit off by default like psycopg), parameters in psycopg's `%s` style or
Postgres's `$n`.  Vectors come back as float32 numpy arrays.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.database import Cluster
from engine.errors import PgError
from sqlfront.session import Result, Session

apilevel = "2.0"
threadsafety = 1
paramstyle = "format"

Error = PgError


def connect(path: str | Path = ":memory:", dbname: str = "postgres", autocommit: bool = False):
    cluster = Cluster(None if str(path) == ":memory:" else Path(path))
    return Connection(cluster, cluster.database(dbname, create=True), autocommit, owns=True)


class Connection:
    def __init__(self, cluster: Cluster, db, autocommit: bool = False, owns: bool = False):
        self._cluster = cluster
        self._owns = owns
        self.session = Session(db, cluster=cluster)
        self.autocommit = autocommit

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        cur = self.cursor()
        cur.execute(sql, params)
        return cur

    def commit(self) -> None:
        if self.session.in_block:
            self.session.execute("COMMIT")

    def rollback(self) -> None:
        if self.session.in_block:
            self.session.execute("ROLLBACK")

    def close(self) -> None:
        self.session.close()
        if self._owns:
            self._cluster.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        self.close()


@functools.lru_cache(maxsize=1024)
def _to_dollar(sql: str) -> str:
    """psycopg-style `%s` placeholders → `$1..$n` (`%%` → `%`), outside quoted text
    (memoised: a character loop costs microseconds on every execute of the same SQL)."""
    out = []
    n = 0
    i = 0
    quote: str | None = None
    while i < len(sql):
        c = sql[i]
        if quote:
            out.append(c)
            if c == quote:
                quote = None
        elif c in ("'", '"'):
            quote = c
            out.append(c)
        elif c == "%" and sql.startswith("%s", i):
            n += 1
            out.append(f"${n}")
            i += 2
            continue
        elif c == "%" and sql.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Cursor:
    arraysize = 1

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self.description: list[tuple] | None = None
        self.rowcount = -1
        self._rows: list[tuple] = []
        self._pos = 0
        self.statusmessage: str | None = None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        s = self.connection.session
        if not self.connection.autocommit and not s.in_block:
            s.execute("BEGIN")
        if params is None:
            results = s.execute(sql)
            res = results[-1] if results else Result(tag="")
        else:
            prep = s.prepare(_to_dollar(sql))
            res = s.execute_prepared(prep, list(params))
        self._set(res)
        return self

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> Cursor:
        s = self.connection.session
        if not self.connection.autocommit and not s.in_block:
            s.execute("BEGIN")
        prep = s.prepare(_to_dollar(sql))
        total = 0
        for params in seq:
            res = s.execute_prepared(prep, list(params))
            parts = res.tag.split()
            total += int(parts[-1]) if parts and parts[-1].isdigit() else 0
        self.description = None
        self.rowcount = total
        self._rows = []
        return self

    def _set(self, res: Result) -> None:
        self.statusmessage = res.tag
        if res.columns is not None:
            self.description = [
                (c.name, c.type_oid, None, None, None, None, None) for c in res.columns
            ]
            self._rows = list(res.rows)
            self.rowcount = len(self._rows)
        else:
            self.description = None
            self._rows = []
            parts = res.tag.split()
            self.rowcount = int(parts[-1]) if parts and parts[-1].isdigit() else -1
        self._pos = 0

    def fetchone(self) -> tuple | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        size = size or self.arraysize
        rows = self._rows[self._pos : self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return rows

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._rows = []
