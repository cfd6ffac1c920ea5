"""Volume options on real bricks: a brick-side option is applied to the running bricks in place
(same pids) while a writer on a replica-3 mount sees no error; a node that was down during a change
takes it on return; a brick restarted while its agent is down comes back with the latest graph it
knew, and is switched to its agent's volfile server by the next change (a rolling restart)."""
import os
import signal
import subprocess
import sys
import threading

import pytest

from nodeagent.gluster.pids import running_pid
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import brick_dirs, gcp, kadalu, mount, volume  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def brick_log(cp, brick) -> str:
    path = cp.root / "agents" / brick["node"] / "logs" / "bricks" / f"{brick['id']}.log"
    return path.read_text() if path.exists() else ""


def argv_of(pid: int) -> list[str]:
    return open(f"/proc/{pid}/cmdline").read().split("\0")


def thread_count_applied(cp, brick, n: int) -> bool:
    """io-threads logs the value it takes on reconfigure (INFO)."""
    return f"thread-count using set value {n}" in brick_log(cp, brick)


def pidfile(cp, brick):
    return cp.root / "agents" / brick["node"] / "run" / f"{brick['id']}.pid"


def test_brick_option_is_applied_in_place_while_a_writer_keeps_writing(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "ov", "--replica", "3", *brick_dirs(cp, "ov"), "--wait")
    wait_for(lambda: volume(cp, "ov")["health"] == "Up", 30, "health Up", cp.procs.tails)
    before = volume(cp, "ov")
    for brick in before["bricks"]:  # each brick follows its own node's agent volfile server
        argv = argv_of(brick["pid"])
        assert "--volfile-server-transport" in argv and "-f" not in argv, argv
    mnt = mount(cp, "ov")
    errors: list[str] = []
    written: list[str] = []
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            name = f"w{i:05d}"
            try:
                with open(mnt / name, "w") as f:
                    f.write(f"payload {i}\n")
                written.append(name)
            except OSError as exc:
                errors.append(f"{name}: {exc}")
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(lambda: len(written) > 20, 30, "the writer to get going")
        kadalu(cp, "volume", "set", "-c", "mycluster", "ov", "performance.io-thread-count", "37", "--wait")
        # --wait returned when every agent saw its brick fetch the new graph: it runs already
        applied = [thread_count_applied(cp, b, 37) for b in before["bricks"]]
        count = len(written)
        wait_for(lambda: len(written) > count + 20, 30, "the writer to go on after the change")
    finally:
        stop.set()
        thread.join()
    assert errors == [] and applied == [True, True, True]
    after = volume(cp, "ov")
    assert after["state"] == "Started" and after["options"] == {"performance.io-thread-count": "37"}
    assert [b["pid"] for b in after["bricks"]] == [b["pid"] for b in before["bricks"]]  # no restart
    assert all(running_pid(pidfile(cp, b), "glusterfsd") == b["pid"] for b in before["bricks"])
    assert all(brick_log(cp, b).count("Final graph") == 1 for b in before["bricks"])  # no new graph built
    assert [(mnt / n).read_text() for n in written[-5:]] == [f"payload {int(n[1:])}\n" for n in written[-5:]]

    kadalu(cp, "volume", "reset", "-c", "mycluster", "ov", "performance.io-thread-count", "--wait")
    reset = volume(cp, "ov")
    assert reset["options"] == {} and reset["state"] == "Started"
    assert [b["pid"] for b in reset["bricks"]] == [b["pid"] for b in before["bricks"]]
    kadalu(cp, "umount", str(mnt))


def test_a_node_down_during_a_change_applies_it_on_return(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "dv", "--replica", "3", *brick_dirs(cp, "dv"), "--wait")
    vol = volume(cp, "dv")
    node3 = next(b for b in vol["bricks"] if b["node"] == "node3")
    others = [b for b in vol["bricks"] if b["node"] != "node3"]
    cp.kill_agent("node3")  # its brick keeps serving
    wait_for(lambda: cp.node_states("mycluster")["node3"] == "Unreachable", 30, "node3 Unreachable", cp.procs.tails)
    kadalu(cp, "volume", "set", "-c", "mycluster", "dv", "performance.io-thread-count", "41")
    wait_for(lambda: all(thread_count_applied(cp, b, 41) for b in others), 30, "the change on node1 and node2",
             cp.procs.tails)
    got = volume(cp, "dv")
    assert got["state"] == "Reconfiguring" and not thread_count_applied(cp, node3, 41)
    assert running_pid(pidfile(cp, node3), "glusterfsd") == node3["pid"]

    cp.start_agent("node3", "127.0.1.3", cp.join_token)
    wait_for(lambda: thread_count_applied(cp, node3, 41), 60, "node3's brick to take the change", cp.procs.tails)
    wait_for(lambda: volume(cp, "dv")["state"] == "Started", 60, "the change to settle", cp.procs.tails)
    assert running_pid(pidfile(cp, node3), "glusterfsd") == node3["pid"]  # in place, on return


def test_brick_restarted_while_its_agent_is_down_comes_back_with_the_latest_graph(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "kv", "--replica", "3", *brick_dirs(cp, "kv"), "--wait")
    kadalu(cp, "volume", "set", "-c", "mycluster", "kv", "performance.io-thread-count", "43", "--wait")
    vol = volume(cp, "kv")
    node1 = next(b for b in vol["bricks"] if b["node"] == "node1")
    cp.kill_agent("node1")
    os.kill(node1["pid"], signal.SIGKILL)
    wait_for(lambda: running_pid(pidfile(cp, node1), "glusterfsd") is None, 10, "brick gone")

    # no agent (so no volfile server): --recover-only starts it from the last volfile node1 served
    done = subprocess.run([sys.executable, "-m", "nodeagent.main", "--recover-only", "--name", "node1",
                           "--address", "127.0.1.1", "--state-dir", str(cp.root / "agents" / "node1"),
                           "--device-root", str(cp.root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    pid = running_pid(pidfile(cp, node1), "glusterfsd")
    assert pid and pid != node1["pid"]
    argv = argv_of(pid)
    assert "option thread-count 43" in open(argv[argv.index("-f") + 1]).read()

    # the agent returns; the next change cannot reach a brick on a local volfile in place, so the
    # bricks restart one per set, and come back following their agents' volfile servers
    cp.start_agent("node1", "127.0.1.1", cp.join_token)
    wait_for(lambda: cp.node_states("mycluster")["node1"] == "Online", 30, "node1 Online", cp.procs.tails)
    wait_for(lambda: volume(cp, "kv")["health"] == "Up", 60, "health Up", cp.procs.tails)
    kadalu(cp, "volume", "set", "-c", "mycluster", "kv", "performance.io-thread-count", "45", "--wait")
    after = volume(cp, "kv")
    assert after["state"] == "Started"
    for brick in after["bricks"]:
        argv = argv_of(brick["pid"])
        assert "--volfile-server-transport" in argv and "-f" not in argv, argv
    brick1 = next(b for b in after["bricks"] if b["node"] == "node1")
    assert brick1["pid"] != pid  # restarted to switch over


def test_client_option_reaches_a_mounted_client_live(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "cv", "--replica", "3", *brick_dirs(cp, "cv"), "--wait")
    mnt = mount(cp, "cv")
    log = cp.root / "mount-cv.log"
    assert "performance/write-behind" in log.read_text()  # the graph the client started with
    kadalu(cp, "volume", "set", "-c", "mycluster", "cv", "performance.write-behind", "off", "--wait")
    # --wait returned once the agents of the volume's nodes pushed it (FETCHSPEC); the client
    # switches graphs at its next file operation
    def switched():
        os.listdir(mnt)
        return log.read_text().count("switched to graph") >= 2

    wait_for(switched, 90, "the mount to switch graphs", cp.procs.tails)
    new_graph = log.read_text().rsplit("Final graph:", 1)[-1]
    assert "performance/write-behind" not in new_graph
    (mnt / "x").write_text("ok\n")
    assert (mnt / "x").read_text() == "ok\n"
    kadalu(cp, "umount", str(mnt))
    assert os.path.exists(os.path.join(volume(cp, "cv")["bricks"][0]["path"], "x"))
