"""`vecgres serve`: the ready line, `--port 0`, and clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import signal

import psycopg
import pytest

from tests.conftest import start_server


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ready_line_and_clean_stop(tmp_path, sig):
    srv = start_server(tmp_path / "d")
    assert srv.port > 0
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)
        assert c.info.parameter_status("server_version") == "15.8"
        assert c.info.parameter_status("client_encoding") == "UTF8"
    assert srv.stop(sig) == 0
    assert (tmp_path / "d" / "postgres" / "scalars.duckdb").exists()
