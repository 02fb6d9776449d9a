"""Segments: sealing at `segment_rows`, merge and vacuum (VACUUM and the background optimizer),
quantized copies and HNSW graphs per sealed segment, restart and kill -9 around them."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from tests.conftest import start_server

DIM = 8


def vec(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in v) + "]"


def data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, DIM)).astype(np.float32)


def store_dir(data_dir: Path) -> Path:
    (d,) = [p for p in (data_dir / "postgres" / "vectors").iterdir() if p.is_dir()]
    return d


def manifest(data_dir: Path) -> list[dict]:
    return json.loads((store_dir(data_dir) / "manifest.json").read_text())["segments"]


def load(c: psycopg.Connection, table: str, vecs: np.ndarray, start: int = 0) -> None:
    with c.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (id, tag, e) VALUES (%s, %s, %s)",
            [(start + i, (start + i) % 5, vec(v)) for i, v in enumerate(vecs)],
        )


def exact_ids(vecs: dict[int, np.ndarray], q: np.ndarray, k: int) -> list[int]:
    ids = np.array(sorted(vecs))
    m = np.stack([vecs[i] for i in ids])
    d = np.sqrt(((m - q) ** 2).sum(1))
    order = np.lexsort((ids, d))
    return ids[order][:k].tolist()


def knn(c: psycopg.Connection, table: str, q: np.ndarray, k: int, where: str = "") -> list[int]:
    sql = f"SELECT id FROM {table} {where} ORDER BY e <-> %s LIMIT {k}"
    return [r[0] for r in c.execute(sql, (vec(q),)).fetchall()]


def explain(c: psycopg.Connection, sql: str, q: np.ndarray) -> str:
    """The EXPLAIN [ANALYZE] output of `sql` with query vector `q`, as one text."""
    return "\n".join(r[0] for r in c.execute(sql, (vec(q),)))


def vacuum(c: psycopg.Connection, table: str) -> list[str]:
    notes: list[str] = []
    c.add_notice_handler(lambda d: notes.append(d.message_primary or ""))
    c.execute(f"VACUUM VERBOSE {table}")
    return notes


@pytest.fixture
def srv(tmp_path):
    s = start_server(tmp_path / "d")
    yield s
    s.stop()


def test_seal_merge_vacuum_keep_every_live_row(srv, tmp_path):
    vecs = data(450)
    rows = {i: v for i, v in enumerate(vecs)}
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE s (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (segment_rows = 100, autovacuum_enabled = off)"
        )
        load(c, "s", vecs)
        segs = manifest(tmp_path / "d")
        assert [s["sealed"] for s in segs] == [True] * 4 + [False]
        assert [s["count"] for s in segs[:4]] == [100] * 4
        for qi in range(5):
            q = vecs[qi * 7] + 0.01
            assert knn(c, "s", q, 10) == exact_ids(rows, q, 10)

        # delete 70% of the first three segments: vacuum rewrites them as one compact segment
        c.execute("DELETE FROM s WHERE id < 300 AND id % 10 < 7")
        for i in [i for i in range(300) if i % 10 < 7]:
            del rows[i]
        notes = vacuum(c, "s")
        assert any("rewrote segments" in n and "dead removed" in n for n in notes), notes
        segs = manifest(tmp_path / "d")
        compact = [s for s in segs if s["compact"]]
        assert compact and sum(s["count"] for s in compact) == 90
        assert len(segs) < 5
        files = {p.name for p in store_dir(tmp_path / "d").glob("seg-*.f32")}
        assert files == {f"seg-{s['id']}.f32" for s in segs}  # the inputs' files are gone
        for qi in range(8):
            q = data(1, seed=100 + qi)[0]
            assert knn(c, "s", q, 10) == exact_ids(rows, q, 10)
            want = exact_ids({i: v for i, v in rows.items() if i % 5 == 2}, q, 7)
            assert knn(c, "s", q, 7, "WHERE tag = 2") == want
        got = c.execute("SELECT e FROM s WHERE id = 297").fetchone()[0]
        assert np.allclose(np.array(json.loads(got)), rows[297], atol=1e-5)
    srv.stop()
    again = start_server(tmp_path / "d")
    try:
        with psycopg.connect(again.dsn(), autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM s").fetchone() == (len(rows),)
            for qi in range(5):
                q = data(1, seed=200 + qi)[0]
                assert knn(c, "s", q, 10) == exact_ids(rows, q, 10)
            load(c, "s", data(30, seed=9), start=1000)
            assert c.execute("SELECT count(*) FROM s").fetchone() == (len(rows) + 30,)
    finally:
        again.stop()


def test_small_segments_merge_and_updates_keep_their_vectors(srv, tmp_path):
    vecs = data(400, seed=3)
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE m (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (segment_rows = 100, autovacuum_enabled = off)"
        )
        load(c, "m", vecs)
        # rows of segments 0..2 move out (updated vectors go to the growing segment)
        with c.cursor() as cur:
            cur.executemany(
                "UPDATE m SET e = %s WHERE id = %s",
                [(vec(vecs[i]), i) for i in range(300) if i % 3],
            )
        c.execute("UPDATE m SET tag = tag + 10 WHERE id < 300")  # scalar-only: same slots
        notes = vacuum(c, "m")
        assert any("rewrote segments" in n for n in notes), notes
        rows = {i: v for i, v in enumerate(vecs)}
        for qi in range(6):
            q = data(1, seed=50 + qi)[0]
            assert knn(c, "m", q, 12) == exact_ids(rows, q, 12)
        assert c.execute("SELECT count(*) FROM m WHERE tag >= 10").fetchone() == (300,)


def test_vacuum_waits_for_no_open_write_and_never_drops_uncommitted_rows(srv, tmp_path):
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE u (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (segment_rows = 50, autovacuum_enabled = off)"
        )
        load(c, "u", data(120, seed=4))
        c.execute("DELETE FROM u WHERE id < 100")
        with psycopg.connect(srv.dsn()) as t:  # an open write transaction
            load(t, "u", data(80, seed=5), start=500)  # fills and seals segments, uncommitted
            notes = vacuum(c, "u")
            assert not any("rewrote" in n for n in notes)  # no quiescent moment: nothing moved
            t.commit()
        assert c.execute("SELECT count(*) FROM u").fetchone() == (100,)
        notes = vacuum(c, "u")
        assert any("rewrote" in n for n in notes)
        assert c.execute("SELECT count(*) FROM u WHERE id >= 500").fetchone() == (80,)
        rows = {100 + i: v for i, v in enumerate(data(120, seed=4)[100:])}
        rows.update({500 + i: v for i, v in enumerate(data(80, seed=5))})
        q = data(1, seed=6)[0]
        assert knn(c, "u", q, 20) == exact_ids(rows, q, 20)


def test_quantized_copies_and_graphs_per_sealed_segment(srv, tmp_path):
    vecs = data(700, seed=7)
    rows = {i: v for i, v in enumerate(vecs)}
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE h (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (segment_rows = 200, quantization = 'int8', autovacuum_enabled = off)"
        )
        load(c, "h", vecs[:500])
        c.execute("CREATE INDEX h_e ON h USING hnsw (e vector_l2_ops)")
        load(c, "h", vecs[500:], start=500)  # seals one more segment after the build
        notes = vacuum(c, "h")
        assert any("indexed segment" in n for n in notes), notes
        sd = store_dir(tmp_path / "d")
        sealed = [s for s in manifest(tmp_path / "d") if s["sealed"]]
        assert len(sealed) == 3
        for s in sealed:
            assert (sd / f"seg-{s['id']}.int8").exists()
            idx = tmp_path / "d" / "postgres" / "indexes" / "h_e"
            assert (idx / f"seg-{s['id']}.hnsw").exists()
        c.execute("SET hnsw.ef_search = 100")
        c.execute("SET vecgres.knn_strategy = 'hnsw'")
        plan = explain(c, "EXPLAIN ANALYZE SELECT id FROM h ORDER BY e <-> %s LIMIT 10", vecs[3])
        assert "segments=3" in plan and "segments: 4" in plan, plan
        hits = 0
        for qi in range(20):
            q = data(1, seed=300 + qi)[0]
            hits += len(set(knn(c, "h", q, 10)) & set(exact_ids(rows, q, 10)))
        assert hits / 200 >= 0.95
        # merge after deletes: the merged segment gets its own graph, the old ones go
        c.execute("DELETE FROM h WHERE id < 400 AND id % 4 <> 0")
        for i in [i for i in range(400) if i % 4]:
            del rows[i]
        notes = vacuum(c, "h")
        assert any("rewrote" in n for n in notes), notes
        segs = manifest(tmp_path / "d")
        idx = tmp_path / "d" / "postgres" / "indexes" / "h_e"
        graphs = {p.stem for p in idx.glob("seg-*.hnsw")}
        assert {f"seg-{s['id']}" for s in segs if s["sealed"]} <= graphs
        assert graphs <= {f"seg-{s['id']}" for s in segs}
        for qi in range(10):
            q = data(1, seed=400 + qi)[0]
            got = knn(c, "h", q, 10)
            assert len(got) == 10 and set(got) <= set(rows)
            assert len(set(got) & set(exact_ids(rows, q, 10))) >= 8


def test_background_optimizer_indexes_a_sealed_segment(srv, tmp_path):
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE b (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (segment_rows = 100, quantization = 'binary')"
        )
        load(c, "b", data(250, seed=8))
    sd = store_dir(tmp_path / "d")
    # the optimizer thread lives in the server: poll the data dir for its output (bounded)
    deadline = time.monotonic() + 90
    while len(list(sd.glob("seg-*.binary"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in sd.glob("seg-*.binary")) == ["seg-0.binary", "seg-1.binary"]


def test_kill_9_during_seals_and_merges_loses_no_acknowledged_row(tmp_path):
    srv = start_server(tmp_path / "d")
    acked: dict[int, np.ndarray] = {}
    deleted: set[int] = set()
    vecs = data(3000, seed=11)
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute(
                "CREATE TABLE k (id int PRIMARY KEY, tag int, e vector(8)) "
                "WITH (segment_rows = 64, quantization = 'int8')"
            )
            c.execute("CREATE INDEX ON k USING hnsw (e vector_l2_ops)")
        stop = threading.Event()

        def vacuums() -> None:
            try:
                with psycopg.connect(srv.dsn(), autocommit=True) as v:
                    while not stop.is_set():
                        v.execute("VACUUM k")
            except psycopg.Error:
                pass  # the server was killed under it

        vt = threading.Thread(target=vacuums)
        vt.start()
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            for b in range(0, 3000, 50):
                load(c, "k", vecs[b : b + 50], start=b)
                acked.update({b + i: vecs[b + i] for i in range(50)})
                c.execute("DELETE FROM k WHERE id >= %s AND id < %s AND id %% 3 <> 0", (b, b + 50))
                deleted.update(i for i in range(b, b + 50) if i % 3)
                if b == 2000:
                    break
        srv.stop(signal.SIGKILL)  # with a VACUUM (seal, merge or graph build) likely running
        stop.set()
        vt.join(30)
    finally:
        srv.stop(signal.SIGKILL)
    rows = {i: v for i, v in acked.items() if i not in deleted}
    again = start_server(tmp_path / "d")
    try:
        with psycopg.connect(again.dsn(), autocommit=True) as c:
            # merges ran before the kill (their compact output is listed), and all rows survived
            assert any(s["compact"] for s in manifest(tmp_path / "d"))
            got = dict(c.execute("SELECT id, e FROM k").fetchall() or [])
            assert set(got) == set(rows)
            for i in list(rows)[::97]:
                assert np.allclose(np.array(json.loads(got[i])), rows[i], atol=1e-5)
            c.execute("VACUUM k")
            q = data(1, seed=12)[0]
            c.execute("SET vecgres.knn_strategy = 'exact'")
            assert knn(c, "k", q, 10) == exact_ids(rows, q, 10)
    finally:
        again.stop()


def test_quantized_copy_of_the_growing_segment_follows_its_appends(srv, tmp_path):
    """The growing segment's copy is built at the first query, extended by later ones, and
    written out when the segment seals."""
    vecs = data(600, seed=21)
    rows: dict[int, np.ndarray] = {}
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute(
            "CREATE TABLE g (id int PRIMARY KEY, tag int, e vector(8)) "
            "WITH (quantization = 'int8', oversampling = 3, segment_rows = 200, "
            "autovacuum_enabled = off)"
        )
        for b in range(0, 600, 150):
            load(c, "g", vecs[b : b + 150], start=b)
            rows.update({b + i: vecs[b + i] for i in range(150)})
            hits = 0
            for qi in range(10):
                q = data(1, seed=500 + b + qi)[0]
                hits += len(set(knn(c, "g", q, 10)) & set(exact_ids(rows, q, 10)))
            assert hits >= 95, (b, hits)  # new rows ranked on their own codes
    # copies built while a segment grew are written out once it is sealed (no VACUUM ran)
    sealed = [s for s in manifest(tmp_path / "d") if s["sealed"]]
    assert len(sealed) == 3
    assert all((store_dir(tmp_path / "d") / f"seg-{s['id']}.int8").exists() for s in sealed)


def test_graph_files_of_no_current_segment_are_removed_at_open(tmp_path):
    """A merge that crashed between writing its output's graph and the manifest swap, and a
    DROP INDEX cut short, leave files no segment or index owns: the next start removes them
    and keeps every graph that is in use."""
    vecs = data(450, seed=11)
    srv = start_server(tmp_path / "d")
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute(
                "CREATE TABLE og (id int PRIMARY KEY, tag int, e vector(8)) "
                "WITH (segment_rows = 200, autovacuum_enabled = off)"
            )
            load(c, "og", vecs)
            c.execute("CREATE INDEX og_e ON og USING hnsw (e vector_l2_ops)")
            vacuum(c, "og")
    finally:
        srv.stop(signal.SIGKILL)
    idx = tmp_path / "d" / "postgres" / "indexes" / "og_e"
    in_use = sorted(p.name for p in idx.glob("seg-*"))
    assert any(n.endswith(".hnsw") for n in in_use)
    # what a crashed merge (segment 99 never reached the manifest) and a torn write leave
    (idx / "seg-99.hnsw").write_bytes(b"graph of a merge output never swapped in")
    (idx / "seg-99.json").write_text('{"covered": 3}')
    (idx / "seg-0.hnsw.tmp").write_bytes(b"half a graph")
    orphan = tmp_path / "d" / "postgres" / "indexes" / "dropped_idx"
    orphan.mkdir()
    (orphan / "seg-0.hnsw").write_bytes(b"x")
    srv = start_server(tmp_path / "d")
    try:
        assert sorted(p.name for p in idx.glob("seg-*")) == in_use
        assert not orphan.exists()
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute("SET vecgres.knn_strategy = 'hnsw'")
            got = knn(c, "og", vecs[5], 5)
            assert got[0] == 5 and len(got) == 5
            plan = explain(c, "EXPLAIN SELECT id FROM og ORDER BY e <-> %s LIMIT 5", vecs[5])
            assert "strategy=hnsw" in plan
    finally:
        srv.stop()
    assert any("seg-99.hnsw" in line and "removed" in line for line in srv.log)


def test_dropped_tables_and_indexes_release_their_files(tmp_path):
    """A committed DROP TABLE / DROP INDEX frees the vectors and graphs at the optimizer's
    next quiescent moment (VACUUM runs it now); a rolled-back drop keeps everything."""
    vecs = data(300, seed=12)
    srv = start_server(tmp_path / "d")
    db = tmp_path / "d" / "postgres"
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            for t in ("keep", "gone"):
                c.execute(
                    f"CREATE TABLE {t} (id int PRIMARY KEY, tag int, e vector(8)) "
                    "WITH (autovacuum_enabled = off)"
                )
                load(c, t, vecs)
                c.execute(f"CREATE INDEX {t}_e ON {t} USING hnsw (e vector_l2_ops)")
            stores = {p.name for p in (db / "vectors").iterdir()}
            assert len(stores) == 2 and {"keep_e", "gone_e"} <= {
                p.name for p in (db / "indexes").iterdir()
            }
            # rolled back: nothing changes, the index still answers
            c.execute("BEGIN")
            c.execute("DROP INDEX keep_e")
            c.execute("DROP TABLE gone")
            c.execute("ROLLBACK")
            vacuum(c, "")
            assert {p.name for p in (db / "vectors").iterdir()} == stores
            c.execute("SET vecgres.knn_strategy = 'hnsw'")
            plan = explain(c, "EXPLAIN SELECT id FROM keep ORDER BY e <-> %s LIMIT 3", vecs[4])
            assert "strategy=hnsw " in plan and "Index: keep_e" in plan, plan
            assert knn(c, "gone", vecs[9], 1) == [9]
            # committed: the next pass removes the files, the other table is untouched
            c.execute("DROP TABLE gone")
            c.execute("DROP INDEX keep_e")
            notes = vacuum(c, "")
            assert any("removed vector store" in n for n in notes), notes
            assert len(list((db / "vectors").iterdir())) == 1
            assert not (db / "indexes" / "gone_e").exists()
            assert not (db / "indexes" / "keep_e").exists()
            assert knn(c, "keep", vecs[7], 1) == [7]
            c.execute("CREATE INDEX keep_e ON keep USING hnsw (e vector_l2_ops)")  # same name
            assert knn(c, "keep", vecs[8], 1) == [8]
    finally:
        srv.stop()
