"""psql as a person types it, in a terminal (a pty): `\\timing` and its results.

(Ctrl-C cancelling a query is tested with psycopg's cancel in e2e/test_concurrency.py: through
a pty the moment psql sends the cancel races the query, and the test was not deterministic.)"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time


def _controlling_tty() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, server) -> None:  # noqa: ANN001
        self.master, slave = pty.openpty()
        env = dict(os.environ, PSQLRC="/dev/null", PAGER="cat", PGTZ="UTC", TERM="dumb")
        self.proc = subprocess.Popen(
            ["psql", "-X", "-h", server.host, "-p", str(server.port), "-U", "postgres"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_controlling_tty,  # Ctrl-C on the pty is SIGINT for psql
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30.0) -> bool:
        """Read output until `text` shows up after what was already consumed."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    return False
                self.seen += chunk.decode(errors="replace")
        return True

    def consume(self, text: str) -> str:
        """Everything up to and including `text`; later expects look only after it."""
        head, _, self.seen = self.seen.partition(text)
        return head + text

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def close(self) -> None:
        self.send("\\q\n")
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self.master)


def test_timing_in_a_terminal(server):
    term = Terminal(server)
    try:
        assert term.expect("postgres=#")
        term.consume("postgres=#")
        term.send("\\timing on\n")
        assert term.expect("Timing is on.")
        term.send("SELECT 41 + 1 AS answer;\n")
        assert term.expect("Time: ")
        out = term.consume("Time: ")
        assert "answer" in out and "42" in out and "(1 row)" in out
        assert term.expect(" ms")

        term.send("SELECT 'still here' AS s;\n")
        assert term.expect("still here")
        assert term.expect("(1 row)")
    finally:
        term.close()
    assert term.proc.returncode == 0
