"""The write-ahead log's recovery check: find a torn or corrupt tail and cut it, with a log line.

Owns: reading the framing of DuckDB's WAL file (`scalars.duckdb.wal`) before DuckDB opens it,
verifying each record's checksum, and truncating the file after the last transaction whose
every record is intact.

Why this exists: a database's WAL is DuckDB's, plus the fsync'd, append-only vector files
(a committed row's vector is on disk before the commit record that points at it).  DuckDB
checksums its records, but on replay it silently drops a torn last record and refuses to open
at all when a record in the middle fails its checksum.  Postgres's rule is the one we keep:
redo ends at the first record that is incomplete or fails its checksum, the server says so in
its log, and everything before it is recovered.

The framing (DuckDB storage version 2.x): a header object (the WAL version record, not
checksummed), then records of `u64 size | u64 checksum | size bytes`, all little-endian.  A
record whose payload is the serialized `WAL_FLUSH` type ends a committed transaction.  The
checksum is DuckDB's (`src/common/checksum.cpp`): 5381 xor-folded with each 8-byte word times
0xbf58476d1ce4e5b9, and a murmur-style hash of the last 0-7 bytes.

Must not: parse the records' contents beyond recognising a flush, or open DuckDB.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger("vecgres")

_MASK = (1 << 64) - 1
_WORD = np.uint64(0xBF58476D1CE4E5B9)
_M = 0xC6A4A7935BD1E995
_SEED = 0xE17A1465
# field 100 (the record type) = 100 (WAL_FLUSH), end of object
_FLUSH_PAYLOAD = b"\x64\x00\x64\xff\xff"
# the longest header we look past to find the first record
_MAX_HEADER = 4096


def _remainder(tail: bytes) -> int:
    n = len(tail)
    h = (_SEED ^ (n * _M)) & _MASK
    for i in range(n - 1, -1, -1):
        h ^= tail[i] << (8 * i)
    if n:
        h = (h * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    h ^= h >> 47
    return h


def checksum(data: bytes) -> int:
    """DuckDB's `Checksum(buffer, size)`."""
    words = len(data) // 8
    result = 5381
    if words:
        w = np.frombuffer(data, dtype="<u8", count=words)
        with np.errstate(over="ignore"):
            result ^= int(np.bitwise_xor.reduce(w * _WORD))
    if len(data) % 8:
        result ^= _remainder(data[words * 8 :])
    return result


@dataclass(frozen=True)
class WalCheck:
    """What the check found: where the intact log ends, and why it stopped there."""

    size: int  # bytes in the file
    keep: int  # bytes kept: the end of the last committed transaction's flush record
    records: int  # records before `keep` (every one intact)
    problem: str | None  # None when the whole file is intact


def _records_start(data: bytes) -> int | None:
    """Offset of the first record: the header object has no length prefix, so find the first
    offset past which a whole record's checksum holds."""
    for off in range(1, min(len(data) - 16, _MAX_HEADER) + 1):
        if data[off - 2 : off] != b"\xff\xff":  # a header object ends with its end marker
            continue
        size = int.from_bytes(data[off : off + 8], "little")
        if size == 0 or off + 16 + size > len(data):
            continue
        stored = int.from_bytes(data[off + 8 : off + 16], "little")
        if checksum(data[off + 16 : off + 16 + size]) == stored:
            return off
    return None


def check(data: bytes) -> WalCheck:
    """Walk the records of a WAL image; never raises on bad input."""
    start = _records_start(data)
    if start is None:
        # no intact record at all: a header alone (nothing committed) or garbage after it
        return WalCheck(len(data), 0, 0, "no intact record" if len(data) > 0 else None)
    off, keep, records, kept = start, start, 0, 0
    problem: str | None = None
    while off < len(data):
        if off + 16 > len(data):
            problem = f"record header at byte {off} is torn ({len(data) - off} of 16 bytes)"
            break
        size = int.from_bytes(data[off : off + 8], "little")
        stored = int.from_bytes(data[off + 8 : off + 16], "little")
        if off + 16 + size > len(data):
            problem = f"record at byte {off} is torn ({len(data) - off - 16} of {size} bytes)"
            break
        payload = data[off + 16 : off + 16 + size]
        if checksum(payload) != stored:
            problem = f"record at byte {off} fails its checksum"
            break
        off += 16 + size
        records += 1
        if payload == _FLUSH_PAYLOAD:
            keep, kept = off, records
    if problem is None and keep != len(data):
        problem = f"transaction after byte {keep} has no commit record"
    return WalCheck(len(data), keep, kept, problem)


def recover(path: Path) -> WalCheck | None:
    """Cut a torn or corrupt tail off the WAL at `path` (if there is one), logging what was
    cut.  Returns what the check found, or None when there is no WAL file."""
    if not path.exists():
        return None
    data = path.read_bytes()
    found = check(data)
    if found.problem is None:
        return found
    if found.keep == 0:
        # nothing intact to keep: DuckDB's own replay copes with a header-only or empty file,
        # and one that is all garbage holds no committed transaction
        log.warning("WAL %s: %s; removed the file (%d bytes)", path, found.problem, found.size)
        path.unlink()
    else:
        log.warning(
            "WAL %s: %s; cut a tail of %d bytes, recovering %d records up to byte %d",
            path,
            found.problem,
            found.size - found.keep,
            found.records,
            found.keep,
        )
        with open(path, "r+b") as f:
            f.truncate(found.keep)
            f.flush()
            os.fsync(f.fileno())
    return found
