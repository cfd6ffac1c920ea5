"""Volume options on real bricks: a brick-side option reaches the running bricks (rolling
restarts) while a writer on a replica-3 mount sees no error; reset takes it away again."""
import os
import threading

import pytest

from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import brick_dirs, gcp, kadalu, mount, volume  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def brick_volfiles(cp, vol):
    return [cp.root / "agents" / b["node"] / "volfiles" / vol["id"] for b in vol["bricks"]]


def running_volfile_text(cp, vol, brick):
    """The volfile the running brick process was started with (its -f argument)."""
    args = open(f"/proc/{brick['pid']}/cmdline").read().split("\0")
    return open(args[args.index("-f") + 1]).read()


def test_brick_option_rolls_through_bricks_while_a_writer_keeps_writing(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "ov", "--replica", "3", *brick_dirs(cp, "ov"), "--wait")
    wait_for(lambda: volume(cp, "ov")["health"] == "Up", 30, "health Up", cp.procs.tails)
    before = volume(cp, "ov")
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
        kadalu(cp, "volume", "set", "-c", "mycluster", "ov", "diagnostics.brick-log-level", "DEBUG", "--wait")
    finally:
        stop.set()
        thread.join()
    assert errors == [] and len(written) > 10
    after = volume(cp, "ov")
    assert after["state"] == "Started" and after["options"] == {"diagnostics.brick-log-level": "DEBUG"}
    assert all(a["pid"] != b["pid"] for a, b in zip(after["bricks"], before["bricks"], strict=True))
    for brick in after["bricks"]:
        assert "option log-level DEBUG" in running_volfile_text(cp, after, brick)
    assert [(mnt / n).read_text() for n in written[-5:]] == [f"payload {int(n[1:])}\n" for n in written[-5:]]

    kadalu(cp, "volume", "reset", "-c", "mycluster", "ov", "diagnostics.brick-log-level", "--wait")
    reset = volume(cp, "ov")
    assert reset["options"] == {}
    for brick in reset["bricks"]:
        assert "log-level DEBUG" not in running_volfile_text(cp, reset, brick)
    kadalu(cp, "umount", str(mnt))


def test_client_option_reaches_a_mounted_client_live(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "cv", "--replica", "3", *brick_dirs(cp, "cv"), "--wait")
    mnt = mount(cp, "cv")
    log = cp.root / "mount-cv.log"
    assert "performance/write-behind" in log.read_text()  # the graph the client started with
    kadalu(cp, "volume", "set", "-c", "mycluster", "cv", "performance.write-behind", "off", "--wait")
    # agents pick the change up from the metadata (at most their 30 s refresh) and push it to the
    # client, which switches graphs at its next file operation
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
