"""psql, as people type it: a script's whole output is compared to a checked-in file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).parent / "psql"


def test_psql_script_matches_expected(server):
    env = dict(os.environ, PSQLRC="/dev/null", PGTZ="UTC", PGCONNECT_TIMEOUT="10")
    out = subprocess.run(
        [
            "psql",
            "-X",
            "-a",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-f",
            "basic.sql",
        ],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    expected = (HERE / "basic.out").read_text()
    assert out == expected


def test_psql_connects_and_reports_server(server):
    env = dict(os.environ, PSQLRC="/dev/null", PGCONNECT_TIMEOUT="10")
    res = subprocess.run(
        [
            "psql",
            "-X",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-tA",
            "-c",
            "SHOW server_version",
            "-c",
            "SELECT 1 + 1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["15.8", "2"]
    assert "WARNING" not in res.stderr
