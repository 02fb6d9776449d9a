"""psql as a person types it, in a terminal (a pty): `\\timing` and its results, and Ctrl-C
cancelling a long query (psql sends a CancelRequest; the server answers 57014 and the session
goes on).

Ctrl-C is pressed once the server logged the query's start (`log_statement = 'all'`): psql has
sent it then, so its SIGINT handler sends the cancel, and the server applies a cancel to the
query in flight (see sqlfront/cancel.py)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time

SLOW = "SELECT count(*) FROM range(200000) a(x), range(200000) b(y) WHERE a.x + b.y = 7"


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


def _wait_for_log(server, text: str, timeout: float = 30.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not any(text in line for line in server.log):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_ctrl_c_cancels_the_running_query(server):
    term = Terminal(server)
    try:
        assert term.expect("postgres=#")
        term.consume("postgres=#")
        term.send("SET log_statement = 'all';\n")
        assert term.expect("SET")
        term.consume("SET")
        marker = f"ctrl_c_{os.getpid()}_{time.monotonic_ns()}"
        term.send(f"{SLOW} AND '{marker}' <> '';\n")
        assert _wait_for_log(server, f"statement: {SLOW} AND '{marker}'"), term.seen
        term.send("\x03")
        assert term.expect("Cancel request sent"), term.seen
        assert term.expect("canceling statement due to user request"), term.seen
        assert "ERROR:" in term.consume("canceling statement due to user request")
        term.send("SELECT 'still here' AS s;\n")
        assert term.expect("(1 row)"), term.seen
        assert "still here" in term.consume("(1 row)")
    finally:
        term.close()
    assert term.proc.returncode == 0
