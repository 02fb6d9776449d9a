"""psql's `\\df` (pgvector's functions from the emulated pg_proc), `\\dL`, `\\dF` and `\\dX`
against the real server.  Expected lines are what psql 15 prints for PostgreSQL 15 with
pgvector 0.8.0 (its functions in `public`, language C; `\\dL`, `\\dF`, `\\dX` as a fresh
Postgres 15 prints them)."""

from __future__ import annotations

from conftest import ServerProc, run_psql


def _psql(server: ServerProc, meta: str) -> str:
    out = run_psql(server, "-c", meta)
    assert out.returncode == 0, out.stderr
    assert "ERROR" not in out.stderr, out.stderr
    return out.stdout


def test_df_distance_pattern_lists_pgvector_functions(server: ServerProc) -> None:
    out = _psql(server, r"\df *distance*")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0].strip() == "List of functions"
    rows = [[c.strip() for c in line.split("|")] for line in lines[3:] if "|" in line]
    assert ["public", "l2_distance", "double precision", "vector, vector", "func"] in rows
    assert ["public", "cosine_distance", "double precision", "vector, vector", "func"] in rows
    assert ["public", "l1_distance", "double precision", "halfvec, halfvec", "func"] in rows
    assert ["public", "hamming_distance", "double precision", "bit, bit", "func"] in rows
    assert all("distance" in r[1] for r in rows)
    assert lines[-2] == f"({len(rows)} rows)"


def test_df_lists_vector_functions_and_aggregates(server: ServerProc) -> None:
    out = _psql(server, r"\df")
    rows = {
        tuple(c.strip() for c in line.split("|")) for line in out.splitlines()[3:] if "|" in line
    }
    for row in [
        ("public", "inner_product", "double precision", "vector, vector", "func"),
        ("public", "vector_dims", "integer", "vector", "func"),
        ("public", "vector_norm", "double precision", "vector", "func"),
        ("public", "l2_normalize", "vector", "vector", "func"),
        ("public", "subvector", "vector", "vector, integer, integer", "func"),
        ("public", "array_to_vector", "vector", "real[], integer, boolean", "func"),
        ("public", "vector_in", "vector", "cstring, oid, integer", "func"),
        ("public", "hnswhandler", "index_am_handler", "internal", "func"),
        ("public", "avg", "vector", "vector", "agg"),
        ("public", "sum", "vector", "vector", "agg"),
    ]:
        assert row in rows, row


def test_df_plus_shows_language_and_source(server: ServerProc) -> None:
    out = _psql(server, r"\df+ vector_dims")
    row = [
        [c.strip() for c in line.split("|")]
        for line in out.splitlines()
        if "| vector_dims |" in line and "| vector " in line
    ]
    assert row == [
        ["public", "vector_dims", "integer", "vector", "func", "immutable", "safe"]
        + ["postgres", "invoker", "", "c", "vector_dims", ""]
    ]


def test_dL_lists_plpgsql(server: ServerProc) -> None:
    out = _psql(server, r"\dL")
    assert out.splitlines()[3].split("|") == [
        " plpgsql ",
        " postgres ",
        " t       ",
        " PL/pgSQL procedural language",
    ]
    assert "(1 row)" in out


def test_dF_lists_text_search_configurations(server: ServerProc) -> None:
    out = _psql(server, r"\dF")
    assert " pg_catalog | english    | configuration for english language" in out
    assert " pg_catalog | simple     | simple configuration" in out
    assert "(29 rows)" in out


def test_dX_is_empty(server: ServerProc) -> None:
    out = _psql(server, r"\dX")
    assert out.splitlines()[0].strip() == "List of extended statistics"
    assert "Schema | Name | Definition | Ndistinct | Dependencies | MCV" in out
    assert "(0 rows)" in out


def test_dAf_lists_pgvector_operator_families(server: ServerProc) -> None:
    out = _psql(server, r"\dAf hnsw")
    rows = [[c.strip() for c in line.split("|")] for line in out.splitlines()[3:] if "|" in line]
    assert rows == [
        ["hnsw", "vector_cosine_ops", "vector"],
        ["hnsw", "vector_ip_ops", "vector"],
        ["hnsw", "vector_l2_ops", "vector"],
    ]


def test_other_meta_commands_do_not_error(server: ServerProc) -> None:
    # catalogs Postgres has but vecgres keeps empty: the commands print their empty lists
    for meta, title in [
        (r"\dAo", "List of operators of operator families"),
        (r"\dAp", "List of support functions of operator families"),
        (r"\ddp", "Default access privileges"),
        (r"\dl", "Large objects"),
        (r"\dRs", "List of subscriptions"),
        (r"\deu", "List of user mappings"),
        (r"\dd", "Object descriptions"),
    ]:
        out = _psql(server, meta)
        assert out.splitlines()[0].strip() == title, (meta, out)
        assert "(0 rows)" in out, (meta, out)
    tablespaces = _psql(server, r"\db+")
    assert " pg_default | postgres |" in tablespaces


def test_format_with_postgres_conversions(server: ServerProc) -> None:
    out = run_psql(
        server,
        "-At",
        "-c",
        "SELECT pg_catalog.format('%I.%I|%s|%L|%L|100%%', 'public', 'My T', NULL, 'it''s', NULL)",
    )
    assert out.stdout.strip() == "public.\"My T\"||'it''s'|NULL|100%"
