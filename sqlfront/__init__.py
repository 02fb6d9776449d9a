"""SQL front end: dialect, binding, sessions, catalog emulation, and `connect()`."""

from sqlfront.dbapi import connect

__all__ = ["connect"]
