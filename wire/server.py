"""The asyncio transport: the only code that touches sockets.

Owns: listening, reading bytes into each connection's `FrontendDecoder`, answering
SSLRequest with 'S' and upgrading the connection to TLS when a certificate is configured ('N'
otherwise; GSSENCRequest always 'N'), routing CancelRequest to the target connection, feeding
the password exchange to `Connection.authenticate`, running `Connection.handle` in a thread
pool (so one slow query never stalls the event loop or other clients), writing replies, and
closing only the offending connection on a protocol error or a failed authentication.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import logging
import os
import re
import signal
import socket
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.database import Cluster
from engine.errors import PgError, ProtocolViolation, pg_error
from engine.vector_store import StorageConfig
from sqlfront.copy_duck import remove_stale_spools
from wire import messages as m
from wire.auth import AuthConfig, tls_server_end_point
from wire.protocol import Connection

log = logging.getLogger("vecgres")
# Large reads: COPY streams arrive in fewer, bigger batches (binary COPY ~75k -> ~95k rows/s).
# The socket transport's own recv size (asyncio's 256 KiB) is raised to match: every recv
# gives the GIL up and waits to get it back from the COPY parse threads.
_READ_SIZE = 4 << 20
# Seconds a thread waiting for the GIL waits before the holder is asked to drop it (Python's
# default 5 ms): the event loop's reads wait on the COPY parse threads at every syscall.
_SWITCH_INTERVAL = 0.001
# How often a taken CancelRequest re-interrupts DuckDB until its query cycle ends: DuckDB
# clears its interrupt flag when a query starts, so one interrupt can land just before it.
_CANCEL_POKE_SECONDS = 0.01


@dataclass
class _Input:
    """What the transport holds of a connection's input: a CancelRequest asks it whether the
    client's next message is already on its way (then the cancel applies to it)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    decoder: m.FrontendDecoder

    def pending(self) -> bool:
        """Bytes received and not yet dispatched: in the codec, in the stream's buffer (read
        from the socket, not yet handed to us), or still unread in the kernel socket."""
        # StreamReader has no public size: its buffer fills before our read() resumes
        if self.decoder.buffered or len(getattr(self.reader, "_buffer", b"")):
            return True
        return _socket_has_input(self.writer.get_extra_info("socket"))


def _socket_has_input(sock: object) -> bool:
    """A non-blocking MSG_PEEK on (a duplicate of) the connection's socket."""
    if sock is None:
        return False
    try:
        with sock.dup() as dup:  # type: ignore[attr-defined]
            return bool(dup.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except OSError:  # BlockingIOError: nothing to read
        return False


class Server:
    def __init__(
        self,
        data_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 5433,
        auth: AuthConfig | None = None,
        tls: TlsConfig | None = None,
        authentication_timeout: float = 60.0,
        storage: StorageConfig | None = None,
    ) -> None:
        self.cluster = Cluster(data_dir, storage)
        self.host = host
        self.port = port
        self.auth = auth if auth is not None else AuthConfig()
        self.tls = tls
        # seconds from connect to the end of authentication, else the connection is dropped
        # (Postgres's authentication_timeout, 1 min)
        self.authentication_timeout = authentication_timeout
        self.registry: dict[int, tuple[bytes, Connection]] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(8, (os.cpu_count() or 2) * 4), thread_name_prefix="vecgres-q"
        )
        self._server: asyncio.base_events.Server | None = None
        self._inputs: dict[Connection, _Input] = {}
        self._cancels: set[asyncio.Task] = set()  # cancel deliveries in progress

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
        negotiated: set[type] = set()  # SSLRequest / GSSENCRequest already answered
        conn = Connection(self.cluster, self.registry, self.auth)
        deadline = loop.time() + self.authentication_timeout
        self._inputs[conn] = _Input(reader, writer, decoder)
        if hasattr(writer.transport, "max_size"):  # the selector transport's recv size
            writer.transport.max_size = _READ_SIZE  # type: ignore[attr-defined]
        try:
            while not conn.closed:
                if conn.session is None:  # startup and authentication: bounded in time
                    try:
                        data = await asyncio.wait_for(
                            reader.read(_READ_SIZE), max(0.0, deadline - loop.time())
                        )
                    except TimeoutError:
                        log.info("connection dropped: authentication timeout")
                        break
                else:
                    data = await reader.read(_READ_SIZE)
                if not data:
                    break
                conn.begin_cycle()
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
                        if (
                            not decoder.startup_done
                            or isinstance(msg, m.StartupMessage)
                            or conn.authenticating
                        ):
                            if not await self._startup_phase(
                                msg, conn, decoder, negotiated, writer, loop
                            ):
                                return
                            continue
                        batch.append(msg)
                    if batch:
                        conn.begin_cycle()  # also when startup and a query came in one read
                        out = await loop.run_in_executor(self.pool, conn.handle_batch, batch)
                        if out:
                            writer.write(b"".join(out))
                    if error is None:
                        break
                    if (
                        getattr(error, "severity", "ERROR") == "FATAL"
                        or not decoder.startup_done
                        or conn.authenticating
                    ):
                        error.severity = "FATAL"
                        writer.write(m.ErrorResponse(m.error_fields(error)).encode())
                        await writer.drain()
                        return
                    writer.write(b"".join(conn.handle_error(error)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._inputs.pop(conn, None)
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
        decoder: m.FrontendDecoder,
        negotiated: set[type],
        writer: asyncio.StreamWriter,
        loop: asyncio.AbstractEventLoop,
    ) -> bool:
        """One message before the session exists; False when the connection must close.
        ``negotiated`` holds the encryption requests already answered on this connection."""
        if isinstance(msg, m.SSLRequest | m.GSSENCRequest) and type(msg) in negotiated:
            # as Postgres: a repeated request (or any after TLS is up) is taken for a startup
            # packet of an unknown protocol version
            minor = 5679 if isinstance(msg, m.SSLRequest) else 5680
            return await self._fatal(
                writer,
                pg_error(
                    "0A000",
                    f"unsupported frontend protocol 1234.{minor}: server supports 3.0 to 3.0",
                ),
            )
        if isinstance(msg, m.SSLRequest):
            negotiated.add(m.SSLRequest)
            if self.tls is None:
                writer.write(b"N")
                return True
            if decoder.buffered:  # plaintext pipelined behind the request (CVE-2021-23214)
                return await self._fatal(
                    writer, ProtocolViolation("received unencrypted data after SSL request")
                )
            negotiated.add(m.GSSENCRequest)
            writer.write(b"S")
            await writer.drain()
            try:
                await writer.start_tls(self.tls.context)
            except OSError as e:  # handshake failure, reset or timeout
                log.info("TLS handshake failed: %r", e)
                return False
            conn.tls_end_point = self.tls.end_point
            return True
        if isinstance(msg, m.GSSENCRequest):
            negotiated.add(m.GSSENCRequest)
            writer.write(b"N")
            return True
        if conn.authenticating:
            if isinstance(msg, m.Terminate):
                return False
            try:
                out = await loop.run_in_executor(self.pool, conn.authenticate, msg)
            except PgError as e:
                if e.sqlstate == "28P01":
                    peer = writer.get_extra_info("peername")
                    log.info("authentication failed from %s: %s", peer, e.message)
                return await self._fatal(writer, e)
            writer.write(b"".join(out))
            return True
        if isinstance(msg, m.CancelRequest):
            entry = self.registry.get(msg.pid)
            if entry is not None and hmac.compare_digest(entry[0], msg.secret):
                self._cancel(entry[1])
            return False
        if isinstance(msg, m.StartupMessage):
            try:
                out = await loop.run_in_executor(self.pool, conn.startup, msg)
            except PgError as e:
                return await self._fatal(writer, e)
            writer.write(b"".join(out))
            return True
        return False

    def _cancel(self, target: Connection) -> None:
        """A CancelRequest: taken when ``target`` has a query cycle in flight (or its next
        message is on its way), then re-delivered until that cycle ends."""
        inp = self._inputs.get(target)
        if not target.cancel(inp is not None and inp.pending()):
            return  # idle: nothing to cancel, as in Postgres
        task = asyncio.get_running_loop().create_task(self._deliver_cancel(target))
        self._cancels.add(task)
        task.add_done_callback(self._cancels.discard)

    @staticmethod
    async def _deliver_cancel(target: Connection) -> None:
        while target.poke_cancel():
            await asyncio.sleep(_CANCEL_POKE_SECONDS)

    @staticmethod
    async def _fatal(writer: asyncio.StreamWriter, e: PgError) -> bool:
        """Send ``e`` as a FATAL ErrorResponse; the caller closes the connection."""
        e.severity = "FATAL"
        writer.write(m.ErrorResponse(m.error_fields(e)).encode())
        await writer.drain()
        return False


@dataclass(frozen=True)
class TlsConfig:
    """The server's TLS context, and the tls-server-end-point channel-binding data of its
    certificate (None when undefined for its signature algorithm: no SCRAM-SHA-256-PLUS)."""

    context: ssl.SSLContext
    end_point: bytes | None


_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def tls_config(cert: Path, key: Path) -> TlsConfig:
    """Load a PEM certificate (chain) and key: TLS 1.2 at least, as Postgres's
    ssl_min_protocol_version.  Raises ``OSError`` / ``ssl.SSLError``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    first = _PEM_CERT.search(cert.read_text(encoding="ascii", errors="replace"))
    end_point = None
    if first is not None:
        end_point = tls_server_end_point(ssl.PEM_cert_to_DER_cert(first.group(0)))
    return TlsConfig(ctx, end_point)


def run(
    data_dir: Path | None,
    host: str,
    port: int,
    auth: AuthConfig | None = None,
    tls: TlsConfig | None = None,
    authentication_timeout: float = 60.0,
    storage: StorageConfig | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; prints one ready line naming host and port."""

    async def main() -> None:
        sys.setswitchinterval(_SWITCH_INTERVAL)
        if stale := remove_stale_spools():
            log.info("removed %d COPY spool file(s) of servers that are gone", stale)
        server = Server(data_dir, host, port, auth, tls, authentication_timeout, storage)
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
