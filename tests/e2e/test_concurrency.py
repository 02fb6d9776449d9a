"""A slow query runs off the event loop: other connections keep being served, and the slow
one can be cancelled (57014) with the session left usable."""

from __future__ import annotations

import threading

import psycopg
import pytest

SLOW = "SELECT count(*) FROM range(200000) a(x), range(200000) b(y) WHERE a.x + b.y = 7"


def test_slow_query_does_not_stall_others_and_can_be_cancelled(server):
    slow = psycopg.connect(server.dsn(), autocommit=True)
    errors: list[BaseException] = []
    started = threading.Event()

    def run() -> None:
        started.set()
        try:
            slow.execute(SLOW)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    started.wait()
    with psycopg.connect(server.dsn(), autocommit=True) as other:
        for _ in range(20):
            assert other.execute("SELECT 1").fetchone() == (1,)
    assert t.is_alive(), "the slow query should still be running"
    slow.cancel_safe()
    t.join(60)
    assert not t.is_alive()
    assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
    assert "canceling statement due to user request" in str(errors[0])  # Postgres's words
    assert slow.execute("SELECT 2").fetchone() == (2,)
    slow.close()


@pytest.mark.parametrize("n", [4])
def test_parallel_clients(server, n):
    results: list[int] = []

    def client(i: int) -> None:
        with psycopg.connect(server.dsn(), autocommit=True) as c:
            for _ in range(10):
                results.append(c.execute("SELECT %s::int + 1", (i,)).fetchone()[0])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == sorted([i + 1 for i in range(n) for _ in range(10)])
