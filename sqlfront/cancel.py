"""CancelRequest delivery: a cancel applies to the query cycle in flight, never to a later one.

A *query cycle* runs from the moment the client's message reaches us (a Query, or the first
message of an extended-protocol Parse/Bind/Execute/... Sync run) to the ReadyForQuery that
ends it.  The wire layer (`wire.server`, `wire.protocol`) opens the cycle when bytes arrive
(`begin_cycle`) and closes it at each ReadyForQuery (`end_cycle`); `request` takes a cancel
only while a cycle is open, or while the client's next message is already on its way (bytes
unread in the socket or buffered: the caller says so), and `end_cycle` drops the request, so a
cancel never outlives the cycle it targeted.

Delivery, race-free:
  * every statement body runs inside `statement()`: it raises 57014 at entry when the cycle is
    cancelled (a cancel that came before the query started) and at exit when the cancel came
    while it ran but nothing noticed it (a numpy kNN scan, an exception swallowed on the way);
  * DuckDB's `interrupt()` reaches only a query already running (DuckDB clears the flag when a
    query starts), so a single interrupt issued between the entry check and DuckDB's start would
    be lost: the transport calls `poke` repeatedly while a request is pending, and `poke`
    interrupts only while a statement body runs.  The body's exit takes the same lock, so no
    interrupt can land on what the session runs after the body (COMMIT, ROLLBACK, cleanup).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from engine.errors import QueryCanceled

CANCELED_MESSAGE = "canceling statement due to user request"


class CancelState:
    """One connection's cancel flag, query-cycle tracking and statement guard."""

    def __init__(self, interrupt: Callable[[], None]) -> None:
        self._interrupt = interrupt
        self._lock = threading.Lock()
        self._in_cycle = False  # a message was received and its ReadyForQuery is not sent yet
        self._requested = False  # a cancel targets the open cycle
        self._bodies = 0  # statement bodies running (nested statements count once each)

    # ----------------------------------------------------------------- the wire's side
    def begin_cycle(self) -> None:
        """Bytes of a client message arrived: a query cycle is open (or still open)."""
        with self._lock:
            self._in_cycle = True

    def end_cycle(self, more_queued: bool) -> None:
        """ReadyForQuery: the cycle ends and a pending cancel with it.  ``more_queued``: messages
        already received wait behind it, so the next cycle is open at once."""
        with self._lock:
            self._in_cycle = more_queued
            self._requested = False

    def request(self, input_pending: bool) -> bool:
        """A CancelRequest for this connection.  Taken (True) when a cycle is open or
        ``input_pending`` (the client's next message is on its way); ignored when idle."""
        with self._lock:
            if not (self._in_cycle or input_pending):
                return False
            self._in_cycle = True
            self._requested = True
            self._interrupt_running()
            return True

    def poke(self) -> bool:
        """Interrupt the running statement body, if any; False once the request is gone
        (the cycle ended), when the caller stops poking."""
        with self._lock:
            if not self._requested:
                return False
            self._interrupt_running()
            return True

    def reset(self) -> None:
        """The connection is closing: nothing is pending any more."""
        with self._lock:
            self._in_cycle = False
            self._requested = False

    # ------------------------------------------------------------- the session's side
    def is_set(self) -> bool:
        """Whether the open cycle was cancelled (COPY checks it between blocks)."""
        return self._requested

    def check(self) -> None:
        """Raise 57014 if the open cycle was cancelled."""
        if self._requested:
            raise QueryCanceled(CANCELED_MESSAGE)

    def statement(self) -> _Statement:
        """Run a statement body (``with cancel.statement(): ...``): 57014 at entry or exit when
        the cycle was cancelled; while the body runs, `poke` may interrupt DuckDB."""
        return _Statement(self)

    def _enter(self) -> None:
        with self._lock:
            if self._requested:
                raise QueryCanceled(CANCELED_MESSAGE)
            self._bodies += 1

    def _exit(self, ok: bool) -> None:
        with self._lock:
            self._bodies -= 1
            cancelled = self._requested
        if ok and cancelled:
            raise QueryCanceled(CANCELED_MESSAGE)

    def _interrupt_running(self) -> None:
        if self._bodies:
            try:
                self._interrupt()
            except Exception:  # noqa: BLE001 - a closed cursor: nothing left to interrupt
                pass


class _Statement:
    """The context manager of `CancelState.statement` (a class: a generator-based one costs
    a few microseconds per statement, measurable on cached kNN queries)."""

    __slots__ = ("_state",)

    def __init__(self, state: CancelState) -> None:
        self._state = state

    def __enter__(self) -> None:
        self._state._enter()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._state._exit(exc_type is None)
