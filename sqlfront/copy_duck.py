"""Text-format COPY FROM data read by DuckDB's CSV reader, for the common shape of a vector load.

Owns: `DuckTextReader`, which decides per COPY whether its shape suits DuckDB (Postgres's
default text format: tab delimiter, ``\\N`` for NULL; every column an integer, a text type or
a dense vector/halfvec) and per block whether its bytes do (`accepts`: no carriage return, no
NUL, backslashes only in the escapes ``\\\\ \\t \\n \\r \\b \\f \\v \\N``), and `read`, which
turns the accepted blocks of a batch into column arrays: the lines are split, text fields
de-escaped, integers and the vectors' floats cast, all inside DuckDB, mostly without the GIL
(the Python splitter holds it for ~15 us a corpus row; this path takes ~2 us of it).

`read` answers None whenever it is not certain to agree with the Python path (a line with the
wrong number of fields, an integer outside the plain form `-?[0-9]{1,18}` or its type's range,
a vector literal with a character pgvector refuses, a dimension mismatch, a non-finite
element, a blank line DuckDB would skip, invalid UTF-8): the caller then parses the same bytes
in Python, which reports Postgres's error with its line and column, or agrees.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from sqlfront import pgtypes as pt

# the integer and string columns are those the Python path reads in bulk (the same sets); an
# integer is also held to the Python fast path's form, at most 18 digits (`_select_sql`)
_INT_RANGE = {oid: (-(1 << (b - 1)), (1 << (b - 1)) - 1) for oid, b in pt.INT_BITS.items()}
SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
"""Postgres text format's one-letter escapes (the Python splitter's and this reader's)."""
# what may follow a backslash in a block this reader takes: a backslash, those letters, and N
# (inside a field an unknown escape: the letter itself)
_ESCAPES = frozenset(b"\\N" + "".join(SIMPLE_ESCAPES).encode())
# the escapes, applied after `\\` is parked on a character no accepted block holds
# (U+E000), then restored as one backslash
_PARK = "\ue000"
_PARK_BYTES = _PARK.encode()
_UNESCAPE = [(letter, ord(char)) for letter, char in SIMPLE_ESCAPES.items()]


@dataclass
class DuckColumn:
    """One COPY column as this reader sees it: 'int', 'text' or 'vector', and its type."""

    kind: str
    oid: int
    dim: int = 0


@dataclass
class RawText:
    """Accepted blocks of one batch: whole lines, and how many."""

    parts: list[bytes | memoryview]
    rows: int
    line0: int  # records of the COPY before these (for the Python path's error lines)


@dataclass
class ReadColumns:
    """What `read` gives per column: int64 arrays (masked where NULL), object arrays of str
    (None where NULL), or (float32 [m, dim] matrix of the non-NULL vectors, present mask or
    None when every row has one)."""

    values: list[object]


def columns_for(kinds: list[tuple[int, str, int]]) -> list[DuckColumn] | None:
    """The reader's view of a COPY's columns, given (oid, pg type, dim) per column; None when
    one has a type it does not read."""
    out = []
    for oid, pg_type, dim in kinds:
        if oid in _INT_RANGE:
            out.append(DuckColumn("int", oid))
        elif oid in pt.STRING_OIDS:
            out.append(DuckColumn("text", oid))
        elif pg_type in ("vector", "halfvec") and 0 < dim <= 16000:
            out.append(DuckColumn("vector", oid, dim))
        else:
            return None
    return out


MIN_ROWS = 256
"""Smaller batches go to the Python splitter: a DuckDB read has a fixed cost of ~5 ms."""
_PREFIX = "vecgres-copy-"


def _spool_dir() -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path(tempfile.gettempdir())


def remove_stale_spools() -> int:
    """Delete the spool files of server processes that are gone (a kill -9 leaves its
    COPY's file behind); returns how many."""
    removed = 0
    if not Path("/proc/self").exists():  # no way to tell a live process: leave them
        return 0
    for f in _spool_dir().glob(f"{_PREFIX}*.tsv"):
        pid = f.name[len(_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            f.unlink(missing_ok=True)
            removed += 1
    return removed


class DuckTextReader:
    """One COPY's reader: its columns, a DuckDB connection of its own, and a spool file
    (in /dev/shm when there is one) that each batch's lines are written to for `read_csv`."""

    def __init__(
        self, cols: list[DuckColumn], open_cursor: Callable[[], duckdb.DuckDBPyConnection]
    ) -> None:
        self.cols = cols
        self._open = open_cursor
        self._cur: duckdb.DuckDBPyConnection | None = None
        self._path: str | None = None  # the spool file, made at the first read
        self._sql = ""

    def close(self) -> None:
        if self._cur is not None:
            self._cur.close()
            self._cur = None
        if self._path is not None:
            Path(self._path).unlink(missing_ok=True)
            self._path = None

    # -- the parse stage: is a block for DuckDB?
    @staticmethod
    def accepts(data: bytes, end: int) -> bool:
        """Whether DuckDB reads the whole lines `data[:end]` exactly as Postgres would (a few
        memchr scans of a block still in cache)."""
        if data.find(b"\r", 0, end) >= 0 or data.find(b"\x00", 0, end) >= 0:
            return False
        if data.find(b"\xee", 0, end) >= 0 and data.find(_PARK_BYTES, 0, end) >= 0:
            return False
        i = data.find(b"\\", 0, end)
        while i >= 0:
            if i + 1 >= end or data[i + 1] not in _ESCAPES:
                return False  # octal, hex, `\.`, an escaped newline...: the Python path
            i = data.find(b"\\", i + 2, end)
        return True

    # -- the vectors stage: the DuckDB read
    def read(self, raw: RawText) -> ReadColumns | None:
        """The batch's columns, or None: the Python splitter must read these lines."""
        if raw.rows < MIN_ROWS:
            return None
        try:
            self._spool(raw)
        except OSError:  # no room in /dev/shm, say: the Python splitter needs none
            return None
        if self._cur is None:
            self._cur = self._open()
        try:
            got = self._cur.execute(self._sql).fetchnumpy()
        except duckdb.Error:
            return None
        n = raw.rows
        bad = got["__bad"]
        if len(bad) != n or bool(np.asarray(bad).any()):
            return None
        values: list[object] = []
        for j, c in enumerate(self.cols):
            v = got[f"v{j}"]
            if c.kind == "int":
                masked = isinstance(v, np.ma.MaskedArray) and bool(np.ma.getmaskarray(v).any())
                values.append(v if masked else np.asarray(v, dtype=np.int64))
            elif c.kind == "text":
                values.append(_objects(v))
            else:
                vecs = _matrix(v, c.dim)
                if vecs is None:
                    return None
                values.append(vecs)
        return ReadColumns(values)

    def _spool(self, raw: RawText) -> None:
        """Write the batch's lines to the spool file (made at the first batch)."""
        if self._path is None:
            prefix = f"{_PREFIX}{os.getpid()}-"
            fd, self._path = tempfile.mkstemp(prefix=prefix, suffix=".tsv", dir=_spool_dir())
            os.close(fd)
            self._sql = _select_sql(self.cols, self._path)
        with open(self._path, "wb") as f:
            for part in raw.parts:
                f.write(part)


def _objects(v: np.ndarray) -> np.ndarray:
    """An object array of str with None for NULL (what the loader registers)."""
    if isinstance(v, np.ma.MaskedArray):
        out = np.asarray(v.data, dtype=object).copy()
        out[np.ma.getmaskarray(v)] = None
        return out
    return np.asarray(v, dtype=object)


def _matrix(v: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(float32 [m, dim] of the non-NULL vectors, present mask or None), or None when one
    has another dimension or a non-finite element."""
    present = None
    lists = v
    if isinstance(v, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(v)
        if mask.any():
            present = ~mask
            lists = v.data[present]
        else:
            lists = v.data
    if len(lists) == 0:
        return np.empty((0, dim), np.float32), present
    mat = float_matrix(lists, dim)
    return None if mat is None else (mat, present)


def float_matrix(lists: np.ndarray, dim: int) -> np.ndarray | None:
    """DuckDB's FLOAT[] values (an object array of float32 arrays) as one [m, dim] matrix, or
    None when one has another dimension or a non-finite element."""
    m = len(lists)
    if (np.fromiter(map(len, lists), dtype=np.int64, count=m) != dim).any():
        return None
    mat = np.concatenate(list(lists)).reshape(m, dim)
    with np.errstate(over="ignore", invalid="ignore"):  # a sum may overflow: then look
        finite = np.isfinite(mat @ np.ones(dim, mat.dtype)).all() or np.isfinite(mat).all()
    return mat if finite else None


def _unescape(c: str) -> str:
    e = f"replace({c}, '\\\\', '{_PARK}')"
    for letter, code in _UNESCAPE:
        e = f"replace({e}, '\\{letter}', chr({code}))"
    e = f"replace(replace({e}, '\\N', 'N'), '{_PARK}', '\\')"
    return f"CASE WHEN contains({c}, '\\') THEN {e} ELSE {c} END"


def _select_sql(cols: list[DuckColumn], path: str) -> str:
    """One SELECT over the spooled lines: a value per column and `__bad`, true on any row the
    Python path must judge."""
    sel: list[str] = []
    bad: list[str] = []
    for j, c in enumerate(cols):
        f = f"c{j}"
        if c.kind == "int":
            lo, hi = _INT_RANGE[c.oid]
            sel.append(f"TRY_CAST({f} AS BIGINT) AS v{j}")
            bad.append(
                f"({f} IS NOT NULL AND (NOT regexp_full_match({f}, '-?[0-9]{{1,18}}') "
                f"OR TRY_CAST({f} AS BIGINT) NOT BETWEEN {lo} AND {hi}))"
            )
        elif c.kind == "text":
            sel.append(f"{_unescape(f)} AS v{j}")
        else:
            # pgvector's literal: `[..]`; the cast refuses junk, but takes `1_0` and `+-1`
            sel.append(f"CAST(string_split({f}[2:-2], ',') AS FLOAT[]) AS v{j}")
            bad.append(
                f"({f}[1] <> '[' OR {f}[-1] <> ']' OR contains({f}, '_') OR contains({f}, '+-'))"
            )
    columns = ", ".join(f"'c{j}': 'VARCHAR'" for j in range(len(cols)))
    bad_sql = " OR ".join(f"coalesce({b}, false)" for b in bad) or "false"
    spooled = path.replace("'", "''")
    return (
        f"SELECT {', '.join(sel)}, {bad_sql} AS __bad FROM read_csv('{spooled}', "
        "delim = '\t', quote = '', escape = '', header = false, auto_detect = false, "
        f"columns = {{{columns}}}, strict_mode = true, null_padding = false, "
        "nullstr = '\\N', new_line = '\\n', max_line_size = 1048576, buffer_size = 4194304)"
    )
