"""Shared fixtures: a real vecgres server subprocess on 127.0.0.1 (ephemeral port, temp data
dir), waited for through its ready line, and helpers to connect psycopg and run psql."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "corpus100k"
READY = re.compile(r"ready to accept connections on ([\d.]+):(\d+)")


@dataclass
class ServerProc:
    proc: subprocess.Popen
    host: str
    port: int
    data_dir: Path
    log: list[str]

    def dsn(self, dbname: str = "postgres", **kw: str) -> str:
        extra = " ".join(f"{k}={v}" for k, v in kw.items())
        return f"host={self.host} port={self.port} user=postgres dbname={dbname} {extra}".strip()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(
    data_dir: Path, timeout: float = 60.0, extra_args: Sequence[str] = ()
) -> ServerProc:
    """Start `python -m wire serve --port 0 [extra_args...]` and wait for its ready line."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wire",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            *extra_args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    log: list[str] = []
    found: list[tuple[str, int]] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.append(line)
            m = READY.search(line)
            if m and not found:
                found.append((m.group(1), int(m.group(2))))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout) or not found:
        proc.kill()
        raise RuntimeError("server did not start:\n" + "".join(log))
    host, port = found[0]
    return ServerProc(proc, host, port, data_dir, log)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    srv = start_server(tmp_path_factory.mktemp("data"))
    yield srv
    srv.stop()


@pytest.fixture
def conn(server: ServerProc):
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as c:
        yield c


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProc]:
    srv = start_server(tmp_path / "data")
    yield srv
    srv.stop()


def run_psql(
    server: ServerProc,
    *args: str,
    input: str | None = None,
    cwd: Path | None = None,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess:
    """psql -X against `server` as user postgres (stderr into stdout with `merge_stderr`,
    as a person sees it in a terminal)."""
    env = dict(os.environ, PGCONNECT_TIMEOUT="10", PSQLRC="/dev/null", PGTZ="UTC")
    return subprocess.run(
        ["psql", "-X", "-h", server.host, "-p", str(server.port), "-U", "postgres", *args],
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@dataclass
class Corpus:
    base: object  # np.ndarray [n, 384] float32, normalised
    queries: object  # np.ndarray [nq, 384]
    tenant: object  # np.ndarray [n] int
    category: object  # np.ndarray [n] str


def vec_text(v) -> str:  # noqa: ANN001
    from bench.common import vec_text as fmt

    return fmt(v)


@pytest.fixture(scope="session")
def corpus10k() -> Corpus:
    """The first 10,000 rows of the shared corpus and 50 public queries, normalised."""
    import numpy as np

    from bench.common import load_arrays

    base, queries, meta = load_arrays(10_000, 50)
    tenant = np.array([m["tenant_id"] for m in meta])
    category = np.array([m["category"] for m in meta])
    return Corpus(base, queries, tenant, category)


def load_corpus_table(conn, table: str, corpus: Corpus) -> None:  # noqa: ANN001
    """Create `table` (id, tenant_id, category, embedding vector(384)) and fill it."""
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(
        f"CREATE TABLE {table} (id int PRIMARY KEY, tenant_id int, category text, "
        "embedding vector(384))"
    )
    n = len(corpus.base)
    batch = 500
    for s in range(0, n, batch):
        rows = range(s, min(n, s + batch))
        values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
        params: list[object] = []
        for i in rows:
            params += [i, int(corpus.tenant[i]), str(corpus.category[i]), vec_text(corpus.base[i])]
        conn.execute(f"INSERT INTO {table} VALUES {values}", params)
