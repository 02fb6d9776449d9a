"""The asyncio transport: the only code that touches sockets.

Owns: listening, reading bytes into each connection's `FrontendDecoder`, answering
SSLRequest/GSSENCRequest with 'N', routing CancelRequest to the target connection, running
`Connection.handle` in a thread pool (so one slow query never stalls the event loop or other
clients), writing replies, and closing only the offending connection on a protocol error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import sys
from pathlib import Path

from engine.database import Cluster
from engine.errors import PgError, ProtocolViolation
from wire import messages as m
from wire.protocol import Connection

log = logging.getLogger("vecgres")
# Large reads: COPY streams arrive in fewer, bigger batches (binary COPY ~75k -> ~95k rows/s).
_READ_SIZE = 1 << 20


class Server:
    def __init__(self, data_dir: Path | None, host: str = "127.0.0.1", port: int = 5433) -> None:
        self.cluster = Cluster(data_dir)
        self.host = host
        self.port = port
        self.registry: dict[int, tuple[bytes, Connection]] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(8, (os.cpu_count() or 2) * 4), thread_name_prefix="vecgres-q"
        )
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(
            self._client, self.host, self.port, limit=_READ_SIZE
        )
        sock = self._server.sockets[0]
        host, port = sock.getsockname()[:2]
        self.port = port
        return host, port

    async def serve_until(self, stop: asyncio.Event) -> None:
        await stop.wait()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.cluster.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        decoder = m.FrontendDecoder()
        conn = Connection(self.cluster, self.registry)
        try:
            while not conn.closed:
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                decoder.feed(data)
                # decode everything buffered, then run it as one job in the pool: one thread
                # hop per network read, not per message (Parse/Bind/Describe/Execute/Sync)
                while not conn.closed:
                    batch: list[object] = []
                    error: ProtocolViolation | None = None
                    while True:
                        try:
                            msg = decoder.next_message()
                        except ProtocolViolation as e:
                            error = e
                            break
                        if msg is None:
                            break
                        if not decoder.startup_done or isinstance(msg, m.StartupMessage):
                            if await self._startup_phase(msg, conn, writer, loop) is False:
                                return
                            continue
                        batch.append(msg)
                    if batch:
                        out = await loop.run_in_executor(self.pool, conn.handle_batch, batch)
                        if out:
                            writer.write(b"".join(out))
                    if error is None:
                        break
                    if getattr(error, "severity", "ERROR") == "FATAL" or not decoder.startup_done:
                        error.severity = "FATAL"
                        writer.write(m.ErrorResponse(m.error_fields(error)).encode())
                        await writer.drain()
                        return
                    writer.write(b"".join(conn.handle_error(error)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if conn.session is not None:
                await loop.run_in_executor(self.pool, conn.close)
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    async def _startup_phase(
        self,
        msg: object,
        conn: Connection,
        writer: asyncio.StreamWriter,
        loop: asyncio.AbstractEventLoop,
    ) -> bool:
        if isinstance(msg, m.SSLRequest | m.GSSENCRequest):
            writer.write(b"N")
            return True
        if isinstance(msg, m.CancelRequest):
            entry = self.registry.get(msg.pid)
            if entry is not None and entry[0] == msg.secret:
                entry[1].cancel()
            return False
        if isinstance(msg, m.StartupMessage):
            try:
                out = await loop.run_in_executor(self.pool, conn.startup, msg)
            except PgError as e:
                e.severity = "FATAL"
                writer.write(m.ErrorResponse(m.error_fields(e)).encode())
                await writer.drain()
                return False
            writer.write(b"".join(out))
            return True
        return False


def run(data_dir: Path | None, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM; prints one ready line naming host and port."""

    async def main() -> None:
        server = Server(data_dir, host, port)
        h, p = await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"vecgres ready to accept connections on {h}:{p} (data dir: {data_dir})", flush=True)
        try:
            await server.serve_until(stop)
        finally:
            server.close()
            print("vecgres stopped", file=sys.stderr, flush=True)

    asyncio.run(main())
