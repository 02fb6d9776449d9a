"""pgjdbc against vecgres: `jdbc/VecgresJdbc.java` is compiled with `javac` and run with
`java` against the real server, and its printed facts are checked.

The program prepares statements executed 8-10 times (pgjdbc's prepareThreshold is 5: from the
fifth run on it uses a named server-side statement and binary results), reads a query through
a `setFetchSize` cursor with autocommit off (a portal fetched 3 rows at a time), and lists the
table through `DatabaseMetaData` (getTables/getColumns/getPrimaryKeys/getIndexInfo/getTypeInfo/
getSchemas/getCatalogs/getImportedKeys/getFunctions), whose queries read pg_catalog,
pg_settings and `information_schema._pg_expandarray`.

The driver is Debian's libpostgresql-jdbc-java (/usr/share/java/postgresql.jar), or the
42.7.13 jar of a local Maven repository; scripts/test.sh installs the Debian one when missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ServerProc

SOURCE = Path(__file__).parent / "jdbc" / "VecgresJdbc.java"
JARS = [
    Path("/usr/share/java/postgresql.jar"),
    Path.home() / ".m2/repository/org/postgresql/postgresql/42.7.13/postgresql-42.7.13.jar",
]
TABLE = "jdbc_items"


def _jar() -> Path:
    for jar in JARS:
        if jar.exists():
            return jar
    raise AssertionError(f"no pgjdbc jar at any of {JARS}: run scripts/test.sh")


@pytest.fixture(scope="module")
def jdbc_output(server: ServerProc, tmp_path_factory: pytest.TempPathFactory) -> dict:
    javac, java = shutil.which("javac"), shutil.which("java")
    assert javac and java, "javac/java missing: run scripts/test.sh"
    jar = _jar()
    build = tmp_path_factory.mktemp("jdbc")
    subprocess.run(
        [javac, "-cp", str(jar), "-d", str(build), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    url = f"jdbc:postgresql://{server.host}:{server.port}/postgres"
    proc = subprocess.run(
        [java, "-cp", f"{jar}:{build}", "VecgresJdbc", url, TABLE],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    facts: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(": ")
        facts.setdefault(key, []).append(value)
    return facts


def test_jdbc_connects_and_reports_postgres(jdbc_output: dict) -> None:
    assert jdbc_output["product"][0].startswith("PostgreSQL 15")
    assert "done" in jdbc_output


def test_jdbc_prepared_knn_stays_correct_after_server_prepare(jdbc_output: dict) -> None:
    # runs 0-4 are unnamed statements, 5-7 named ones with binary results: same rows
    expected = "3/doc 3/0.0000;2/doc 2/3.7417;4/doc 4/3.7417;"
    assert [jdbc_output[f"knn{i}"][0] for i in range(8)] == [expected] * 8
    assert jdbc_output["server_prepared"] == ["true"]


def test_jdbc_prepared_aggregate_with_int_parameter(jdbc_output: dict) -> None:
    for n in range(1, 8):
        assert jdbc_output[f"count{n}"] == [f"{n} {n * (n + 1) // 2}"]


def test_jdbc_fetch_size_cursor(jdbc_output: dict) -> None:
    assert jdbc_output["cursor"] == ["1,2,3,4,5,6,7,8,9,10,"]
    assert jdbc_output["cursor_last_vec"] == ["[10,20,30]"]


def test_jdbc_metadata_catalogs_schemas_tables(jdbc_output: dict) -> None:
    assert "postgres" in jdbc_output["catalog"]  # the shared server may hold other databases
    assert {"public", "pg_catalog", "information_schema"} <= set(jdbc_output["schema"])
    assert f"public.{TABLE} TABLE" in jdbc_output["table"]


def test_jdbc_metadata_columns_with_vector(jdbc_output: dict) -> None:
    # java.sql.Types: BIGINT -5, VARCHAR 12 (text), OTHER 1111 (vector)
    assert jdbc_output["column"] == [
        "id int8 -5 1 NO",
        "title text 12 2 YES",
        "embedding vector 1111 3 YES",
    ]


def test_jdbc_metadata_primary_key_and_indexes(jdbc_output: dict) -> None:
    assert jdbc_output["pk"] == [f"id 1 {TABLE}_pkey"]
    assert jdbc_output["index"] == [
        f"{TABLE}_pkey id false",
        f"{TABLE}_emb_idx embedding true",
    ]


def test_jdbc_metadata_type_info(jdbc_output: dict) -> None:
    assert int(jdbc_output["typeinfo_count"][0]) > 50
    assert jdbc_output["typeinfo_vector"] == ["true"]
    assert jdbc_output["typeinfo_int8"] == ["true"]


def test_jdbc_metadata_keys_and_functions(jdbc_output: dict) -> None:
    # getImportedKeys reads pg_settings' max_index_keys and pg_constraint (no foreign keys)
    assert jdbc_output["imported_keys"] == ["0"]
    # l2_distance(vector, vector), (halfvec, halfvec), (sparsevec, sparsevec) in pg_proc
    assert jdbc_output["function"] == ["public.l2_distance"] * 3


def test_jdbc_result_set_metadata_knows_base_columns(jdbc_output: dict) -> None:
    # ResultSetMetaData.isNullable: 0 no nulls, 1 nullable, 2 unknown (a computed column)
    assert jdbc_output["rsmd"] == [
        f"id int8 {TABLE} 0",
        f"title text {TABLE} 1",
        f"embedding vector {TABLE} 1",
        "x int8  2",
    ]
