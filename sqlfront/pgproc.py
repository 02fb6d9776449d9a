"""pg_proc rows for pgvector 0.8.0's functions, so `\\df`, `\\df *distance*` and drivers that
read pg_proc see them (the functions themselves live in `sqlfront.vectors` / the binder).

Owns `FUNCTIONS` (name, argument types, result type, kind, C symbol) as pgvector's
`vector--0.8.0.sql` declares them (in schema `public`, language C, immutable, strict,
parallel safe), `proc_rows()` in `pg_proc`'s column order and `format_rows()`: the text
`pg_get_function_result` / `pg_get_function_arguments` give for each.  OIDs are fixed, in
16200-16383 (below pgvector's extension OID 16384 and our catalog's 16400+).
Must not: import the engine or run anything.
"""

from __future__ import annotations

from sqlfront import pgtypes as pt

FIRST_OID = 16200
C_LANGUAGE = 13
PUBLIC_NS = 2200
OWNER = 10

# pseudo types pgvector's I/O and support functions take
CSTRING = 2275
INTERNAL = 2281
INDEX_AM_HANDLER = 325
CSTRING_ARRAY = 1263
BIT = 1560
OID = pt.OID_OID

V, H, S = pt.VECTOR_OID, pt.HALFVEC_OID, pt.SPARSEVEC_OID
F8, I4, B = pt.FLOAT8_OID, pt.INT4_OID, pt.BOOL_OID
F8A = pt.FLOAT8_ARRAY_OID
CASTS_FROM_ARRAYS = (pt.INT4_ARRAY_OID, pt.FLOAT4_ARRAY_OID, F8A, pt.NUMERIC_ARRAY_OID)


def _functions() -> list[tuple[str, tuple[int, ...], int, str, str]]:
    """(proname, argument type OIDs, result type OID, prokind, C symbol), pgvector 0.8.0."""
    out: list[tuple[str, tuple[int, ...], int, str, str]] = []

    def f(name: str, args: tuple[int, ...], ret: int, src: str | None = None) -> None:
        out.append((name, args, ret, "f", src or name))

    for t, tn in ((V, "vector"), (H, "halfvec"), (S, "sparsevec")):
        f(f"{tn}_in", (CSTRING, OID, I4), t)
        f(f"{tn}_out", (t,), CSTRING)
        f(f"{tn}_typmod_in", (CSTRING_ARRAY,), I4)
        f(f"{tn}_recv", (INTERNAL, OID, I4), t)
        f(f"{tn}_send", (t,), pt.BYTEA_OID)
    # distances and accessors of each type (the C symbols of halfvec/sparsevec are prefixed)
    for t, pre in ((V, ""), (H, "halfvec_"), (S, "sparsevec_")):
        for name in ("l2_distance", "inner_product", "cosine_distance", "l1_distance"):
            f(name, (t, t), F8, pre + name)
    f("vector_dims", (V,), I4)
    f("vector_dims", (H,), I4, "halfvec_vector_dims")
    f("vector_norm", (V,), F8)
    f("l2_norm", (H,), F8, "halfvec_l2_norm")
    f("l2_norm", (S,), F8, "sparsevec_l2_norm")
    f("l2_normalize", (V,), V)
    f("l2_normalize", (H,), H, "halfvec_l2_normalize")
    f("l2_normalize", (S,), S, "sparsevec_l2_normalize")
    f("binary_quantize", (V,), BIT)
    f("binary_quantize", (H,), BIT, "halfvec_binary_quantize")
    f("subvector", (V, I4, I4), V)
    f("subvector", (H, I4, I4), H, "halfvec_subvector")
    f("hamming_distance", (BIT, BIT), F8)
    f("jaccard_distance", (BIT, BIT), F8)
    for t, tn in ((V, "vector"), (H, "halfvec")):
        for op in ("add", "sub", "mul", "concat"):
            f(f"{tn}_{op}", (t, t), t)
    for t, tn in ((V, "vector"), (H, "halfvec"), (S, "sparsevec")):
        for op in ("lt", "le", "eq", "ne", "ge", "gt"):
            f(f"{tn}_{op}", (t, t), B)
        f(f"{tn}_cmp", (t, t), I4)
        f(f"{tn}_l2_squared_distance", (t, t), F8)
        f(f"{tn}_negative_inner_product", (t, t), F8)
    f("vector_spherical_distance", (V, V), F8)
    f("halfvec_spherical_distance", (H, H), F8)
    f("vector_accum", (F8A, V), F8A)
    f("halfvec_accum", (F8A, H), F8A)
    f("vector_avg", (F8A,), V)
    f("halfvec_avg", (F8A,), H)
    f("vector_combine", (F8A, F8A), F8A)
    # casts
    f("vector", (V, I4, B), V)
    f("halfvec", (H, I4, B), H)
    f("sparsevec", (S, I4, B), S)
    for arr in CASTS_FROM_ARRAYS:
        f("array_to_vector", (arr, I4, B), V)
        f("array_to_halfvec", (arr, I4, B), H)
        f("array_to_sparsevec", (arr, I4, B), S)
    f("vector_to_float4", (V, I4, B), pt.FLOAT4_ARRAY_OID)
    f("halfvec_to_float4", (H, I4, B), pt.FLOAT4_ARRAY_OID)
    f("vector_to_halfvec", (V, I4, B), H)
    f("halfvec_to_vector", (H, I4, B), V)
    f("vector_to_sparsevec", (V, I4, B), S)
    f("sparsevec_to_vector", (S, I4, B), V)
    f("halfvec_to_sparsevec", (H, I4, B), S)
    f("sparsevec_to_halfvec", (S, I4, B), H)
    # access methods and their support functions
    f("ivfflathandler", (INTERNAL,), INDEX_AM_HANDLER)
    f("hnswhandler", (INTERNAL,), INDEX_AM_HANDLER)
    f("ivfflat_halfvec_support", (INTERNAL,), INTERNAL)
    f("ivfflat_bit_support", (INTERNAL,), INTERNAL)
    f("hnsw_halfvec_support", (INTERNAL,), INTERNAL)
    f("hnsw_bit_support", (INTERNAL,), INTERNAL)
    f("hnsw_sparsevec_support", (INTERNAL,), INTERNAL)
    # aggregates
    out.append(("avg", (V,), V, "a", "aggregate_dummy"))
    out.append(("avg", (H,), H, "a", "aggregate_dummy"))
    out.append(("sum", (V,), V, "a", "aggregate_dummy"))
    out.append(("sum", (H,), H, "a", "aggregate_dummy"))
    return out


FUNCTIONS = _functions()
assert FIRST_OID + len(FUNCTIONS) <= 16384, "pg_proc OIDs would reach pgvector's"


def proc_rows() -> list[tuple]:
    """pg_proc rows, in `pgcatalog.COLUMNS['pg_proc']` order."""
    rows = []
    for i, (name, args, ret, kind, src) in enumerate(FUNCTIONS):
        internal_lang = kind == "a"
        # handlers and support functions are declared `LANGUAGE C` only: volatile, not strict,
        # parallel unsafe; everything else `IMMUTABLE STRICT PARALLEL SAFE`
        plain = ret in (INDEX_AM_HANDLER, INTERNAL)
        rows.append(
            (
                FIRST_OID + i,
                name,
                PUBLIC_NS,
                OWNER,
                12 if internal_lang else C_LANGUAGE,
                1.0,
                0.0,
                0,
                "-",
                kind,
                False,
                False,
                kind != "a" and not plain,
                False,
                "v" if plain else "i",
                "u" if plain else "s",
                len(args),
                0,
                ret,
                list(args),
                None,
                None,
                None,
                None,
                None,
                src,
                None if internal_lang else "$libdir/vector",
                None,
                None,
                None,
            )
        )
    return rows


def format_rows(format_type: object) -> list[tuple[int, str, str]]:
    """(oid, result text, argument text) with `format_type(oid) -> str` naming the types."""
    out = []
    for i, (_name, args, ret, _kind, _src) in enumerate(FUNCTIONS):
        names = [format_type(a) or "???" for a in args]  # type: ignore[operator]
        out.append((FIRST_OID + i, format_type(ret) or "???", ", ".join(names)))  # type: ignore[operator]
    return out
