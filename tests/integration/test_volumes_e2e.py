"""Volumes end to end: control plane + three agents as processes, real glusterfsd bricks,
FUSE mounts made with `kadalu mount`, data checked on the brick directories."""
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.integration.harness import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = ("node1", "node2", "node3")


@pytest.fixture
def gcp(cp, tmp_path):
    cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    for i, name in enumerate(NODES, start=1):
        cp.start_agent(name, f"127.0.1.{i}", cp.join_token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
    cp.home = tmp_path / "home"
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    cp.exports = add_devices(cp, "exports")
    return cp


def add_devices(cp, under: str, nodes=NODES) -> dict[str, str]:
    """Register <root>/<under>/<node> on each node as a directory device and wait until it is Ready:
    bricks are accepted only inside a device (node -> device id)."""
    tasks = {}
    for node in nodes:
        path = cp.root / under / node
        path.mkdir(parents=True, exist_ok=True)
        r = cp.api("POST", f"/clusters/mycluster/nodes/{node}/devices", json={"path": str(path)})
        assert r.status_code == 202, r.text
        tasks[node] = (r.json()["device"]["id"], r.json()["task"]["id"])
    for node, (_, task_id) in tasks.items():
        assert cp.wait_task_done(task_id)["phase"] == "done", f"device of {node}: {cp.task(task_id)}"
    return {node: device_id for node, (device_id, _) in tasks.items()}


def kadalu(cp, *args, ok=True):
    env = {**os.environ, "KADALU_CONFIG_DIR": str(cp.root / "home"), "KADALU_URL": cp.url, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=180)
    if ok:
        assert proc.returncode == 0, f"kadalu {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}\n{cp.procs.tails()}"
    return proc


def volume(cp, name):
    return cp.api("GET", f"/clusters/mycluster/volumes/{name}").json()


def brick_dirs(cp, name, n=3, spread=NODES):
    bricks = []
    for i in range(n):
        node = spread[i % len(spread)]
        bricks.append(f"{node}:{cp.root / 'exports' / node / f'{name}-b{i}'}")  # inside the gcp devices
    return bricks


def mount(cp, name):
    mnt = cp.root / "mnt" / name
    kadalu(cp, "mount", "-c", "mycluster", name, str(mnt), "--log-file", str(cp.root / f"mount-{name}.log"))
    return mnt


def on_bricks(vol, filename):
    return [os.path.exists(os.path.join(b["path"], filename)) for b in vol["bricks"]]


def test_replica3_lifecycle_with_brick_kill_force_start_and_heal(gcp):
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "gvol1", "--replica", "3", *brick_dirs(cp, "gvol1"), "--wait")
    vol = volume(cp, "gvol1")
    assert vol["state"] == "Started" and all(b["pid"] for b in vol["bricks"])
    wait_for(lambda: volume(cp, "gvol1")["health"] == "Up", 30, "health Up", cp.procs.tails)
    mnt = mount(cp, "gvol1")
    (mnt / "before.txt").write_text("written with all bricks up\n")
    assert on_bricks(vol, "before.txt") == [True, True, True]

    victim = vol["bricks"][2]
    os.kill(victim["pid"], signal.SIGKILL)
    wait_for(lambda: volume(cp, "gvol1")["health"] == "Degraded", 30, "health Degraded", cp.procs.tails)
    (mnt / "during.txt").write_text("written while a brick was down\n")
    assert not os.path.exists(os.path.join(victim["path"], "during.txt"))
    status = kadalu(cp, "volume", "status", "-c", "mycluster", "gvol1").stdout
    assert "Degraded" in status

    kadalu(cp, "volume", "start", "-c", "mycluster", "gvol1", "--force", "--wait")
    wait_for(lambda: volume(cp, "gvol1")["health"] == "Up", 30, "health Up after start --force", cp.procs.tails)
    restarted = volume(cp, "gvol1")["bricks"]
    assert [b["pid"] for b in restarted[:2]] == [b["pid"] for b in vol["bricks"][:2]]  # only the missing one restarted
    wait_for(lambda: os.path.exists(os.path.join(victim["path"], "during.txt")), 60, "self-heal of during.txt")

    kadalu(cp, "umount", str(mnt))
    kadalu(cp, "volume", "stop", "-c", "mycluster", "gvol1", "--yes", "--wait")
    pids = [b["pid"] for b in restarted]
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}/cmdline") and open(f"/proc/{p}/cmdline").read() for p in pids),
             20, "brick processes gone")
    kadalu(cp, "volume", "delete", "-c", "mycluster", "gvol1", "--yes", "--wait")
    for b in vol["bricks"]:
        with pytest.raises(OSError):
            os.getxattr(b["path"], "trusted.glusterfs.volume-id")
        assert os.path.exists(os.path.join(b["path"], "before.txt"))  # the user's data stays
        assert not os.path.exists(os.path.join(b["path"], ".glusterfs"))


@pytest.mark.parametrize("name,args,n", [
    ("dist", [], 2),
    ("disp", ["--disperse", "3", "--redundancy", "1"], 3),
    ("arb", ["--replica", "3", "--arbiter", "1"], 3),
])
def test_each_volume_type_stores_data_where_it_should(gcp, name, args, n):
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", name, *args, *brick_dirs(cp, name, n), "--wait")
    vol = volume(cp, name)
    mnt = mount(cp, name)
    for i in range(20):
        (mnt / f"f{i}").write_text(f"content {i}\n" * 100)
    assert [(mnt / f"f{i}").read_text() for i in range(20)] == [f"content {i}\n" * 100 for i in range(20)]
    per_brick = [sum(on_bricks(vol, f"f{i}")[k] for i in range(20)) for k in range(n)]
    if name == "dist":
        assert sum(per_brick) == 20 and all(c > 0 for c in per_brick)  # each file on exactly one brick, both used
    elif name == "disp":
        assert per_brick == [20, 20, 20]
        frag = os.path.join(vol["bricks"][0]["path"], "f0")
        assert os.path.getsize(frag) < len("content 0\n" * 100)  # a fragment, not the whole file
    else:
        assert per_brick == [20, 20, 20]
        assert os.path.getsize(os.path.join(vol["bricks"][2]["path"], "f0")) == 0  # the arbiter keeps no data
        assert os.path.getsize(os.path.join(vol["bricks"][0]["path"], "f0")) > 0
    kadalu(cp, "umount", str(mnt))


def test_create_waits_for_an_unreachable_node_and_completes_when_it_returns(gcp):
    cp = gcp
    cp.kill_agent("node3")
    wait_for(lambda: cp.node_states("mycluster")["node3"] == "Unreachable", 30, "node3 Unreachable", cp.procs.tails)
    kadalu(cp, "volume", "create", "-c", "mycluster", "late", "--replica", "3", *brick_dirs(cp, "late"))
    wait_for(lambda: volume(cp, "late")["waiting_for"] == ["node3"], 30, "volume waiting for node3", cp.procs.tails)
    assert volume(cp, "late")["state"] == "Creating"
    report = kadalu(cp, "failurereport", "-c", "mycluster", "--json").stdout
    assert "node_unreachable" in report
    cp.start_agent("node3", "127.0.1.3", cp.join_token)
    wait_for(lambda: volume(cp, "late")["state"] == "Started", 90, "volume Started", cp.procs.tails)


def test_invalid_create_is_refused_with_the_brick_named(gcp):
    cp = gcp
    out = kadalu(cp, "volume", "create", "-c", "mycluster", "bad", "--replica", "3",
                 "node1:/e/a", "node1:/e/b", "node2:/e/c", ok=False)
    assert out.returncode == 1 and "node1:/e/a" in out.stderr and "`force`" in out.stderr
    # an existing directory of the node, not a device (the finding: create + delete --purge emptied it)
    precious = cp.root / "precious"
    precious.mkdir()
    (precious / "data.txt").write_text("keep me")
    out = kadalu(cp, "volume", "create", "-c", "mycluster", "bad", f"node1:{precious}", ok=False)
    assert out.returncode == 1 and f"node1:{precious}" in out.stderr and "kadalu device add" in out.stderr
    out = kadalu(cp, "volume", "create", "-c", "mycluster", "bad",
                 f"node1:{cp.root / 'exports' / 'node1' / 'b'}\noption remote-host attacker.example", ok=False)
    assert out.returncode == 1 and "whitespace" in out.stderr
    assert cp.api("GET", "/clusters/mycluster/volumes").json()["count"] == 0
    assert (precious / "data.txt").read_text() == "keep me"


def test_agent_restarted_after_a_reboot_restarts_bricks_without_the_control_plane(gcp):
    from nodeagent.gluster.pids import running_pid

    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "rb", "--replica", "3", *brick_dirs(cp, "rb"), "--wait")
    vol = volume(cp, "rb")
    wait_for(lambda: volume(cp, "rb")["health"] == "Up", 30, "health Up", cp.procs.tails)
    node1_brick = vol["bricks"][0]
    pidfile = cp.root / "agents" / "node1" / "run" / f"{node1_brick['id']}.pid"
    assert running_pid(pidfile, "glusterfsd") == node1_brick["pid"]

    # an agent restarted while its bricks run finds them and leaves them alone
    cp.kill_agent("node1")
    cp.start_agent("node1", "127.0.1.1", cp.join_token)
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Online", 30, "node1 Online", cp.procs.tails)
    assert running_pid(pidfile, "glusterfsd") == node1_brick["pid"]

    # a "reboot": agent and bricks gone, and the control plane unreachable
    cp.kill_agent("node1")
    os.kill(node1_brick["pid"], signal.SIGKILL)
    wait_for(lambda: running_pid(pidfile, "glusterfsd") is None, 10, "brick gone")
    cp.procs.stop("api")
    cp.start_agent("node1", "127.0.1.1", cp.join_token)
    new_pid = wait_for(lambda: running_pid(pidfile, "glusterfsd"), 60, "brick restarted from local metadata", cp.procs.tails)
    assert new_pid != node1_brick["pid"]


def test_size_provisioned_volume_on_registered_devices(gcp):
    cp = gcp
    for i, node in enumerate(NODES):
        # only the new devices may be chosen: the fixture's exports devices go first
        kadalu(cp, "device", "remove", "-c", "mycluster", node, str(cp.root / "exports" / node), "--yes", "--wait")
        path = cp.root / "devices" / node
        path.mkdir(parents=True)
        kadalu(cp, "device", "add", "-c", "mycluster", node, "--path", str(path), "--wait")
        kadalu(cp, "node", "label", "-c", "mycluster", node, "--zone", f"z{i}")
    plan = kadalu(cp, "volume", "create", "-c", "mycluster", "pv", "--replica3", "--size", "2GiB", "--dry-run").stdout
    assert "pv-brick-0-" in plan and cp.api("GET", "/clusters/mycluster/volumes").json()["count"] == 0
    kadalu(cp, "volume", "create", "-c", "mycluster", "pv", "--replica3", "--size", "2GiB", "--wait")
    vol = volume(cp, "pv")
    assert vol["state"] == "Started"
    assert sorted(b["node"] for b in vol["bricks"]) == list(NODES)
    assert all(b["path"].startswith(str(cp.root / "devices" / b["node"])) for b in vol["bricks"])
    mnt = mount(cp, "pv")
    (mnt / "hello").write_text("provisioned\n")
    assert on_bricks(vol, "hello") == [True, True, True]
    kadalu(cp, "umount", str(mnt))
