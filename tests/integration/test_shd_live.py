"""Self-heal daemons follow their agent's volfile server as bricks do: an option that reaches the
self-heal graph is applied in place (same pid, the daemon logs the new value) and the daemon still
heals a brick that missed writes; a daemon and a brick left on local `-f` volfiles (by
`kadalu-agent --recover-only` while no agent ran) are moved to the volfile server: the daemon when
its agent starts, the brick at the next change of any option, by the rolling restart, while a
writer on the mount keeps writing. Nodes on 127.0.55.1-3."""
import os
import signal
import subprocess
import sys
import threading

import pytest

from nodeagent.gluster.pids import running_pid
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import add_devices, brick_dirs, kadalu, mount, on_bricks, volume

pytestmark = pytest.mark.integration
NODES = ("shd1", "shd2", "shd3")
ADDRESS = {name: f"127.0.55.{i}" for i, name in enumerate(NODES, start=1)}


@pytest.fixture
def scp(cp, tmp_path):
    cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    for name in NODES:
        cp.start_agent(name, ADDRESS[name], cp.join_token)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
    cp.home = tmp_path / "home"
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    add_devices(cp, "exports", NODES)
    return cp


def shd_pidfile(cp, node: str, vol: str):
    return cp.root / "agents" / node / "run" / f"shd-{vol}.pid"


def shd_pids(cp, vol: str) -> dict[str, int | None]:
    return {n: running_pid(shd_pidfile(cp, n, vol), "glusterfs") for n in NODES}


def shd_log(cp, node: str, vol: str) -> str:
    path = cp.root / "agents" / node / "logs" / "glustershd" / f"{vol}.log"
    return path.read_text() if path.exists() else ""


def argv_of(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline") as f:
        return f.read().split("\0")


def follows_server(pid: int) -> bool:
    argv = argv_of(pid)
    return "--volfile-server-transport" in argv and "-f" not in argv


def create(cp, vol: str) -> dict:
    kadalu(cp, "volume", "create", "-c", "mycluster", vol, "--replica", "3", *brick_dirs(cp, vol, spread=NODES), "--wait")
    wait_for(lambda: volume(cp, vol)["health"] == "Up", 30, "health Up", cp.procs.tails)
    return volume(cp, vol)


def test_self_heal_daemon_takes_an_option_in_place_and_still_heals(scp):
    cp = scp
    vol = create(cp, "hv")
    before = shd_pids(cp, "hv")
    assert all(before.values()), before
    for pid in before.values():
        assert pid is not None and follows_server(pid) and "shd" in argv_of(pid), argv_of(pid)

    # cluster.heal-timeout changes only the self-heal graph: a live change, no daemon restarted
    kadalu(cp, "volume", "set", "-c", "mycluster", "hv", "cluster.heal-timeout", "77", "--wait")
    assert volume(cp, "hv")["state"] == "Started"
    wait_for(lambda: all("option heal-timeout using set value 77" in shd_log(cp, n, "hv") for n in NODES), 20,
             "every self-heal daemon to log the new heal-timeout", cp.procs.tails)
    assert shd_pids(cp, "hv") == before
    assert all(shd_log(cp, n, "hv").count("Final graph") == 1 for n in NODES)  # reconfigured, no new graph

    # and it heals: a brick killed during writes gets the files it missed after it restarts
    mnt = mount(cp, "hv")
    (mnt / "before.txt").write_text("all bricks up\n")
    victim = vol["bricks"][2]
    os.kill(victim["pid"], signal.SIGKILL)
    wait_for(lambda: volume(cp, "hv")["health"] == "Degraded", 30, "health Degraded", cp.procs.tails)
    (mnt / "missed.txt").write_text("written while a brick was down\n")
    assert not os.path.exists(os.path.join(victim["path"], "missed.txt"))
    kadalu(cp, "volume", "start", "-c", "mycluster", "hv", "--force", "--wait")
    wait_for(lambda: on_bricks(volume(cp, "hv"), "missed.txt") == [True, True, True], 60, "self-heal of missed.txt",
             cp.procs.tails)
    assert shd_pids(cp, "hv") == before
    kadalu(cp, "umount", str(mnt))


def test_daemons_on_local_volfiles_move_to_the_volfile_server_without_losing_the_mount(scp):
    cp = scp
    vol = create(cp, "mv")
    node1 = next(b for b in vol["bricks"] if b["node"] == "shd1")
    brick_pidfile = cp.root / "agents" / "shd1" / "run" / f"{node1['id']}.pid"
    mnt = mount(cp, "mv")
    errors: list[str] = []
    written: list[str] = []
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.wait(0.05):  # paced: the rolling restart waits for self-heal between waves
            name = f"w{i:05d}"
            try:
                (mnt / name).write_text(f"payload {i}\n")
                written.append(name)
            except OSError as exc:
                errors.append(f"{name}: {exc}")
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        # node1 as an older agent left it: its agent gone, brick and self-heal daemon on -f volfiles
        cp.kill_agent("shd1")
        os.kill(node1["pid"], signal.SIGKILL)
        old_shd = shd_pids(cp, "mv")["shd1"]
        assert old_shd is not None
        os.kill(old_shd, signal.SIGKILL)
        wait_for(lambda: running_pid(brick_pidfile, "glusterfsd") is None and shd_pids(cp, "mv")["shd1"] is None, 10,
                 "node1's daemons gone")
        done = subprocess.run([sys.executable, "-m", "nodeagent.main", "--recover-only", "--name", "shd1",
                               "--address", ADDRESS["shd1"], "--state-dir", str(cp.root / "agents" / "shd1"),
                               "--device-root", str(cp.root)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        local_brick, local_shd = running_pid(brick_pidfile, "glusterfsd"), shd_pids(cp, "mv")["shd1"]
        assert local_brick and local_shd and not follows_server(local_brick) and not follows_server(local_shd)

        # the agent returns: it moves its self-heal daemon to the volfile server as it starts
        cp.start_agent("shd1", ADDRESS["shd1"], cp.join_token)
        wait_for(lambda: cp.node_states("mycluster")["shd1"] == "Online", 30, "shd1 Online", cp.procs.tails)

        def shd_moved() -> bool:
            pid = shd_pids(cp, "mv")["shd1"]
            return pid is not None and pid != local_shd and follows_server(pid)

        wait_for(shd_moved, 30, "node1's self-heal daemon on the volfile server", cp.procs.tails)
        assert running_pid(brick_pidfile, "glusterfsd") == local_brick  # a brick is never restarted alone
        wait_for(lambda: volume(cp, "mv")["health"] == "Up", 60, "health Up", cp.procs.tails)

        # a change that touches no brick graph still moves the brick, by the rolling restart
        kadalu(cp, "volume", "set", "-c", "mycluster", "mv", "cluster.heal-timeout", "79", "--wait")
        count = len(written)
        wait_for(lambda: len(written) > count + 20, 30, "the writer to go on after the change")
    finally:
        stop.set()
        thread.join()
    after = volume(cp, "mv")
    assert after["state"] == "Started" and errors == []
    assert all(follows_server(b["pid"]) for b in after["bricks"])
    assert next(b for b in after["bricks"] if b["node"] == "shd1")["pid"] != local_brick
    assert all(pid is not None and follows_server(pid) for pid in shd_pids(cp, "mv").values())
    assert [(mnt / n).read_text() for n in written[-5:]] == [f"payload {int(n[1:])}\n" for n in written[-5:]]
    kadalu(cp, "umount", str(mnt))
