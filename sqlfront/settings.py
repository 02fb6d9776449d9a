"""Session settings (GUCs): SET / SHOW / RESET semantics and the ParameterStatus set.

Owns: the known parameters with their defaults and Postgres's spelling (SHOW's column name),
validation of the few values we interpret (client_encoding, hnsw.ef_search, vecgres.*),
and which parameters are reported to the client (ParameterStatus) when they change.
Custom dotted names (`myapp.x`) are accepted as in Postgres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import FeatureNotSupported, InvalidParameterValue, UndefinedObject

SERVER_VERSION = "15.8"
SERVER_VERSION_NUM = "150008"

# canonical name -> default value
DEFAULTS: dict[str, str] = {
    "application_name": "",
    "client_encoding": "UTF8",
    "server_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "TimeZone": "UTC",
    "integer_datetimes": "on",
    "is_superuser": "on",
    "session_authorization": "postgres",
    "standard_conforming_strings": "on",
    "server_version": SERVER_VERSION,
    "server_version_num": SERVER_VERSION_NUM,
    "search_path": '"$user", public',
    "extra_float_digits": "1",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "default_transaction_isolation": "read committed",
    "transaction_isolation": "read committed",
    "default_transaction_read_only": "off",
    "transaction_read_only": "off",
    "max_identifier_length": "63",
    "max_index_keys": "32",
    "block_size": "8192",
    "bytea_output": "hex",
    "client_min_messages": "notice",
    "synchronous_commit": "on",
    "enable_indexscan": "on",
    "enable_seqscan": "on",
    "jit": "off",
    "work_mem": "4MB",
    "max_parallel_workers_per_gather": "2",
    "row_security": "on",
    "log_statement": "none",
    "hnsw.ef_search": "40",
    "hnsw.iterative_scan": "off",
    "ivfflat.probes": "1",
    "vecgres.knn_strategy": "auto",
    "vecgres.oversampling": "",  # empty: the table's option
    "vecgres.rescore": "",
}

REPORTED = (
    "application_name",
    "client_encoding",
    "DateStyle",
    "IntervalStyle",
    "TimeZone",
    "integer_datetimes",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
)

READ_ONLY = {
    "server_version",
    "server_version_num",
    "server_encoding",
    "integer_datetimes",
    "max_identifier_length",
    "is_superuser",
}

_CANON = {k.lower(): k for k in DEFAULTS}
_CANON["time zone"] = "TimeZone"
_CANON["timezone"] = "TimeZone"
_CANON["names"] = "client_encoding"


def canonical(name: str) -> str:
    low = name.lower()
    if low in _CANON:
        return _CANON[low]
    if "." in low:
        return low
    raise UndefinedObject(f'unrecognized configuration parameter "{name}"')


def table_option(name: str, value: str) -> str:
    """Validate a table option (CREATE TABLE ... WITH / ALTER TABLE ... SET)."""
    v = value.strip().lower()
    if name == "quantization":
        if v not in ("none", "int8", "binary"):
            raise InvalidParameterValue(
                f'invalid value for parameter "quantization": "{value}"',
                hint="Valid values are none, int8 and binary.",
            )
        return v
    if name in ("rescore", "autovacuum_enabled"):
        if v in ("on", "true", "yes", "1"):
            return "on"
        if v in ("off", "false", "no", "0"):
            return "off"
        raise InvalidParameterValue(f'parameter "{name}" requires a Boolean value')
    if name == "oversampling":
        try:
            f = float(v)
        except ValueError:
            f = float("nan")
        if not 1.0 <= f <= 1000.0:
            raise InvalidParameterValue(
                f'invalid value for parameter "oversampling": "{value}"',
                detail="Valid values are between 1 and 1000.",
            )
        return repr(f)
    if name == "storage":
        if v not in ("memmap", "memory"):
            raise InvalidParameterValue(
                f'invalid value for parameter "storage": "{value}"',
                hint="Valid values are memmap and memory.",
            )
        return v
    if name == "segment_rows":
        try:
            n = int(v)
        except ValueError:
            n = 0
        if not 16 <= n <= 1 << 30:
            raise InvalidParameterValue(
                f'invalid value for parameter "segment_rows": "{value}"',
                detail="Valid values are between 16 and 1073741824.",
            )
        return str(n)
    raise InvalidParameterValue(f'unrecognized parameter "{name}"')


_STRATEGIES = ("auto", "prefilter", "hnsw", "hnsw_postfilter", "exact")


LOG_STATEMENT_LEVELS = ("none", "ddl", "mod", "all")
# settings whose value is one of a list (Postgres's enum GUCs)
_ENUMS = {"vecgres.knn_strategy": _STRATEGIES, "log_statement": LOG_STATEMENT_LEVELS}


def _validate(name: str, value: str) -> str:
    if name == "client_encoding":
        if value.upper().replace("-", "") not in ("UTF8", "UNICODE"):
            raise FeatureNotSupported(f'client_encoding "{value}" is not supported; use UTF8')
        return "UTF8"
    if name in ("hnsw.ef_search",):
        try:
            n = int(value)
        except ValueError:
            raise InvalidParameterValue(
                f'invalid value for parameter "{name}": "{value}"'
            ) from None
        if not 1 <= n <= 1000:
            raise InvalidParameterValue(
                f'{n} is outside the valid range for parameter "{name}" (1 .. 1000)'
            )
        return str(n)
    if name in _ENUMS:
        v = value.lower()
        if v not in _ENUMS[name]:
            raise InvalidParameterValue(
                f'invalid value for parameter "{name}": "{value}"',
                hint="Available values: " + ", ".join(_ENUMS[name]) + ".",
            )
        return v
    if name == "vecgres.oversampling":
        return str(table_option("oversampling", value))
    if name in ("enable_indexscan", "enable_seqscan", "jit", "vecgres.rescore"):
        v = value.lower()
        if v in ("on", "true", "yes", "1"):
            return "on"
        if v in ("off", "false", "no", "0"):
            return "off"
        raise InvalidParameterValue(f'parameter "{name}" requires a Boolean value')
    return value


@dataclass
class Settings:
    values: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))
    _txn_saved: dict[str, str] | None = None
    changed_reported: list[str] = field(default_factory=list)
    version: int = 0  # bumped by every change: keys the session's plan cache

    def get(self, name: str) -> str:
        key = canonical(name)
        if key not in self.values:
            raise UndefinedObject(f'unrecognized configuration parameter "{name}"')
        return self.values[key]

    def set(self, name: str, value: str | None, local: bool = False, in_txn: bool = False) -> None:
        key = canonical(name)
        if key in READ_ONLY:
            raise PgErrorCantChange(f'parameter "{key}" cannot be changed')
        new = DEFAULTS.get(key, "") if value is None else _validate(key, value)
        if in_txn and self._txn_saved is None:
            self._txn_saved = dict(self.values)
        if local and not in_txn:
            return  # SET LOCAL outside a transaction has no effect (Postgres warns)
        self.values[key] = new
        self.version += 1
        if key in REPORTED:
            self.changed_reported.append(key)

    def reset_all(self) -> None:
        self.version += 1
        for k, v in DEFAULTS.items():
            if k not in READ_ONLY and self.values.get(k) != v:
                self.values[k] = v
                if k in REPORTED:
                    self.changed_reported.append(k)
        for k in [k for k in self.values if k not in DEFAULTS]:
            del self.values[k]

    def begin(self) -> None:
        self._txn_saved = None

    def end_transaction(self, committed: bool) -> None:
        if self._txn_saved is not None and not committed:
            for k, v in self._txn_saved.items():
                if self.values.get(k) != v and k in REPORTED:
                    self.changed_reported.append(k)
            self.values = self._txn_saved
            self.version += 1
        self._txn_saved = None

    def take_reported(self) -> list[tuple[str, str]]:
        out = [(k, self.values[k]) for k in dict.fromkeys(self.changed_reported)]
        self.changed_reported.clear()
        return out


class PgErrorCantChange(InvalidParameterValue):
    sqlstate = "55P02"
