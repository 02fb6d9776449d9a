"""kill -9 mid-COPY, torn file tails, a corrupt WAL record: every acknowledged row survives
(up to a corrupt record, as in Postgres) and nothing unacknowledged does."""

from __future__ import annotations

import signal
from pathlib import Path

import psycopg

from tests.conftest import start_server


def test_kill_during_copy_keeps_acknowledged_rows_only(tmp_path):
    srv = start_server(tmp_path / "d")
    c = psycopg.connect(srv.dsn(), autocommit=True)
    try:
        c.execute("CREATE TABLE k (id int PRIMARY KEY, e vector(4))")
        for i in range(50):  # fifty acknowledged single-row transactions
            c.execute("INSERT INTO k VALUES (%s, %s)", (i, f"[{i},0,0,1]"))
        cur = c.cursor()
        with cur.copy("COPY k FROM STDIN") as cp:
            for i in range(1000, 21000):
                cp.write(f"{i}\t[{i},1,1,1]\n")
            # the server has been sent 20,000 rows of an unfinished COPY: crash it now
            srv.stop(signal.SIGKILL)
            try:
                cp.write("99999\t[0,0,0,0]\n")
            except psycopg.Error:
                pass
    except psycopg.Error:
        pass  # the COPY's end fails: the server is gone
    finally:
        try:
            c.close()
        except psycopg.Error:
            pass
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c2:
            assert c2.execute("SELECT count(*), min(id), max(id) FROM k").fetchone() == (50, 0, 49)
            top = c2.execute("SELECT id FROM k ORDER BY e <-> '[1000,1,1,1]' LIMIT 1").fetchone()
            assert top == (49,)
            c2.execute("INSERT INTO k VALUES (50, '[50,0,0,1]')")  # still writable
            assert c2.execute("SELECT count(*) FROM k").fetchone() == (51,)
    finally:
        srv.stop()


def _insert_then_kill(data_dir: Path, table: str, vectors: list[str]) -> None:
    """Create `table` (id, e vector), insert row i = vectors[i], one commit each, kill -9."""
    dim = vectors[0].count(",") + 1
    srv = start_server(data_dir)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, e vector({dim}))")
            for i, v in enumerate(vectors):
                c.execute(f"INSERT INTO {table} VALUES (%s, %s)", (i, v))
    finally:
        srv.stop(signal.SIGKILL)


def test_torn_tails_are_cut_and_nothing_before_them_lost(tmp_path):
    _insert_then_kill(tmp_path / "d", "tt", [f"[{i},1,2,3]" for i in range(20)])
    db = tmp_path / "d" / "postgres"
    (vec_file,) = (db / "vectors").glob("*/seg-*.f32")
    with open(vec_file, "ab") as f:
        f.write(b"\x01\x02\x03\x04\x05\x06")  # half a row: an append torn by the crash
    wal = db / "scalars.duckdb.wal"
    assert wal.exists()  # killed: no checkpoint folded it into the database file
    with open(wal, "ab") as f:
        f.write(b"\x13\x37 torn record" * 4)  # a WAL record that never completed
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM tt").fetchone() == (20,)
            assert c.execute("SELECT e FROM tt WHERE id = 19").fetchone() == ("[19,1,2,3]",)
            c.execute("INSERT INTO tt VALUES (20, '[20,1,2,3]')")
            top = c.execute("SELECT id FROM tt ORDER BY e <-> '[20,1,2,3]' LIMIT 1").fetchone()
            assert top == (20,)
    finally:
        srv.stop()
    assert any("cut a torn tail of 6 bytes" in line for line in srv.log)
    assert vec_file.stat().st_size % 16 == 0  # the torn half row was cut
    assert any("scalars.duckdb.wal" in ln and "cut a tail of 56 bytes" in ln for ln in srv.log)


def test_a_corrupt_wal_record_ends_recovery_there_and_the_server_starts(tmp_path):
    """A record that fails its checksum (a bad sector, say) is where redo stops, as in
    Postgres: every transaction before it comes back, the server logs the cut and serves."""
    _insert_then_kill(tmp_path / "d", "cw", [f"[{i},1]" for i in range(30)])
    wal = tmp_path / "d" / "postgres" / "scalars.duckdb.wal"
    image = bytearray(wal.read_bytes())
    at = len(image)
    for _ in range(10):  # ten commits from the end: among the INSERTs
        at = image.rindex(b"\x64\x00\x64\xff\xff", 0, at)  # a commit (flush) record
    image[at + 5 + 16 + 3] ^= 0x5A  # a byte of the next record's payload
    wal.write_bytes(bytes(image))
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            ids = [r[0] for r in c.execute("SELECT id FROM cw ORDER BY id").fetchall()]
            assert 0 < len(ids) < 30 and ids == list(range(len(ids)))  # a committed prefix
            last = ids[-1]
            assert c.execute("SELECT e FROM cw WHERE id = %s", (last,)).fetchone() == (
                f"[{last},1]",
            )
            c.execute("INSERT INTO cw VALUES (100, '[100,1]')")  # writable again
            assert c.execute("SELECT count(*) FROM cw").fetchone() == (len(ids) + 1,)
    finally:
        srv.stop()
    assert any("scalars.duckdb.wal" in ln and "fails its checksum" in ln for ln in srv.log)
