"""node-postgres (`pg`, `pg-cursor`) against the real server: tests/clients/node/knn.js runs a
parameterized kNN query and reads a pg-cursor in batches (Execute with a row limit, Flush,
PortalSuspended), and prints JSON that this test checks.  Its npm dependencies are installed
into tests/clients/node/node_modules (`npm ci`) when missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ServerProc

NODE_DIR = Path(__file__).resolve().parent / "node"


def _ensure_node_modules() -> None:
    if (NODE_DIR / "node_modules" / "pg-cursor" / "package.json").exists():
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm is needed (scripts/test.sh installs nodejs and npm)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600)


def test_node_pg_knn_and_cursor(server: ServerProc) -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed (scripts/test.sh installs nodejs)"
    _ensure_node_modules()
    env = dict(os.environ, PGHOST=server.host, PGPORT=str(server.port))
    proc = subprocess.run(
        [node, "knn.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # ORDER BY embedding <-> $1 LIMIT 5 with $1 = [4.2,1,0]: rows i have [i,1,0]
    assert [r["id"] for r in out["knn"]] == [4, 5, 3, 6, 2]
    assert [r["label"] for r in out["knn"]][:2] == ["item 4", "item 5"]
    assert out["knn"][0]["embedding"] == "[4,1,0]"
    for r in out["knn"]:
        assert abs(r["distance"] - abs(4.2 - r["id"])) < 1e-5
    assert out["knnFields"] == [["id", 23], ["label", 25], ["embedding", 16385], ["distance", 701]]
    # WHERE id >= $1 ORDER BY embedding <=> $2 LIMIT $3: larger i is closer to [1,0,0]
    assert out["filtered"] == [11, 10, 9]
    # a named statement run twice with other vectors (rowMode: "array")
    assert out["named"] == [[11, 10], [0, 1]]
    # pg-cursor read(5) until empty
    assert out["batches"] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10]]
    assert out["error"] == "42P01"
    assert out["after"] == 12
