"""The README's CLI flow, as a user types it, against a real server and agent."""
import json
import os
import subprocess
import sys

import pytest

from tests.integration.harness import wait_for

pytestmark = pytest.mark.integration


def kadalu(cp, home, *args, ok=True):
    env = {**os.environ, "KADALU_CONFIG_DIR": str(home), "KADALU_URL": cp.url, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, f"kadalu {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
    return proc


def test_cli_flow_on_a_real_server(cp_any_db, tmp_path):
    cp, home = cp_any_db, tmp_path / "home"
    out = kadalu(cp, home, "login", "--username", "admin", "--password", "password-123").stdout
    assert "admin" in out
    assert oct((home / "token.json").stat().st_mode & 0o777) == "0o600"
    added = kadalu(cp, home, "cluster", "add", "mycluster").stdout
    token = next(w for w in added.split() if w.startswith("kjt_"))
    cp.start_agent("node1", "127.0.1.1", token)

    def states():
        return [n["state"] for n in json.loads(kadalu(cp, home, "node", "list", "-c", "mycluster", "--json").stdout)["data"]]

    wait_for(lambda: states() == ["Online"], 60, "node1 Online", cp.procs.tails)
    assert "node1" in kadalu(cp, home, "node", "list", "-c", "mycluster").stdout
    brick_dir = tmp_path / "exports" / "b1"
    brick_dir.mkdir(parents=True)
    kadalu(cp, home, "device", "add", "-c", "mycluster", "node1", "--path", str(brick_dir), "--wait")
    devices = json.loads(kadalu(cp, home, "device", "list", "-c", "mycluster", "--json").stdout)["data"]
    assert [(d["path"], d["state"]) for d in devices] == [(str(brick_dir), "Ready")]
    failed = kadalu(cp, home, "device", "add", "-c", "mycluster", "node1", "--path", str(tmp_path / "nope"), "--wait", ok=False)
    assert failed.returncode == 1 and "mkdir -p" in failed.stderr and "Traceback" not in failed.stderr

    kadalu(cp, home, "user", "add", "vera", "--password", "password-456")
    kadalu(cp, home, "user", "grant", "vera", "viewer", "-c", "mycluster")
    vhome = tmp_path / "vera"
    kadalu(cp, vhome, "login", "--username", "vera", "--password", "password-456")
    assert "node1" in kadalu(cp, vhome, "node", "list", "-c", "mycluster").stdout
    denied = kadalu(cp, vhome, "cluster", "add", "other", ok=False)
    assert denied.returncode == 1 and "viewer" not in denied.stdout and "role" in denied.stderr
    assert [c["name"] for c in json.loads(kadalu(cp, vhome, "cluster", "list", "--json").stdout)["data"]] == ["mycluster"]

    kadalu(cp, home, "logout")
    assert not (home / "token.json").exists()
    after = kadalu(cp, home, "cluster", "list", ok=False)
    assert after.returncode != 0 and "kadalu login" in after.stderr
