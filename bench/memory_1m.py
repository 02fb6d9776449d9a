"""1M x 384 vectors with int8 quantization on memmap storage: memory, open time, exact-search speed.

Server part (a vecgres subprocess, psycopg): a synthetic clustered table of `--rows` vectors
(`WITH (quantization = 'int8', storage = 'memmap')`) loaded by binary COPY, VACUUM (the
optimizer quantizes every sealed segment), then 1,000 exact top-10 queries over the wire.
Prints the server's resident memory (VmRSS) after load and after the queries against the
float32 size, and — after a restart on the same data dir — the time from process start to the
ready line and the resident memory of the freshly opened server (no vector data read).

In-process part (same run, same data): exact top-10 over every row with int8 and binary
copies plus float32 rescoring (`engine.knn.quantized_topk` across the store's segments) vs
numpy float32 brute force (BLAS matrix-vector + argpartition) over the same vectors held in
RAM: median latencies, speed-ups, recall@10 against numpy's exact answer, and copy sizes.

    python -m bench.memory_1m [--rows 1000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

from bench.common import median_ms
from engine.knn import quantized_topk
from engine.vector_store import VectorStore
from tests.conftest import start_server

DIM = 384
CHUNK = 50_000


def clustered(n: int, seed: int, centers: np.ndarray) -> np.ndarray:
    """Points around random centres (unit length): the shape of real embedding sets."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(centers), n)
    x = centers[which] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def chunks(rows: int, centers: np.ndarray):  # noqa: ANN201
    for s in range(0, rows, CHUNK):
        yield s, clustered(min(CHUNK, rows - s), 1000 + s // CHUNK, centers)


def copy_payload(ids: np.ndarray, vecs: np.ndarray) -> bytes:
    """Binary COPY rows (id bigint, embedding vector): built in bulk with a numpy record."""
    rec = np.dtype(
        [
            ("nf", ">i2"),
            ("l1", ">i4"),
            ("id", ">i8"),
            ("l2", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("v", ">f4", (DIM,)),
        ]
    )
    out = np.empty(len(ids), dtype=rec)
    out["nf"] = 2
    out["l1"] = 8
    out["id"] = ids
    out["l2"] = 4 + 4 * DIM
    out["dim"] = DIM
    out["unused"] = 0
    out["v"] = vecs
    return out.tobytes()


def rss_mb(pid: int) -> float:
    return _status(pid)["VmRSS"]


def rss_parts(pid: int) -> str:
    st = _status(pid)
    return f"anon {st['RssAnon']:.0f} MB, file-backed {st['RssFile']:.0f} MB"


def _status(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) / 1024
    return out


def server_part(rows: int, nq: int, centers: np.ndarray, queries: np.ndarray, tmp: Path) -> None:
    f32_mb = rows * DIM * 4 / 2**20
    srv = start_server(tmp / "d")
    pid = srv.proc.pid
    try:
        with psycopg.connect(srv.dsn(), autocommit=True) as c:
            c.execute(
                "CREATE TABLE big (id bigint PRIMARY KEY, embedding vector(384)) "
                "WITH (quantization = 'int8', storage = 'memmap')"
            )
            t0 = time.perf_counter()
            with c.cursor() as cur, cur.copy("COPY big (id, embedding) FROM STDIN BINARY") as cp:
                cp.write(b"PGCOPY\n\xff\r\n\0" + b"\0" * 8)
                for s, x in chunks(rows, centers):
                    cp.write(copy_payload(np.arange(s, s + len(x)), x))
                cp.write(b"\xff\xff")
            load_s = time.perf_counter() - t0
            print(f"server: COPY {rows:,} rows in {load_s:.1f} s ({rows / load_s:,.0f} rows/s)")
            print(
                f"server: RSS after load {rss_mb(pid):.0f} MB ({rss_parts(pid)}; "
                f"float32 data {f32_mb:.0f} MB)"
            )
            t0 = time.perf_counter()
            c.execute("VACUUM big")
            print(
                f"server: VACUUM (int8 copies of sealed segments) {time.perf_counter() - t0:.1f} s"
            )
            lat = []
            for q in queries[:nq]:
                v = "[" + ",".join(f"{x:.7g}" for x in q) + "]"
                t0 = time.perf_counter()
                c.execute("SELECT id FROM big ORDER BY embedding <=> %s LIMIT 10", (v,)).fetchall()
                lat.append(time.perf_counter() - t0)
            rss = rss_mb(pid)
            print(
                f"server: {nq} exact int8 queries over the wire, median {median_ms(lat):.2f} ms; "
                f"RSS {rss:.0f} MB = {100 * rss / f32_mb:.1f}% of float32 (target <= 40%; "
                f"{rss_parts(pid)})"
            )
    finally:
        srv.stop()
    t0 = time.perf_counter()
    srv = start_server(tmp / "d")
    try:
        ready = time.perf_counter() - t0
        print(
            f"server: restart on the 1M data dir: ready in {ready:.2f} s (target < 2 s), "
            f"RSS {rss_mb(srv.proc.pid):.0f} MB"
        )
    finally:
        srv.stop()


def inprocess_part(rows: int, nq: int, centers: np.ndarray, queries: np.ndarray, tmp: Path) -> None:
    store = VectorStore(tmp / "store", DIM)
    base = np.empty((rows, DIM), dtype=np.float32)
    for s, x in chunks(rows, centers):
        base[s : s + len(x)] = x
        store.append(x)
    store.sync()
    slots = store.all_slots()
    print(f"in-process: {len(store.segments)} segments of <= {store.capacity:,} rows")
    qs = queries[: min(nq, 200)]
    truth, lat_np = [], []
    for q in qs:
        t0 = time.perf_counter()
        d = -(base @ q)
        part = np.argpartition(d, 10)[:10]
        top = part[np.argsort(d[part])]
        lat_np.append(time.perf_counter() - t0)
        truth.append(set(top.tolist()))
    np_ms = median_ms(lat_np)
    print(f"numpy float32 brute force (BLAS): {np_ms:.2f} ms/query ({base.nbytes / 2**20:.0f} MB)")
    for mode, over in (("int8", 2.0), ("binary", 4.0)):
        t0 = time.perf_counter()
        size = sum(seg.quantized(mode).nbytes() for seg in store.segments)
        built = time.perf_counter() - t0
        lat, rec = [], []
        for q, want in zip(qs, truth, strict=True):
            t0 = time.perf_counter()
            got, _, _ = quantized_topk(store, mode, slots, "ip", q, 10, over)
            lat.append(time.perf_counter() - t0)
            rec.append(len(set(got.tolist()) & want) / 10)
        ms = median_ms(lat)
        print(
            f"{mode:>6s} + rescore (oversampling {over:g}): {ms:.2f} ms/query, "
            f"x{np_ms / ms:.2f} vs numpy, recall@10 {statistics.mean(rec):.3f}, "
            f"copy {size / 2**20:.0f} MB ({100 * size / base.nbytes:.1f}% of float32), "
            f"built in {built:.1f} s"
        )
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--skip-server", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    centers = rng.standard_normal((1000, DIM)).astype(np.float32)
    queries = clustered(args.queries, 99, centers)
    tmp = Path(tempfile.mkdtemp(prefix="vecgres-1m-"))
    try:
        if not args.skip_server:
            server_part(args.rows, args.queries, centers, queries, tmp)
        inprocess_part(args.rows, args.queries, centers, queries, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
