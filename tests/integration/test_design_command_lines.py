"""Every command line the design prints, run as printed (issue #15) against a control plane with
real agents, glusterfsd bricks and a FUSE mount; each must parse and do what the design says.

`DESIGN_LINES` is the design's list, kept here as data. Only what must be real on this machine is
substituted (`real()`): NODE (the agents' node names), device paths (directories under the test's
root, a loop device for /dev/vdc), URL (the control plane's), BRICKS, the <optname>/<optvalue>
placeholders, <ID>, and the size of `--size 100GiB`: every agent here shares one file system with
less than 100 GiB free, so it is scaled to 2GiB. The test fails if any line of the list was not run.

The flow is the design's, and includes the issue's check: a replica 3 volume made with `--size`,
after a fourth, fifth and sixth node start their agents and register devices, grows by one set on
those nodes with `kadalu volume expand -c mycluster gvol1` and rebalances, every file intact.

Geo-replication (issue #10): its lines are checked to parse here (any exit but a usage error); the
real run with sshd and gsyncd (tests/integration/test_georep_e2e.py) does not copy data yet."""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import PY, wait_for
from tests.integration.test_volumes_e2e import kadalu, mount, volume

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]

DESIGN_LINES = [
    "kadalu login",
    "kadalu login --url URL",
    "kadalu logout",
    "kadalu cluster add mycluster",
    "kadalu cluster status",
    "kadalu device add -c mycluster NODE --device /dev/vdc",
    "kadalu device add -c mycluster NODE --path /exports/bricks/b1",
    "kadalu volume create -c mycluster gvol1 --replica3 --size 100GiB",
    "kadalu volume create -c mycluster gvol1 BRICKS",
    "kadalu volume create -c mycluster gvol1 BRICKS --no-start",
    "kadalu volume start -c mycluster gvol1",
    "kadalu volume stop -c mycluster gvol1",
    "kadalu volume delete -c mycluster gvol1",
    "kadalu volume status -c mycluster gvol1",
    "kadalu failurereport",
    "kadalu volume set -c mycluster gvol1 <optname> <optvalue>",
    "kadalu volume reset -c mycluster gvol1 <optname>",
    "kadalu volume get -c mycluster gvol1",
    "kadalu volume get -c mycluster gvol1 <optname>",
    "kadalu volume expand -c mycluster gvol1",
    "kadalu volume rebalance start -c mycluster gvol1",
    "kadalu volume rebalance stop -c mycluster gvol1",
    "kadalu volume rebalance status -c mycluster gvol1",
]
GEO_LINES = [
    "kadalu geo-replication create -c mycluster --remote-user geouser --remote-cluster mycluster2 mastervol remotevol",
    *(f"kadalu geo-replication {verb} <ID> -c mycluster"
      for verb in ("start", "stop", "delete", "config-get", "config-set", "config-reset", "status")),
]
OPTION, VALUE = "performance.write-behind", "off"  # client-side: applied without restarting bricks
SCALED_SIZE = "2GiB"
FIRST, NEW = ("node1", "node2", "node3"), ("node4", "node5", "node6")


class Design:
    """Runs design lines through the real `kadalu` entry point, recording which lines ran."""

    def __init__(self, cp):
        self.cp = cp
        self.ran: set[str] = set()
        self.subs: dict[str, str] = {"URL": cp.url, "<optname>": OPTION, "<optvalue>": VALUE, "100GiB": SCALED_SIZE}

    def real(self, line: str, **subs: str) -> list[str]:
        words = shlex.split(line)
        assert words[0] == "kadalu"
        table = {**self.subs, **subs}
        out: list[str] = []
        for w in words[1:]:
            out.extend(table[w].split() if w in table else [w])
        return out

    def run(self, line: str, *, stdin: str | None = None, url_env: bool = True, ok: bool = True, **subs: str):
        assert line in DESIGN_LINES, line
        self.ran.add(line)
        env = {**os.environ, "KADALU_CONFIG_DIR": str(self.cp.root / "home"), "COLUMNS": "200"}
        env.pop("KADALU_URL", None)
        env.pop("KADALU_PASSWORD", None)
        if url_env:
            env["KADALU_URL"] = self.cp.url
        argv = self.real(line, **subs)
        proc = subprocess.run([sys.executable, "-m", "cli.main", *argv], env=env, input=stdin, capture_output=True,
                              text=True, timeout=300)
        if ok:
            assert proc.returncode == 0, f"{line}\n  as: kadalu {shlex.join(argv)}\n{proc.stdout}\n{proc.stderr}"
        return proc


def state_is(cp, name: str, *states: str, timeout: float = 120) -> dict:
    return wait_for(lambda: (v := volume(cp, name)).get("state") in states and v, timeout,
                    f"volume {name} {states}", cp.procs.tails)


def device_dir(cp, node: str) -> Path:
    return cp.root / "exports" / "bricks" / node / "b1"  # the design's /exports/bricks/b1, one per node


def add_design_devices(cp, d: Design, nodes) -> None:
    for node in nodes:
        device_dir(cp, node).mkdir(parents=True, exist_ok=True)
        d.run("kadalu device add -c mycluster NODE --path /exports/bricks/b1", NODE=node,
              **{"/exports/bricks/b1": str(device_dir(cp, node))})
    wait_for(lambda: sorted(x["node"] for x in cp.api("GET", "/clusters/mycluster/devices").json()["data"]
                            if x["state"] == "Ready" and x["node"] in nodes) == sorted(nodes),
             60, f"devices of {nodes} Ready", cp.procs.tails)


def data_files(brick_path: str) -> set[str]:
    out = set()
    for entry in os.scandir(brick_path):
        st = entry.stat(follow_symlinks=False)
        if entry.name != ".glusterfs" and entry.is_file(follow_symlinks=False) and not (
                st.st_size == 0 and st.st_mode & 0o7777 == 0o1000):  # not a DHT link file
            out.add(entry.name)
    return out


def test_every_design_line_as_printed_and_a_replica3_expand_onto_new_nodes(cp, tmp_path):
    d = Design(cp)
    token_file = cp.root / "home" / "token.json"
    # login, login --url, logout (the cp fixture made the admin user)
    out = d.run("kadalu login", stdin="admin\npassword-123\n")
    assert "Logged in as admin" in out.stdout and token_file.exists()
    d.run("kadalu logout")
    assert not token_file.exists()
    assert kadalu(cp, "cluster", "list", ok=False).returncode != 0  # logged out: refused
    d.run("kadalu login --url URL", stdin="admin\npassword-123\n", url_env=False)
    assert d.run("kadalu cluster status", url_env=False).returncode == 0  # the URL was saved by the login

    out = d.run("kadalu cluster add mycluster")
    join_token = next(w for w in out.stdout.split() if w.startswith("kjt_"))
    status = d.run("kadalu cluster status").stdout
    assert "Cluster default (the default cluster" in status and "mycluster" in status

    for i, node in enumerate(FIRST, start=1):
        cp.start_agent(node, f"127.0.1.{i}", join_token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in FIRST}, 60, "agents Online", cp.procs.tails)
    add_design_devices(cp, d, FIRST)

    # a replica 3 volume from registered devices, with the options lines
    d.run("kadalu volume create -c mycluster gvol1 --replica3 --size 100GiB")
    vol = state_is(cp, "gvol1", "Started")
    assert vol["type"] == "replicate" and sorted(b["node"] for b in vol["bricks"]) == list(FIRST)
    assert all(b["path"].startswith(str(device_dir(cp, b["node"])) + "/gvol1-brick-0-") for b in vol["bricks"])
    assert "Started" in d.run("kadalu volume status -c mycluster gvol1").stdout
    d.run("kadalu volume set -c mycluster gvol1 <optname> <optvalue>")
    assert f"{OPTION}" in (got := d.run("kadalu volume get -c mycluster gvol1 <optname>").stdout) and VALUE in got
    d.run("kadalu volume reset -c mycluster gvol1 <optname>")
    row = cp.api("GET", "/clusters/mycluster/volumes/gvol1/options", params={"name": OPTION}).json()["data"][0]
    assert row["changed"] is False
    assert d.run("kadalu volume get -c mycluster gvol1").stdout.count("\n") > 20  # every option

    mnt = mount(cp, "gvol1")
    digests = {}
    for i in range(400):
        body = f"file {i} ".encode() * (i % 40 + 1)
        (mnt / f"f{i:04d}").write_bytes(body)
        digests[f"f{i:04d}"] = hashlib.sha256(body).hexdigest()

    # the check: three more nodes start their agents and register devices; expand, rebalance
    for i, node in enumerate(NEW, start=4):
        cp.start_agent(node, f"127.0.1.{i}", join_token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in FIRST + NEW}, 60, "six agents Online",
             cp.procs.tails)
    add_design_devices(cp, d, NEW)
    out = d.run("kadalu volume expand -c mycluster gvol1")
    vol = state_is(cp, "gvol1", "Started")
    assert vol["brick_count"] == 6 and sorted(b["node"] for b in vol["bricks"][3:]) == list(NEW), vol["bricks"]
    assert all(b["path"] == f"{device_dir(cp, b['node'])}/gvol1-brick-1-{k}" for k, b in enumerate(vol["bricks"][3:]))
    assert all(f"{b['node']}:{b['path']}" in out.stdout for b in vol["bricks"][3:])  # the chosen bricks are named
    assert all(data_files(b["path"]) == set() for b in vol["bricks"][3:])  # nothing moved yet

    d.run("kadalu volume rebalance start -c mycluster gvol1")
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/gvol1/rebalance").json()["state"]
             in ("in_progress", "completed"), 120, "rebalance to run", cp.procs.tails)
    stopped = d.run("kadalu volume rebalance stop -c mycluster gvol1", ok=False)
    rebal = cp.api("GET", "/clusters/mycluster/volumes/gvol1/rebalance").json()
    # either it was stopped, or it had already finished (then stop says nothing runs); never a usage error
    assert stopped.returncode == 0 or ("no rebalance" in stopped.stderr and rebal["state"] == "completed"), \
        stopped.stdout + stopped.stderr
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/gvol1/rebalance").json()["state"]
             in ("stopped", "completed"), 120, "rebalance to stop", cp.procs.tails)
    d.run("kadalu volume rebalance start -c mycluster gvol1")  # a start after a stop resumes
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/gvol1/rebalance").json()["state"] == "completed",
             300, "rebalance completed", cp.procs.tails)
    shown = d.run("kadalu volume rebalance status -c mycluster gvol1").stdout
    assert "completed" in shown
    rebal = cp.api("GET", "/clusters/mycluster/volumes/gvol1/rebalance").json()
    assert rebal["files_failed"] == 0
    per_set = [set().union(*(data_files(b["path"]) for b in vol["bricks"][k:k + 3])) for k in (0, 3)]
    assert per_set[1], "no file moved to the new set"
    for k in (0, 3):  # each set's three replicas hold the same files
        assert data_files(vol["bricks"][k]["path"]) == data_files(vol["bricks"][k + 1]["path"]) == per_set[k // 3]
    assert per_set[0] | per_set[1] == set(digests) and not per_set[0] & per_set[1]
    for name, digest in digests.items():
        assert hashlib.sha256((mnt / name).read_bytes()).hexdigest() == digest, name
    kadalu(cp, "umount", str(mnt))

    # stop (it asks first), start, stop, delete (asks too)
    d.run("kadalu volume stop -c mycluster gvol1", stdin="y\n")
    state_is(cp, "gvol1", "Stopped")
    d.run("kadalu volume start -c mycluster gvol1")
    state_is(cp, "gvol1", "Started")
    d.run("kadalu volume stop -c mycluster gvol1", stdin="y\n")
    state_is(cp, "gvol1", "Stopped")
    d.run("kadalu volume delete -c mycluster gvol1", stdin="y\n")
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/gvol1").status_code == 404, 60, "gvol1 deleted")

    # bricks given by path: --no-start, then start; and without --no-start
    def bricks_named(word: str) -> str:
        return " ".join(f"{n}:{device_dir(cp, n)}/gvol1-{word}{k}" for k, n in enumerate(FIRST))

    bricks = bricks_named("b")
    d.run("kadalu volume create -c mycluster gvol1 BRICKS --no-start", BRICKS=bricks)
    assert state_is(cp, "gvol1", "Created")["type"] == "distribute"
    d.run("kadalu volume start -c mycluster gvol1")
    state_is(cp, "gvol1", "Started")
    d.run("kadalu volume stop -c mycluster gvol1", stdin="y\n")
    state_is(cp, "gvol1", "Stopped")
    d.run("kadalu volume delete -c mycluster gvol1", stdin="y\n")
    wait_for(lambda: cp.api("GET", "/clusters/mycluster/volumes/gvol1").status_code == 404, 60, "gvol1 deleted")
    d.run("kadalu volume create -c mycluster gvol1 BRICKS", BRICKS=bricks_named("c"))
    state_is(cp, "gvol1", "Started")

    # failurereport lists a failure, with how to fix it: a brick on a directory holding someone's file
    occupied = device_dir(cp, "node1") / "occupied"
    occupied.mkdir()
    (occupied / "someones-file").write_text("not kadalu's")
    kadalu(cp, "volume", "create", "-c", "mycluster", "failvol", f"node1:{occupied}")
    state_is(cp, "failvol", "CreateFailed")
    report = d.run("kadalu failurereport").stdout
    assert "failvol" in report and "mycluster" in report

    assert d.ran == set(DESIGN_LINES) - {"kadalu device add -c mycluster NODE --device /dev/vdc"}, \
        set(DESIGN_LINES) - d.ran


def test_design_block_device_line(cp, tmp_path):
    """`kadalu device add -c mycluster NODE --device /dev/vdc` with a loop device standing for /dev/vdc
    (an agent allowed /dev as a device root, as on a storage node)."""
    if shutil.which("losetup") is None:
        pytest.skip("losetup is not installed")
    image = tmp_path / "vdc.img"
    with open(image, "wb") as f:
        f.truncate(64 << 20)
    made = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"no loop device here: {made.stderr.strip()}")
    loop = made.stdout.strip()
    try:
        d = Design(cp)
        d.run("kadalu login", stdin="admin\npassword-123\n")
        token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
        env = {k: v for k, v in cp.env.items() if not k.startswith("KADALU_")}
        env |= {"KADALU_URL": cp.url, "KADALU_JOIN_TOKEN": token}
        cp.procs.start("agent-node1", [PY, "-m", "nodeagent.main", "--name", "node1", "--address", "127.0.1.1",
                                       "--state-dir", str(cp.root / "agents" / "node1"), "--device-root", str(cp.root),
                                       "--device-root", "/dev"], env)
        wait_for(lambda: cp.node_states("mycluster") == {"node1": "Online"}, 60, "agent Online", cp.procs.tails)
        d.run("kadalu device add -c mycluster NODE --device /dev/vdc", NODE="node1", **{"/dev/vdc": loop})
        dev = wait_for(lambda: next((x for x in cp.api("GET", "/clusters/mycluster/devices").json()["data"]
                                     if x["path"] == loop and x["state"] in ("Ready", "Failed")), None),
                       60, "the block device to settle", cp.procs.tails)
        assert dev["state"] == "Ready" and dev["kind"] == "block" and dev["size_bytes"] == 64 << 20, dev
    finally:
        cp.stop()
        subprocess.run(["losetup", "-d", loop], check=False)


@pytest.mark.parametrize("line", GEO_LINES)
def test_design_geo_replication_line_parses(line, tmp_path):
    """The line parses (any exit but a usage error, 2): the control plane at URL is not there."""
    argv = [w if w != "<ID>" else "1" for w in shlex.split(line)[1:]]
    env = {**os.environ, "KADALU_CONFIG_DIR": str(tmp_path), "KADALU_URL": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "-m", "cli.main", *argv], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 2, proc.stderr
