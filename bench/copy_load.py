"""COPY load throughput: the 100k corpus into a vecgres server subprocess, through psycopg.

Loads `id int PRIMARY KEY, text, source, category, length int, tenant_id int,
embedding vector(384)` (the corpus with its metadata) with COPY FROM STDIN, end to end
(the client encodes and sends, the server parses, appends vectors, inserts rows, fsyncs,
commits), in three ways:

  binary/write_row  psycopg `copy.set_types(...)` + `write_row(row)` per row (the client
                    encodes every row: pgvector's binary dumper for the vector)
  binary/bytes      the same binary COPY data, pre-encoded, sent with `copy.write()`
  text/bytes        Postgres text format (vectors as ``[0.0123,...]``, 9 significant digits,
                    which round-trip float4), pre-encoded, sent with `copy.write()` -- what
                    psql's \\copy from a file does

and, as the ceiling, the time numpy takes to write the same bytes to a file in the server's
data dir and fsync it.  Prints rows/s per run and the ratio to the ceiling; checks that every
load has all rows and that the text load stored the same vectors as the binary one.

    python -m bench.copy_load [--rows 100000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from bench.common import load_arrays
from tests.conftest import start_server

DDL = (
    "CREATE TABLE items (id int PRIMARY KEY, text text, source text, category text, "
    "length int, tenant_id int, embedding vector(384))"
)
COLS = "id, text, source, category, length, tenant_id, embedding"
TYPES = ["int4", "text", "text", "text", "int4", "int4", "vector"]
TARGETS = {"binary": 75_000, "text": 25_000}
_TEXT_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def binary_payload(rows: list[tuple]) -> bytes:
    """Postgres binary COPY data for `rows` (what write_row would send)."""
    parts = [b"PGCOPY\n\xff\r\n\x00" + bytes(8)]
    head = struct.Struct(">hii")
    i4 = struct.Struct(">ii")
    vhead = struct.pack(">ihh", 4 + 4 * 384, 384, 0)
    for r in rows:
        p = [head.pack(7, 4, r[0])]
        for s in r[1:4]:
            b = s.encode()
            p.append(struct.pack(">i", len(b)) + b)
        p.append(i4.pack(4, r[4]) + i4.pack(4, r[5]))
        p.append(vhead + r[6].astype(">f4").tobytes())
        parts.append(b"".join(p))
    parts.append(b"\xff\xff")
    return b"".join(parts)


def text_payload(rows: list[tuple]) -> bytes:
    """Postgres text COPY data for `rows`; vectors with %.9g (exact for float4)."""
    fmt = "[" + ",".join(["%.9g"] * 384) + "]"
    lines = []
    for r in rows:
        vec = fmt % tuple(r[6].tolist())
        t, s, c = (x.translate(_TEXT_ESC) for x in r[1:4])
        lines.append(f"{r[0]}\t{t}\t{s}\t{c}\t{r[4]}\t{r[5]}\t{vec}\n")
    return "".join(lines).encode()


def numpy_ceiling(payload: bytes, path: Path) -> float:
    """Seconds for numpy to write `payload` to `path` and fsync it."""
    arr = np.frombuffer(payload, dtype=np.uint8)
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        arr.tofile(f)
        f.flush()
        os.fsync(f.fileno())
    dt = time.perf_counter() - t0
    path.unlink()
    return dt


def fresh_table(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS items")
    conn.execute(DDL)


def load_write_row(conn: psycopg.Connection, rows: list[tuple]) -> float:
    fresh_table(conn)
    t0 = time.perf_counter()
    with conn.cursor().copy(f"COPY items ({COLS}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.set_types(TYPES)
        for r in rows:
            cp.write_row(r)
    return time.perf_counter() - t0


def load_bytes(conn: psycopg.Connection, payload: bytes, fmt: str) -> float:
    fresh_table(conn)
    step = 1 << 20
    t0 = time.perf_counter()
    with conn.cursor().copy(f"COPY items ({COLS}) FROM STDIN (FORMAT {fmt})") as cp:
        for s in range(0, len(payload), step):
            cp.write(payload[s : s + step])
    return time.perf_counter() - t0


def check(conn: psycopg.Connection, n: int, base: np.ndarray, probe: np.ndarray) -> None:
    got = conn.execute("SELECT count(*), sum(length) FROM items").fetchone()
    assert got[0] == n, f"expected {n} rows, got {got[0]}"
    ids = ", ".join(str(int(i)) for i in probe)
    vecs = conn.execute(f"SELECT id, embedding FROM items WHERE id IN ({ids}) ORDER BY id")
    for i, v in vecs.fetchall():
        assert np.array_equal(v.to_numpy(), base[i]), f"vector {i} differs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2, help="loads per variant (best is kept)")
    args = ap.parse_args()

    t = time.perf_counter()
    base, _, meta = load_arrays(args.rows, 1)
    rows = [
        (m["id"], m["text"], m["source"], m["category"], m["length"], m["tenant_id"], base[i])
        for i, m in enumerate(meta)
    ]
    n = len(rows)
    bin_data = binary_payload(rows)
    txt_data = text_payload(rows)
    probe = np.random.default_rng(0).choice(n, size=min(200, n), replace=False)
    print(
        f"corpus: {n:,} rows; binary COPY data {len(bin_data) / 1e6:.0f} MB, "
        f"text {len(txt_data) / 1e6:.0f} MB (prepared in {time.perf_counter() - t:.1f} s)"
    )

    data_dir = Path(tempfile.mkdtemp(prefix="vecgres-copy-bench-"))
    srv = start_server(data_dir / "data")
    results: dict[str, list[float]] = {"binary/write_row": [], "binary/bytes": [], "text/bytes": []}
    ceilings: dict[str, list[float]] = {"binary": [], "text": []}
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            register_vector(conn)
            for _ in range(args.repeat):
                ceilings["binary"].append(numpy_ceiling(bin_data, data_dir / "ceiling.bin"))
                results["binary/write_row"].append(load_write_row(conn, rows))
                check(conn, n, base, probe)
                results["binary/bytes"].append(load_bytes(conn, bin_data, "binary"))
                check(conn, n, base, probe)
                ceilings["text"].append(numpy_ceiling(txt_data, data_dir / "ceiling.txt"))
                results["text/bytes"].append(load_bytes(conn, txt_data, "text"))
                check(conn, n, base, probe)
            conn.execute("DROP TABLE items")
    finally:
        srv.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    sizes = {"binary": len(bin_data), "text": len(txt_data)}
    print(
        f"\n{'variant':18s} {'runs (s)':>16s} {'best rows/s':>12s} {'MB/s':>6s} "
        f"{'ceiling rows/s':>15s} {'ratio':>6s} {'target':>8s}"
    )
    for name, runs in results.items():
        kind = name.split("/")[0]
        best = min(runs)
        ceil = min(ceilings[kind])
        target = TARGETS[kind]
        ok = "ok" if n / best >= target else "MISSED"
        print(
            f"{name:18s} {' '.join(f'{r:.2f}' for r in runs):>16s} {n / best:>12,.0f} "
            f"{sizes[kind] / best / 1e6:>6.0f} {n / ceil:>15,.0f} {ceil / best:>6.1%} "
            f"{target:>8,} {ok}"
        )
    for kind, runs in ceilings.items():
        print(
            f"numpy ceiling {kind:6s}: tofile + fsync of {sizes[kind] / 1e6:.0f} MB in "
            f"{min(runs):.2f} s ({sizes[kind] / min(runs) / 1e6:.0f} MB/s)"
        )


if __name__ == "__main__":
    main()
