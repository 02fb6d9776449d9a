"""Turning Python values (decoded parameters) into sqlglot literals, and literals into vectors.

Owns: `to_literal` (parameter substitution: `$n` becomes a typed literal; a vector parameter
keeps its decoded array in the literal's `meta`, so it is not formatted and re-parsed) and
`substitute_params`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Sequence

import numpy as np
from sqlglot import exp

from engine.errors import PgError, pg_error
from sqlfront.vectors import SparseVectorValue, format_sparsevec_text, sparse_value


def to_literal(value: object) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return exp.Literal.number(repr(value))
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return exp.cast(exp.Literal.string(text), "DOUBLE")
    if isinstance(value, decimal.Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, SparseVectorValue):
        lit = exp.Literal.string(format_sparsevec_text(value))
        lit.meta["vector"] = sparse_value(value)
        return lit
    if isinstance(value, np.ndarray):
        lit = exp.Literal.string("[" + ",".join(repr(float(x)) for x in value.tolist()) + "]")
        lit.meta["vector"] = np.asarray(value, dtype=np.float32)
        return lit
    if isinstance(value, list) and not any(isinstance(x, dict) for x in value):
        # an array parameter (int4[] ...): an array, so `col = ANY($1)` sees a list
        return exp.Array(expressions=[to_literal(x) for x in value])
    if isinstance(value, dict | list):
        return exp.Literal.string(json.dumps(value))
    if isinstance(value, bytes | bytearray | memoryview):
        text = "".join(f"\\x{b:02x}" for b in bytes(value))
        return exp.cast(exp.Literal.string(text), "BLOB")
    if isinstance(value, dt.datetime):
        to = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), to)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, dt.time):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIME")
    if isinstance(value, dt.timedelta):
        return exp.cast(exp.Literal.string(f"{value.total_seconds()} seconds"), "INTERVAL")
    if isinstance(value, uuid.UUID):
        return exp.cast(exp.Literal.string(str(value)), "UUID")
    raise pg_error("0A000", f"cannot bind a parameter of Python type {type(value).__name__}")


def substitute_params(tree: exp.Expression, params: Sequence[object]) -> exp.Expression:
    """Replace `$n` placeholders in `tree` (in place) by literals of `params`."""

    def repl(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter):
            inner = node.this
            if isinstance(inner, exp.Literal) and not inner.is_string:
                n = int(inner.this)
                if n < 1 or n > len(params):
                    raise PgError(f"there is no parameter ${n}", sqlstate="42P02")
                lit = to_literal(params[n - 1])
                lit.meta["param"] = n
                return lit
        return node

    return tree.transform(repl, copy=False)


def parameter_numbers(tree: exp.Expression) -> list[int]:
    out = []
    for node in tree.find_all(exp.Parameter):
        inner = node.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            out.append(int(inner.this))
    return out
