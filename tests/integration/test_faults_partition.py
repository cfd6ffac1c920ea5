"""A node cut off from the control plane while its bricks keep serving (real processes; the node's
path to the API and the broker goes through a relay the test cuts: tests/integration/control_path.py).
What must hold: the node turns Unreachable; a mounted client keeps writing to all three bricks of a
replica-3 volume, the cut node's included; a task for the node waits queued; once the path heals the
node is Online again, the task runs, and the node holds every line the client wrote."""
import shutil

import pytest

from tests.integration.control_path import ControlPath
from tests.integration.harness import PY, wait_for
from tests.integration.test_volumes_e2e import add_devices, kadalu, mount, volume
from tests.integration.writer import Writer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = {"node1": "127.0.53.14", "node2": "127.0.53.15", "node3": "127.0.53.16"}


def start_agent_through(cp, name: str, api: ControlPath, broker: ControlPath) -> None:
    env = {k: v for k, v in cp.env.items() if not k.startswith("KADALU_")}
    env |= {"KADALU_URL": f"http://127.0.0.1:{api.port}", "KADALU_JOIN_TOKEN": cp.join_token}
    argv = [PY, "-m", "nodeagent.main", "--name", name, "--address", NODES[name], "--state-dir",
            str(cp.root / "agents" / name), "--device-root", str(cp.root), "--broker-url",
            f"redis://127.0.0.1:{broker.port}/0"]
    cp.procs.start(f"agent-{name}", argv, env)


def test_a_partitioned_node_keeps_serving_its_bricks_and_converges_on_heal(cp):
    api, broker = ControlPath(cp.api_port), ControlPath(cp.redis_port)
    writer = None
    try:
        cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
        cp.start_agent("node1", NODES["node1"], cp.join_token)
        cp.start_agent("node2", NODES["node2"], cp.join_token)
        start_agent_through(cp, "node3", api, broker)
        wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
        kadalu(cp, "login", "--username", "admin", "--password", "password-123")
        add_devices(cp, "exports", tuple(NODES))
        bricks = [f"{n}:{cp.root / 'exports' / n / 'pv-b'}" for n in NODES]
        kadalu(cp, "volume", "create", "-c", "mycluster", "pv", "--replica", "3", *bricks, "--wait")
        vol = volume(cp, "pv")
        writer = Writer(mount(cp, "pv") / "log.txt")
        writer.start()
        wait_for(lambda: writer.lines > 10, 30, "the writer to start")

        api.cut()
        broker.cut()
        wait_for(lambda: cp.node_states("mycluster")["node3"] == "Unreachable", 30, "node3 Unreachable", cp.procs.tails)
        assert cp.node_states("mycluster") == {"node1": "Online", "node2": "Online", "node3": "Unreachable"}
        lines_at_cut = writer.lines
        # a task for the cut node waits for it
        extra = cp.root / "exports" / "node3-more"
        extra.mkdir(parents=True)
        r = cp.api("POST", "/clusters/mycluster/nodes/node3/devices", json={"path": str(extra)})
        assert r.status_code == 202, r.text
        task_id = r.json()["task"]["id"]
        # the client still writes to the cut node's brick directly
        node3_brick = vol["bricks"][2]["path"]
        wait_for(lambda: writer.lines > lines_at_cut + 40, 30, "the writer to go on while node3 is cut off")
        written = writer.lines
        wait_for(lambda: sum(1 for _ in open(f"{node3_brick}/log.txt")) >= written, 10, "node3's brick to hold them")
        assert cp.task(task_id)["phase"] == "queued"
        assert cp.node_states("mycluster")["node3"] == "Unreachable"

        api.heal()
        broker.heal()
        wait_for(lambda: cp.node_states("mycluster")["node3"] == "Online", 120, "node3 Online again", cp.procs.tails)
        assert cp.wait_task_done(task_id, 120)["phase"] == "done"
        devices = cp.api("GET", "/clusters/mycluster/devices", params={"limit": 100}).json()["data"]
        assert {d["path"]: d["state"] for d in devices}[str(extra)] == "Ready"
        wait_for(lambda: volume(cp, "pv")["health"] == "Up", 30, "volume health Up", cp.procs.tails)
    finally:
        if writer is not None:
            writer.stop()
        api.stop()
        broker.stop()
    assert writer.errors == [], writer.errors
    lines = writer.lines
    for b in vol["bricks"]:
        assert sum(1 for _ in open(f"{b['path']}/log.txt")) == lines, b["node"]
    print(f"\nwriter: {lines} fsynced appends, {lines - lines_at_cut} of them from the cut on, no error")
