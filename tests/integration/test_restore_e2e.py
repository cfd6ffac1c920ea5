"""Restore end to end: three real agents (127.0.53.1-3), a replica-3 volume of real glusterfsd bricks
mounted over FUSE with a writer running. The control plane is stopped and its database and state
directory deleted; each agent prints its signed copy (`kadalu-agent --export-metadata`), and
`kadalu-server restore` rebuilds an empty control plane from them (the server key is what the
operator kept). The control plane starts again, the agents carry on with their credentials and come
back Online, the writer never saw an error, and every command works afterwards: volume list and info,
an option set, stop and start, another volume created."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.integration.harness import PY, wait_for
from tests.integration.test_volumes_e2e import add_devices, kadalu, mount, volume
from tests.integration.writer import Writer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = ("node1", "node2", "node3")
SERVER_PROCS = ("api", "worker", "heartbeats", "beat")


def agent_copy(cp, node):
    return json.loads((cp.root / "agents" / node / "metadata.json").read_text())


def export(cp, node) -> str:
    out = cp.root / f"{node}-copy.json"
    proc = subprocess.run([PY, "-m", "nodeagent.main", "--export-metadata", "--state-dir", str(cp.root / "agents" / node)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out.write_text(proc.stdout)
    return str(out)


def start_server(cp):
    for name in SERVER_PROCS:
        argv = [sys.executable, "-m", "controlplane.server_cli", "heartbeat-worker" if name == "heartbeats" else name]
        cp.procs.start(name, argv, cp.env)
    wait_for(cp._healthy, 60, "the API to answer", cp.procs.tails)


def test_a_control_plane_restored_from_its_agents_while_a_mount_keeps_writing(cp, tmp_path):
    cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    for i, name in enumerate(NODES, start=1):
        cp.start_agent(name, f"127.0.53.{i}", cp.join_token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    add_devices(cp, "exports")
    bricks = [f"{n}:{cp.root / 'exports' / n / 'rv-b'}" for n in NODES]
    kadalu(cp, "volume", "create", "-c", "mycluster", "rv", "--replica", "3", *bricks, "--wait")
    kadalu(cp, "volume", "set", "-c", "mycluster", "rv", "performance.io-thread-count", "23", "--wait")
    before = volume(cp, "rv")
    mnt = mount(cp, "rv")
    writer = Writer(mnt / "log.txt")
    writer.start()
    try:
        version = cp.api("GET", "/clusters/mycluster").json().get("metadata_version")
        # every agent holds the newest version, signed
        wait_for(lambda: all(agent_copy(cp, n).get("signature", {}).get("version") == agent_copy(cp, n)["version"]
                             and (version is None or agent_copy(cp, n)["version"] >= version) for n in NODES),
                 30, "signed copies on every node", cp.procs.tails)

        # the control plane is lost: its processes, its database and its state directory
        for name in reversed(SERVER_PROCS):
            cp.procs.stop(name)
        shutil.rmtree(cp.root / "server")
        lines_at_loss = writer.lines

        files = [export(cp, n) for n in NODES]
        restore = subprocess.run([sys.executable, "-m", "controlplane.server_cli", "restore", "--json",
                                  *[f"--from-file={f}" for f in files]], env=cp.env, capture_output=True, text=True,
                                 timeout=120)
        assert restore.returncode == 0, restore.stdout + restore.stderr
        report = json.loads(restore.stdout)
        assert report["refused"] == [] and report["same_server_key"] is True
        assert [(r["cluster"], r["nodes"], r["volumes"]) for r in report["restored"]] == [("mycluster", 3, 1)]

        start_server(cp)
        cp.login_admin()  # users are not in node copies: the first admin again, with the usual bootstrap
        kadalu(cp, "login", "--username", "admin", "--password", "password-123")
        wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60,
                 "agents Online on the restored control plane", cp.procs.tails)
        wait_for(lambda: volume(cp, "rv").get("health") == "Up", 60, "volume health Up", cp.procs.tails)
        wait_for(lambda: writer.lines > lines_at_loss + 20, 30, "the writer to go on")
    finally:
        writer.stop()
    assert writer.errors == [], writer.errors
    print(f"\nwriter: {writer.lines} fsynced appends, {writer.lines - lines_at_loss} after the control plane was lost, "
          "no error")

    after = volume(cp, "rv")
    assert after["id"] == before["id"] and after["options"] == before["options"]
    assert [(b["node"], b["path"], b["port"]) for b in after["bricks"]] == \
        [(b["node"], b["path"], b["port"]) for b in before["bricks"]]
    # every command works on the restored control plane
    assert "rv" in kadalu(cp, "volume", "list", "-c", "mycluster").stdout
    assert "performance.io-thread-count" in kadalu(cp, "volume", "info", "-c", "mycluster", "rv").stdout
    kadalu(cp, "volume", "set", "-c", "mycluster", "rv", "performance.io-thread-count", "29", "--wait")
    assert volume(cp, "rv")["options"]["performance.io-thread-count"] == "29"
    kadalu(cp, "umount", str(mnt))
    kadalu(cp, "volume", "stop", "-c", "mycluster", "rv", "--yes", "--wait")
    kadalu(cp, "volume", "start", "-c", "mycluster", "rv", "--wait")
    assert volume(cp, "rv")["state"] == "Started"
    more = [f"{n}:{cp.root / 'exports' / n / 'rv2-b'}" for n in NODES]
    kadalu(cp, "volume", "create", "-c", "mycluster", "rv2", "--replica", "3", *more, "--wait")
    rv2 = volume(cp, "rv2")
    assert rv2["state"] == "Started"
    assert not {b["port"] for b in rv2["bricks"]} & {b["port"] for b in after["bricks"]}
    mnt2 = mount(cp, "rv2")
    (mnt2 / "new.txt").write_text("after the restore\n")
    assert all(os.path.exists(os.path.join(b["path"], "new.txt")) for b in rv2["bricks"])
    assert sum(1 for _ in open(os.path.join(after["bricks"][0]["path"], "log.txt"))) == writer.lines
