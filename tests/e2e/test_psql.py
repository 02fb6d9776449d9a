"""psql, as people type it: a script's whole output is compared to a checked-in file."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_psql

HERE = Path(__file__).parent / "psql"


def test_psql_script_matches_expected(server):
    out = run_psql(server, "-a", "-f", "basic.sql", cwd=HERE, merge_stderr=True).stdout
    expected = (HERE / "basic.out").read_text()
    assert out == expected


def test_psql_connects_and_reports_server(server):
    res = run_psql(server, "-tA", "-c", "SHOW server_version", "-c", "SELECT 1 + 1")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["15.8", "2"]
    assert "WARNING" not in res.stderr
