"""psql as a person types it, in a terminal (a pty): `\\timing`, and Ctrl-C cancelling a long
query (psql sends a CancelRequest; the server answers 57014 and the session goes on)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time

SLOW = "SELECT count(*) FROM range(200000) a(x), range(200000) b(y) WHERE a.x + b.y = 7;"


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


def test_timing_and_ctrl_c_cancel(server):
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

        # A Ctrl-C can land while readline still holds the line (psql then drops the line,
        # and a prompt comes back) or before the query reaches the server (nothing to cancel
        # yet): so type the query again after a bare prompt, and press Ctrl-C again while it
        # runs.  Each wait is bounded.
        cancelled = False
        for _ in range(10):
            term.send(SLOW + "\n")
            assert term.expect("= 7;\r\n")
            for _ in range(5):
                term.send("\x03")
                if term.expect("canceling statement due to user request", timeout=2):
                    cancelled = True
                    break
                if term.seen.rstrip().endswith("postgres=# ^C") and "Cancel" not in term.seen:
                    break  # the line was dropped at the prompt: type it again
            if cancelled:
                break
            term.consume(term.seen)
        assert cancelled, term.seen[-3000:]
        term.consume("canceling statement due to user request")
        term.send("SELECT 'still here' AS s;\n")
        assert term.expect("still here")
        assert term.expect("(1 row)")
    finally:
        term.close()
    assert term.proc.returncode == 0
