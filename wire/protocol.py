"""Per-connection protocol state machine: frontend messages in, backend messages out.

Owns: the phases of a connection (startup → authentication → ready → closed), the password
exchange (cleartext, md5 or SCRAM-SHA-256 per ``wire.auth.AuthConfig``; its math lives in
``wire.auth``), the startup reply (AuthenticationOk, ParameterStatus set, BackendKeyData,
ReadyForQuery), the simple Query
flow (RowDescription, DataRows, CommandComplete per statement, one ReadyForQuery), the
extended protocol (named/unnamed statements and portals, Describe, Execute with row limits
and PortalSuspended, "discard until Sync" after an error), and result encoding by type OID
and the formats Bind asked for.  `handle()` is synchronous and does no IO: the transport
(`wire.server`) runs it in a worker thread and writes what it returns.

COPY (the CopyIn/CopyOut sub-protocol, from a simple Query or an extended Execute):
  * COPY FROM STDIN answers CopyInResponse and enters copy-in mode: CopyData is fed to the
    session's `CopyIn`, CopyDone finishes it (CommandComplete ``COPY n``, then the rest of a
    simple Query and ReadyForQuery), CopyFail aborts it (57014 ``COPY from stdin failed:
    ...``); Flush and Sync are ignored in copy-in mode, any other message aborts it (08P01);
  * an error ends copy-in mode at once, as in Postgres: ErrorResponse, then ReadyForQuery for
    a simple Query ("discard until Sync" for Execute); the CopyData / CopyDone / CopyFail the
    client still sends are dropped like any stray copy message;
  * COPY TO STDOUT answers CopyOutResponse, one CopyData per row, CopyDone, CommandComplete.

Rules (Postgres's, from the protocol docs):
  * after an error in extended mode, messages are ignored until Sync;
  * Execute never sends RowDescription; Describe P reports the Bind's result formats;
  * the unnamed statement survives Syncs until the next unnamed Parse;
  * unknown statement → 26000, unknown portal → 34000.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from engine.database import Cluster
from engine.duck_errors import translate
from engine.errors import (
    InvalidCursorName,
    InvalidSqlStatementName,
    PgError,
    ProtocolViolation,
    pg_error,
)
from sqlfront.copy import CopyIn, CopyStatement
from sqlfront.pgtypes import binary_encoder, decode_param, text_encoder
from sqlfront.session import Prepared, Result, Session
from wire import messages as m
from wire.auth import (
    SCRAM_SHA_256,
    SCRAM_SHA_256_PLUS,
    AuthConfig,
    AuthFailed,
    Method,
    ScramServer,
    auth_failed_error,
    check_cleartext,
    check_md5_response,
)

Out = list[bytes]
_I32 = struct.Struct("!i")


@dataclass
class Portal:
    prepared: Prepared
    params: list[object]
    result_formats: list[int]
    result: Result | None = None
    pos: int = 0
    encoders: list[Callable[[object], bytes]] | None = None
    statement: str = ""  # the prepared statement's name (log_statement)


@dataclass
class CopyInState:
    """Copy-in mode: the COPY being fed, and how it was started."""

    copy: CopyIn
    extended: bool  # started by Execute (errors: discard until Sync) or by a simple Query
    portal: str | None = None


@dataclass
class AuthState:
    """A password exchange in progress: the StartupMessage waiting for it, and the method's
    state (md5 salt, or the SCRAM exchange and how far it got)."""

    startup: m.StartupMessage
    user: str
    salt: bytes | None = None
    scram: ScramServer | None = None
    mechanisms: list[str] = field(default_factory=lambda: [SCRAM_SHA_256])
    sasl_stage: int = 0  # 0: SASLInitialResponse next, 1: client-first next, 2: client-final


@dataclass
class ConnState:
    statements: dict[str, Prepared] = field(default_factory=dict)
    portals: dict[str, Portal] = field(default_factory=dict)
    skip_until_sync: bool = False
    copy_in: CopyInState | None = None


class Connection:
    """One client connection's protocol logic."""

    def __init__(
        self,
        cluster: Cluster,
        registry: dict[int, tuple[bytes, Connection]],
        auth: AuthConfig | None = None,
    ) -> None:
        self.cluster = cluster
        self.registry = registry
        self.auth = auth if auth is not None else AuthConfig()
        self.session: Session | None = None
        self.closed = False
        self.state = ConnState()
        self.secret = secrets.token_bytes(4)
        self._auth_state: AuthState | None = None
        # RFC 5929 tls-server-end-point data, set by the transport once TLS is up (and the
        # certificate's hash is defined): SCRAM-SHA-256-PLUS is offered then
        self.tls_end_point: bytes | None = None
        self._cycle_done = False  # the message being handled produced ReadyForQuery

    # ------------------------------------------------------------------ startup
    @property
    def authenticating(self) -> bool:
        """True between the StartupMessage and the end of the password exchange."""
        return self._auth_state is not None

    def startup(self, msg: m.StartupMessage) -> Out:
        """Answer the StartupMessage: the whole startup reply under trust, else the first
        authentication request (``authenticate`` takes the client's answers)."""
        out: Out = []
        params = msg.params
        user = params.get("user", "postgres")
        if msg.protocol >> 16 != 3:
            raise ProtocolViolation(
                f"unsupported frontend protocol {msg.protocol >> 16}.{msg.protocol & 0xFFFF}"
            )
        unrecognized = [k for k in params if k.startswith("_pq_.")]
        if (msg.protocol & 0xFFFF) > 0 or unrecognized:
            out.append(m.NegotiateProtocolVersion(m.PROTOCOL_3_0, unrecognized).encode())
        method = self.auth.method
        if method is Method.TRUST:
            return out + self._accept(msg)
        st = AuthState(msg, user)
        if self.auth.uses_scram(user):
            secret = self.auth.scram_secret(user)
            doomed = secret is None
            if secret is None:
                secret = self.auth.mock_scram_secret(user)
            st.scram = ScramServer(secret, doomed=doomed, channel_binding=self.tls_end_point)
            if self.tls_end_point is not None:
                st.mechanisms = [SCRAM_SHA_256_PLUS, SCRAM_SHA_256]  # Postgres's order
            out.append(m.AuthenticationSASL(st.mechanisms).encode())
        elif method is Method.MD5:
            st.salt = secrets.token_bytes(4)
            out.append(m.AuthenticationMD5Password(st.salt).encode())
        else:
            out.append(m.AuthenticationCleartextPassword().encode())
        self._auth_state = st
        return out

    def authenticate(self, msg: object) -> Out:
        """One client message of the password exchange.  Raises a FATAL ``PgError`` (28P01
        for a wrong password or unknown user) after which the connection must close."""
        st = self._auth_state
        assert st is not None
        try:
            if not isinstance(msg, m.PasswordMessage):
                code = _MESSAGE_TYPES.get(type(msg), ord("?"))
                what = "password" if st.scram is None else "SASL"
                raise ProtocolViolation(f"expected {what} response, got message type {code}")
            if st.scram is None:
                password = m.parse_password(msg.data)
                if not password:
                    raise pg_error("28P01", "empty password returned by client")
                if st.salt is not None:
                    check_md5_response(self.auth.users.get(st.user), st.user, st.salt, password)
                else:
                    check_cleartext(self.auth.users.get(st.user), st.user, password)
                self._auth_state = None
                return self._accept(st.startup)
            if st.sasl_stage == 0:
                mechanism, data = m.parse_sasl_initial(msg.data)
                if mechanism not in st.mechanisms:
                    raise ProtocolViolation(
                        "client selected an invalid SASL authentication mechanism"
                    )
                st.scram.plus = mechanism == SCRAM_SHA_256_PLUS
                st.sasl_stage = 1
                if data is None:  # no initial response: ask for it with an empty challenge
                    return [m.AuthenticationSASLContinue(b"").encode()]
                msg = m.PasswordMessage(data)
            if st.sasl_stage == 1:
                st.sasl_stage = 2
                return [m.AuthenticationSASLContinue(st.scram.client_first(msg.data)).encode()]
            final = st.scram.client_final(msg.data)
            self._auth_state = None
            return [m.AuthenticationSASLFinal(final).encode(), *self._accept(st.startup)]
        except (AuthFailed, UnicodeDecodeError):  # a non-UTF-8 password matches no secret
            self._auth_state = None
            raise auth_failed_error(st.user) from None
        except PgError as e:
            self._auth_state = None
            e.severity = "FATAL"
            raise
        except Exception as e:  # noqa: BLE001 - a bug: FATAL XX000 rather than a dead task
            self._auth_state = None
            err = PgError(f"internal error: {e!r}")
            err.severity = "FATAL"
            raise err from e

    def _accept(self, msg: m.StartupMessage) -> Out:
        """The client is authenticated: open the session, AuthenticationOk, the parameters,
        BackendKeyData and ReadyForQuery (unknown database → 3D000)."""
        out: Out = []
        params = msg.params
        user = params.get("user", "postgres")
        dbname = params.get("database") or user
        db = self.cluster.database(dbname)  # raises 3D000
        self.session = Session(db, user, self.cluster)
        self.session.copy_enabled = True
        self.registry[self.session.pid] = (self.secret, self)
        out.append(m.AuthenticationOk().encode())
        s = self.session.settings
        if "application_name" in params:
            s.values["application_name"] = params["application_name"]
        for key, value in params.items():
            if key in ("user", "database", "replication") or key.startswith("_pq_."):
                continue
            if key == "options":
                continue
            try:
                s.set(key, value)
            except PgError:
                pass
        s.changed_reported.clear()
        from sqlfront.settings import REPORTED

        for name in REPORTED:
            out.append(m.ParameterStatus(name, s.values[name]).encode())
        out.append(m.BackendKeyData(self.session.pid, self.secret).encode())
        out.append(m.ReadyForQuery("I").encode())
        return out

    # ------------------------------------------------------------------ cancel
    # A CancelRequest applies to the query cycle in flight (see sqlfront.cancel): the
    # transport opens a cycle when bytes arrive, each ReadyForQuery closes it.
    def begin_cycle(self) -> None:
        """The transport received bytes of a client message."""
        if self.session is not None:
            self.session.cancel.begin_cycle()

    def cancel(self, input_pending: bool) -> bool:
        """A CancelRequest naming this connection; ``input_pending``: the client's next
        message is already on its way (unread or undecoded bytes).  True when taken (the
        transport then keeps poking until the cycle ends), False when ignored as idle."""
        if self.session is None:
            return False
        return self.session.cancel.request(input_pending)

    def poke_cancel(self) -> bool:
        """Deliver a taken cancel to the statement running now; False once its cycle ended."""
        if self.session is None:
            return False
        return self.session.cancel.poke()

    def _ready(self) -> bytes:
        """ReadyForQuery, which ends the query cycle (`handle_batch` closes it)."""
        assert self.session is not None
        self._cycle_done = True
        return m.ReadyForQuery(self.session.status).encode()

    def close(self) -> None:
        if self.state.copy_in is not None:
            self.state.copy_in.copy.abort()
            self.state.copy_in = None
        if self.session is not None:
            self.registry.pop(self.session.pid, None)
            self.session.cancel.reset()
            self.session.close()
            self.session = None
        self.closed = True

    # ---------------------------------------------------------------- dispatch
    def handle_batch(self, msgs: list[object]) -> Out:
        """Process messages in order (what one network read delivered)."""
        out: Out = []
        for i, msg in enumerate(msgs):
            if self.closed:
                break
            self._cycle_done = False
            out += self.handle(msg)
            if self._cycle_done and self.session is not None:
                self.session.cancel.end_cycle(more_queued=i + 1 < len(msgs))
        return out

    def handle(self, msg: object) -> Out:
        """Process one frontend message (after startup); returns encoded backend messages."""
        assert self.session is not None
        if isinstance(msg, m.Terminate):
            self.close()
            return []
        if self.state.copy_in is not None:
            return self._copy_message(msg)
        if isinstance(msg, m.Query):
            return self._simple_query(msg.sql)
        if isinstance(msg, m.Sync):
            self.state.skip_until_sync = False
            return [self._ready()]
        if self.state.skip_until_sync:
            return []
        try:
            if isinstance(msg, m.Parse):
                return self._parse(msg)
            if isinstance(msg, m.Bind):
                return self._bind(msg)
            if isinstance(msg, m.Describe):
                return self._describe(msg)
            if isinstance(msg, m.Execute):
                return self._execute(msg)
            if isinstance(msg, m.Close):
                return self._close(msg)
            if isinstance(msg, m.Flush):
                return []
            if isinstance(msg, m.CopyData | m.CopyDone | m.CopyFail):
                return []  # stray COPY data outside COPY is ignored, as Postgres does
            raise ProtocolViolation(f"unexpected message {type(msg).__name__}")
        except PgError as e:
            self.state.skip_until_sync = True
            return [m.ErrorResponse(m.error_fields(e)).encode()]
        except Exception as e:  # noqa: BLE001 - any bug becomes XX000, the connection lives
            self.state.skip_until_sync = True
            return [m.ErrorResponse(m.error_fields(_unexpected(e))).encode()]

    def handle_error(self, err: PgError) -> Out:
        """A message body the codec rejected (the frame was consumed): error, then skip."""
        self.state.skip_until_sync = True
        return [m.ErrorResponse(m.error_fields(err)).encode()]

    # ------------------------------------------------------------------- COPY
    def _copy_message(self, msg: object) -> Out:
        """A message in copy-in mode."""
        st = self.state.copy_in
        assert st is not None and self.session is not None
        try:
            if isinstance(msg, m.CopyData):
                st.copy.feed(msg.data)
                return []
            if isinstance(msg, m.CopyDone):
                r = st.copy.finish()
            elif isinstance(msg, m.CopyFail):
                return self._copy_failed(st.copy.fail(msg.message))
            elif isinstance(msg, m.Sync | m.Flush):
                return []  # libpq sends Sync right after Execute, not knowing it was a COPY
            else:
                code = _MESSAGE_TYPES.get(type(msg), ord("?"))
                err = ProtocolViolation(
                    f"unexpected message type 0x{code:02X} during COPY from stdin"
                )
                st.copy.abort(err)
                return self._copy_failed(err)
        except PgError as e:
            return self._copy_failed(e)
        except Exception as e:  # noqa: BLE001 - a bug becomes XX000; the COPY is abandoned
            st.copy.abort()
            return self._copy_failed(_unexpected(e))
        self.state.copy_in = None
        out: Out = [m.CommandComplete(r.tag).encode()]
        if st.extended:
            portal = self.state.portals.get(st.portal or "")
            if portal is not None:
                portal.result = Result(tag=r.tag)
            return out
        rest = st.copy
        out += self._run_simple(lambda: self.session.execute_trees(rest.rest, rest.rest_sql))
        return out

    def _copy_failed(self, e: PgError) -> Out:
        """End copy-in mode after an error (later copy messages are dropped as strays)."""
        st = self.state.copy_in
        self.state.copy_in = None
        out: Out = [m.ErrorResponse(m.error_fields(e)).encode()]
        if st is not None and st.extended:
            self.state.skip_until_sync = True
            if st.portal is not None:
                self.state.portals.pop(st.portal, None)
            return out
        assert self.session is not None
        out += self._parameter_status()
        out.append(self._ready())
        return out

    @staticmethod
    def _copy_in_response(cin: CopyIn) -> bytes:
        fmt = cin.format_code
        return m.CopyInResponse(fmt, [fmt] * cin.column_count).encode()

    # ------------------------------------------------------------- simple query
    def _simple_query(self, sql: str) -> Out:
        assert self.session is not None
        session = self.session
        return self._run_simple(lambda: session.execute(sql), empty_response=True)

    def _run_simple(self, run: Callable[[], list[Result]], empty_response: bool = False) -> Out:
        """Statements of a simple Query: their messages, then ReadyForQuery (unless a COPY
        FROM STDIN starts: then CopyInResponse, and the rest waits for CopyDone)."""
        assert self.session is not None
        out: Out = []
        results: list[Result] = []
        try:
            results = run()
        except PgError as e:
            for r in getattr(e, "results", []):
                out += self._result_messages(r, None, describe=True)
            out.append(m.ErrorResponse(m.error_fields(e)).encode())
        except Exception as e:  # noqa: BLE001
            out.append(m.ErrorResponse(m.error_fields(_unexpected(e))).encode())
        else:
            if not results and empty_response:
                out.append(m.EmptyQueryResponse().encode())
            for r in results:
                if r.copy_in is not None:
                    out += [self._notice(n) for n in r.notices]
                    out.append(self._copy_in_response(r.copy_in))
                    self.state.copy_in = CopyInState(r.copy_in, extended=False)
                    return out
                out += self._result_messages(r, None, describe=True)
        out += self._parameter_status()
        out.append(self._ready())
        return out

    def _parameter_status(self) -> Out:
        assert self.session is not None
        return [m.ParameterStatus(k, v).encode() for k, v in self.session.settings.take_reported()]

    def _result_messages(self, r: Result, formats: list[int] | None, describe: bool) -> Out:
        self._apply_deallocate(r)
        out: Out = [self._notice(n) for n in r.notices]
        if r.copy_out is not None:
            return out + _copy_out_messages(r)
        if r.columns is not None:
            if describe:
                out.append(self._row_description(r, formats))
            encs = self._encoders(r, formats)
            out.append(m.encode_data_rows(_encode_rows(r.rows, encs)))
        if r.tag:
            out.append(m.CommandComplete(r.tag).encode())
        else:
            out.append(m.EmptyQueryResponse().encode())
        return out

    def _apply_deallocate(self, r: Result) -> None:
        if r.deallocate == "ALL":
            unnamed = self.state.statements.get("")
            self.state.statements = {} if unnamed is None else {"": unnamed}
        elif r.deallocate is not None:
            self.state.statements.pop(r.deallocate, None)

    @staticmethod
    def _notice(n: PgError) -> bytes:
        fields = m.error_fields(n)
        sev = "WARNING" if n.sqlstate in ("25001", "25P01") else "NOTICE"
        if n.severity in ("INFO", "LOG", "DEBUG"):
            sev = n.severity
        fields["S"] = sev
        fields["V"] = sev
        return m.NoticeResponse(fields).encode()

    @staticmethod
    def _formats(n: int, formats: list[int] | None) -> list[int]:
        if not formats:
            return [0] * n
        if len(formats) == 1:
            return formats * n
        if len(formats) != n:
            raise ProtocolViolation(
                f"bind message has {len(formats)} result formats but query has {n} columns"
            )
        return formats

    def _row_description(self, r: Result, formats: list[int] | None) -> bytes:
        assert r.columns is not None
        fmts = self._formats(len(r.columns), formats)
        fields = []
        for c, f in zip(r.columns, fmts, strict=True):
            fields.append(
                m.FieldDescription(
                    name=c.name,
                    table_oid=c.table_oid,
                    column_attr=c.attnum,
                    type_oid=c.type_oid,
                    type_size=_type_size(c.type_oid),
                    type_modifier=c.typmod,
                    format=f,
                )
            )
        return m.RowDescription(fields).encode()

    def _encoders(self, r: Result, formats: list[int] | None) -> list[Callable[[object], bytes]]:
        assert r.columns is not None
        fmts = self._formats(len(r.columns), formats)
        return [
            binary_encoder(c.type_oid) if f == 1 else text_encoder(c.type_oid)
            for c, f in zip(r.columns, fmts, strict=True)
        ]

    # ---------------------------------------------------------- extended query
    def _parse(self, msg: m.Parse) -> Out:
        assert self.session is not None
        if msg.name and msg.name in self.state.statements:
            raise PgError(f'prepared statement "{msg.name}" already exists', sqlstate="42P05")
        prep = self.session.prepare(msg.query, msg.param_oids)
        self.state.statements[msg.name] = prep
        return [m.ParseComplete().encode()]

    def _bind(self, msg: m.Bind) -> Out:
        prep = self.state.statements.get(msg.statement)
        if prep is None:
            raise InvalidSqlStatementName(f'prepared statement "{msg.statement}" does not exist')
        n = len(prep.param_oids)
        if len(msg.params) != n:
            raise ProtocolViolation(
                f"bind message supplies {len(msg.params)} parameters, but prepared statement "
                f'"{msg.statement}" requires {n}'
            )
        fmts = self._formats(n, list(msg.param_formats)) if n else []
        params = [
            decode_param(oid, f, data)
            for oid, f, data in zip(prep.param_oids, fmts, msg.params, strict=True)
        ]
        if msg.portal and msg.portal in self.state.portals:
            raise PgError(f'cursor "{msg.portal}" already exists', sqlstate="42P03")
        self.state.portals[msg.portal] = Portal(
            prep, params, list(msg.result_formats), statement=msg.statement
        )
        return [m.BindComplete().encode()]

    def _run_portal(self, portal: Portal) -> Result:
        assert self.session is not None
        if portal.result is None:
            prep = portal.prepared
            if prep.tree is not None:
                name = portal.statement or "<unnamed>"
                self.session.log_statement(f"execute {name}", prep.sql, [prep.tree])
            portal.result = self.session.execute_prepared(prep, portal.params)
        return portal.result

    def _describe(self, msg: m.Describe) -> Out:
        assert self.session is not None
        if msg.kind == "S":
            prep = self.state.statements.get(msg.name)
            if prep is None:
                raise InvalidSqlStatementName(f'prepared statement "{msg.name}" does not exist')
            oids = [o if o else 25 for o in prep.param_oids]
            out = [m.ParameterDescription(oids).encode()]
            r = self._dry_run(prep)
            if r is None or r.columns is None:
                out.append(m.NoData().encode())
            else:
                out.append(self._row_description(r, None))
            return out
        portal = self.state.portals.get(msg.name)
        if portal is None:
            # a cursor DECLAREd in SQL is a portal too (psycopg's server cursors describe it)
            columns = self.session.cursor_columns(msg.name)
            if columns is None:
                raise InvalidCursorName(f'portal "{msg.name}" does not exist')
            return [self._row_description(Result(tag="", columns=columns), None)]
        if isinstance(portal.prepared.tree, CopyStatement):
            return [m.NoData().encode()]  # COPY runs at Execute, never at Describe
        r = self._run_portal(portal)
        if r.columns is None:
            return [m.NoData().encode()]
        return [self._row_description(r, portal.result_formats)]

    def _dry_run(self, prep: Prepared) -> Result | None:
        """Columns of a query statement, found by running it with NULL parameters."""
        assert self.session is not None
        tree = prep.tree
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete):
            return self._returning_columns(tree)
        if not isinstance(tree, exp.Select | exp.SetOperation | exp.Values | exp.Show):
            return None
        try:
            return self.session.execute_prepared(prep, [None] * len(prep.param_oids))
        except PgError:
            if self.session.in_block:
                raise
            return None

    def _returning_columns(self, tree: exp.Expression) -> Result | None:
        """Columns of INSERT/UPDATE/DELETE ... RETURNING, without running it: the RETURNING
        list selected from the target table with no rows (`WHERE false`)."""
        assert self.session is not None
        returning = tree.args.get("returning")
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if returning is None or not isinstance(table, exp.Table):
            return None
        items = [e.copy() for e in returning.expressions]
        if any(e.find(exp.Parameter) for e in items):
            return None
        query = exp.select(*items).from_(table.copy()).where(exp.false())
        try:
            return self.session.run(query, query.sql(dialect="postgres"))
        except PgError:
            if self.session.in_block:
                raise
            return None

    def _execute(self, msg: m.Execute) -> Out:
        portal = self.state.portals.get(msg.portal)
        if portal is None:
            raise InvalidCursorName(f'portal "{msg.portal}" does not exist')
        first = portal.result is None
        r = self._run_portal(portal)
        if first:
            self._apply_deallocate(r)
        out: Out = [self._notice(n) for n in r.notices] if first else []
        if r.copy_in is not None:
            if not first:  # a finished COPY's portal is replaced; this one failed
                raise InvalidCursorName(f'portal "{msg.portal}" cannot be run')
            out.append(self._copy_in_response(r.copy_in))
            self.state.copy_in = CopyInState(r.copy_in, extended=True, portal=msg.portal)
            return out
        if r.copy_out is not None:
            out += _copy_out_messages(r)
            portal.result = Result(tag=r.tag)
            return out
        if r.columns is None:
            out.append(
                m.CommandComplete(r.tag).encode() if r.tag else m.EmptyQueryResponse().encode()
            )
            out += self._parameter_status()
            return out
        if portal.encoders is None:
            portal.encoders = self._encoders(r, portal.result_formats)
        end = len(r.rows) if msg.max_rows <= 0 else min(len(r.rows), portal.pos + msg.max_rows)
        out.append(m.encode_data_rows(_encode_rows(r.rows[portal.pos : end], portal.encoders)))
        sent = end - portal.pos
        portal.pos = end
        if msg.max_rows > 0 and end < len(r.rows):
            out.append(m.PortalSuspended().encode())
        else:
            verb = r.tag.split(" ")[0]
            tag = f"{verb} {sent}" if verb == "SELECT" else r.tag
            out.append(m.CommandComplete(tag).encode())
        return out

    def _close(self, msg: m.Close) -> Out:
        if msg.kind == "S":
            self.state.statements.pop(msg.name, None)
        else:
            self.state.portals.pop(msg.name, None)
        return [m.CloseComplete().encode()]


_MESSAGE_TYPES: dict[type, int] = {
    m.Query: ord("Q"),
    m.Parse: ord("P"),
    m.Bind: ord("B"),
    m.Describe: ord("D"),
    m.Execute: ord("E"),
    m.Close: ord("C"),
    m.FunctionCall: ord("F"),
}


def _copy_out_messages(r: Result) -> Out:
    """CopyOutResponse, the CopyData rows, CopyDone, CommandComplete."""
    co = r.copy_out
    assert co is not None
    frames = bytearray(m.CopyOutResponse(co.format, [co.format] * co.column_count).encode())
    pack = _I32.pack
    for chunk in co.chunks:
        frames += b"d"
        frames += pack(len(chunk) + 4)
        frames += chunk
    frames += m.CopyDone().encode()
    frames += m.CommandComplete(r.tag).encode()
    return [bytes(frames)]


def _encode_rows(
    rows: list[tuple], encoders: list[Callable[[object], bytes]]
) -> list[list[bytes | None]]:
    return [
        [None if v is None else enc(v) for v, enc in zip(row, encoders, strict=True)]
        for row in rows
    ]


_SIZES = {16: 1, 20: 8, 21: 2, 23: 4, 26: 4, 700: 4, 701: 8, 1082: 4, 1114: 8, 1184: 8, 2950: 16}


def _type_size(oid: int) -> int:
    return _SIZES.get(oid, -1)


def _unexpected(e: Exception) -> PgError:
    """An exception no layer turned into a PgError: DuckDB's get their SQLSTATE (a query a
    CancelRequest interrupted outside the usual paths is still 57014), others are XX000."""
    if isinstance(e, duckdb.Error):
        return translate(e)
    return PgError(f"internal error: {e!r}")
