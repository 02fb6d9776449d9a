"""The one exception hierarchy of vecgres: every error a client can see carries a SQLSTATE.

Owns: `PgError` and its subclasses (one per SQLSTATE class we raise), plus `SQLSTATE_CLASSES`
so that code can raise by SQLSTATE without picking a subclass.  The wire layer turns any
`PgError` into an ErrorResponse (fields S, V, C, M, D, H, P); anything else becomes `XX000`.
Lives in `engine` because every layer above may raise these (dependencies point down).
"""

from __future__ import annotations


class PgError(Exception):
    """An error with a Postgres SQLSTATE, a primary message and optional detail/hint/position."""

    sqlstate: str = "XX000"
    severity: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.position = position  # 1-based character offset into the query text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sqlstate}: {self.message!r})"


class FeatureNotSupported(PgError):
    sqlstate = "0A000"


class DataException(PgError):
    """Class 22: bad values (dimension mismatch 22000, malformed literal 22P02, ...)."""

    sqlstate = "22000"


class InvalidTextRepresentation(DataException):
    sqlstate = "22P02"


class BadCopyFileFormat(DataException):
    sqlstate = "22P04"


class IntegrityError(PgError):
    sqlstate = "23000"


class NotNullViolation(IntegrityError):
    sqlstate = "23502"


class UniqueViolation(IntegrityError):
    sqlstate = "23505"


class InvalidTransactionState(PgError):
    sqlstate = "25000"


class InFailedTransaction(InvalidTransactionState):
    sqlstate = "25P02"


class InvalidSqlStatementName(PgError):
    sqlstate = "26000"


class InvalidCursorName(PgError):
    sqlstate = "34000"


class InvalidCatalogName(PgError):
    """Unknown database (3D000)."""

    sqlstate = "3D000"


class ObjectInUse(PgError):
    sqlstate = "55006"


class DuplicateDatabase(PgError):
    sqlstate = "42P04"


class SerializationFailure(PgError):
    sqlstate = "40001"


class SyntaxError_(PgError):
    sqlstate = "42601"


class UndefinedColumn(PgError):
    sqlstate = "42703"


class UndefinedTable(PgError):
    sqlstate = "42P01"


class UndefinedObject(PgError):
    sqlstate = "42704"


class DuplicateTable(PgError):
    sqlstate = "42P07"


class DuplicateObject(PgError):
    sqlstate = "42710"


class UndefinedFunction(PgError):
    sqlstate = "42883"


class DatatypeMismatch(PgError):
    sqlstate = "42804"


class InvalidParameterValue(PgError):
    sqlstate = "22023"


class ProgramLimitExceeded(PgError):
    sqlstate = "54000"


class QueryCanceled(PgError):
    sqlstate = "57014"


class ProtocolViolation(PgError):
    sqlstate = "08P01"


class InternalError(PgError):
    sqlstate = "XX000"


def pg_error(sqlstate: str, message: str, **kw: object) -> PgError:
    """Build the most specific subclass for `sqlstate` (falling back on its two-letter class)."""
    cls = _BY_STATE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2]) or PgError
    return cls(message, sqlstate=sqlstate, **kw)  # type: ignore[arg-type]


def _all_subclasses(cls: type[PgError]) -> list[type[PgError]]:
    out: list[type[PgError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


_BY_STATE: dict[str, type[PgError]] = {c.sqlstate: c for c in _all_subclasses(PgError)}
_BY_CLASS: dict[str, type[PgError]] = {
    c.sqlstate[:2]: c for c in _all_subclasses(PgError) if c.sqlstate.endswith("000")
}
