"""Process memory hygiene for a long-running server: glibc's allocator settings and trimming.

Owns: capping glibc's malloc arenas (each thread of the query pool would otherwise get its own
arena, and memory freed in one is never handed back to the system: a COPY of 1M rows left
~100 MB of such free-but-held memory) and `trim`, which returns freed heap pages to the
system after a large statement or an optimizer pass.  No-ops where glibc is not the libc.

Must not: know anything about databases.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("vecgres")
_M_ARENA_MAX = -8

try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc.malloc_trim  # noqa: B018 - glibc only
    _libc.mallopt  # noqa: B018
except (OSError, AttributeError):
    _libc = None


def limit_arenas(n: int = 2) -> None:
    """Cap glibc malloc arenas (call before the thread pool starts)."""
    if _libc is not None:
        _libc.mallopt(_M_ARENA_MAX, n)


def trim() -> None:
    """Hand freed heap memory back to the system."""
    if _libc is not None:
        _libc.malloc_trim(0)
