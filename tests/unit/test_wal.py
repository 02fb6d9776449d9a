"""engine.wal on WAL files DuckDB itself wrote: intact, torn at any byte, corrupt anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from engine import wal

# Each autocommit INSERT is one committed transaction; os._exit skips the checkpoint that a
# clean close would run, so the WAL stays as a crash leaves it.
_WRITER = """
import duckdb, os, sys
c = duckdb.connect(sys.argv[1])
c.execute("CREATE TABLE t (a INT, b VARCHAR)")
for i in range(12):
    c.execute("INSERT INTO t VALUES (?, ?)", [i, "x" * (i * 7)])
c.execute("BEGIN")
c.execute("INSERT INTO t SELECT 100 + range, 'bulk' FROM range(500)")
c.execute("COMMIT")
os._exit(0)
"""


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[bytes, bytes]:
    """The database file and the WAL as the writer's crash left them (the WAL names the
    database it belongs to, so the two go together)."""
    db = tmp_path_factory.mktemp("wal") / "x.duckdb"
    subprocess.run([sys.executable, "-c", _WRITER, str(db)], check=True)
    return db.read_bytes(), Path(str(db) + ".wal").read_bytes()


@pytest.fixture
def wal_image(written) -> bytes:
    return written[1]


@pytest.fixture
def reopen(tmp_path, written):
    def _reopen(image: bytes) -> list[int]:
        """Put the database file back with `image` as its WAL, recover, open, list t's rows."""
        db = tmp_path / "y.duckdb"
        db.write_bytes(written[0])
        Path(str(db) + ".wal").write_bytes(image)
        wal.recover(Path(str(db) + ".wal"))
        con = duckdb.connect(str(db))
        try:
            q = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'"
            if not con.execute(q).fetchone()[0]:
                return []
            return [r[0] for r in con.execute("SELECT a FROM t ORDER BY a").fetchall()]
        finally:
            con.close()

    return _reopen


EVERYTHING = list(range(12)) + list(range(100, 600))


def test_checksum_matches_duckdbs_on_every_record(wal_image):
    found = wal.check(wal_image)
    assert found.problem is None
    assert found.keep == len(wal_image)
    assert found.records >= 14  # create + 12 inserts + the bulk transaction, each with a flush


def test_intact_wal_replays_everything(reopen, wal_image):
    assert reopen(wal_image) == EVERYTHING


def _is_prefix(rows: list[int]) -> bool:
    return rows == EVERYTHING[: len(rows)]


def test_a_wal_torn_at_any_byte_keeps_a_committed_prefix(reopen, wal_image):
    seen = set()
    step = max(1, len(wal_image) // 40)
    for cut in list(range(0, len(wal_image), step)) + [len(wal_image) - 1]:
        rows = reopen(wal_image[:cut])
        assert _is_prefix(rows), cut
        seen.add(len(rows))
    # cuts fell between many different transactions, and never replayed the torn bulk one
    assert len(seen) >= 5
    assert max(seen) == 12


def test_a_corrupt_record_in_the_middle_ends_redo_there(tmp_path, written, reopen, caplog):
    wal_image = written[1]
    middle = 0
    for _ in range(6):  # into the record after the sixth commit
        middle = wal_image.index(b"\x64\x00\x64\xff\xff", middle + 1)
    middle += 5 + 16 + 3
    bad = bytearray(wal_image)
    bad[middle] ^= 0x5A
    # DuckDB alone refuses to open this database at all
    db = tmp_path / "z.duckdb"
    db.write_bytes(written[0])
    Path(str(db) + ".wal").write_bytes(bytes(bad))
    with pytest.raises(duckdb.Error, match="checksum"):
        duckdb.connect(str(db))
    with caplog.at_level("WARNING", logger="vecgres"):
        rows = reopen(bytes(bad))
    assert _is_prefix(rows) and 0 < len(rows) < 12
    assert any("fails its checksum" in r.getMessage() for r in caplog.records)


def test_garbage_after_the_last_commit_is_cut_and_logged(reopen, wal_image, caplog):
    with caplog.at_level("WARNING", logger="vecgres"):
        rows = reopen(wal_image + b"\x13\x37 torn record" * 4)
    assert rows == EVERYTHING
    (msg,) = [r.getMessage() for r in caplog.records if "WAL" in r.getMessage()]
    assert "cut a tail of 56 bytes" in msg


def test_an_empty_or_header_only_wal_is_left_to_duckdb(tmp_path):
    assert wal.check(b"").problem is None
    assert wal.recover(tmp_path / "missing.wal") is None
