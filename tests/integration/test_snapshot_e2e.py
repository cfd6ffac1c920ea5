"""Snapshots end to end on real btrfs file systems on loop devices: a replica-3 volume on three
agents (127.0.52.1-3), each node's brick on its own btrfs. A snapshot taken while a writer runs,
activated and mounted read-only; a clone that is writable and independent; a restore; a snapshot
that fails on one node, leaving nothing behind and no barrier on; a volume on another file system
refused before anything starts."""
import errno
import json
import os
import threading

import pytest

from tests.integration import btrfs_devices
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import kadalu, mount, volume

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not btrfs_devices.available(), reason="btrfs-progs or loop devices missing (scripts/setup.sh)"),
]
NODES = ("node1", "node2", "node3")
C = "mycluster"


@pytest.fixture
def bcp(cp, tmp_path):
    """Three agents, each with a btrfs file system on a loop device registered as its device."""
    disks = [btrfs_devices.LoopBtrfs(tmp_path / f"{n}.img", tmp_path / "btrfs" / n) for n in NODES]
    try:
        for d in disks:
            d.make()
        cp.join_token = cp.api("POST", "/clusters", json={"name": C}).json()["join_token"]
        for i, name in enumerate(NODES, start=1):
            cp.start_agent(name, f"127.0.52.{i}", cp.join_token)
        wait_for(lambda: cp.node_states(C) == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
        kadalu(cp, "login", "--username", "admin", "--password", "password-123")
        for d, node in zip(disks, NODES, strict=True):
            r = cp.api("POST", f"/clusters/{C}/nodes/{node}/devices", json={"path": str(d.mountpoint)})
            assert r.status_code == 202, r.text
            assert cp.wait_task_done(r.json()["task"]["id"])["phase"] == "done"
        cp.disks = disks
        yield cp
    finally:
        cp.stop()  # mounts and bricks first: the file systems are busy until they are gone
        for d in disks:
            d.remove()


def bricks(cp, name):
    return [f"{n}:{d.mountpoint / name}" for n, d in zip(NODES, cp.disks, strict=True)]


def snapshot(cp, name):
    return cp.api("GET", f"/clusters/{C}/snapshots/{name}").json()


def snapshot_dirs(cp):
    """What is left under each node's .kadalu-snapshots directory."""
    out = []
    for d in cp.disks:
        root = d.mountpoint / ".kadalu-snapshots"
        if root.is_dir():
            out += [str(p) for p in root.rglob("*") if p.parent.parent == root]
    return out


def barrier_log(cp, volume_name):
    """(on, off) barrier notifications logged by the bricks of `volume_name` (glusterfsd passes the
    barrier request to features/changelog too, which logs it), one pair per node."""
    out = []
    for node, d in zip(NODES, cp.disks, strict=True):
        path = f"--brick-name {d.mountpoint / volume_name} "
        for log in (cp.root / "agents" / node / "logs" / "bricks").glob("*.log"):
            text = log.read_text(errors="replace")
            if path in text:
                out.append((text.count("Barrier notification [{on}]"), text.count("Barrier notification [{off}]")))
    return out


class Writer(threading.Thread):
    """Writes numbered files into a mount until stopped; each is written whole and closed."""

    def __init__(self, where):
        super().__init__(daemon=True)
        self.where, self.stop, self.written = where, threading.Event(), []

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = f"w{i:05d}"
            (self.where / name).write_text(f"{name}\n" * 64)
            self.written.append(name)
            i += 1


def test_snapshot_while_writing_activate_clone_restore_delete(bcp):
    cp = bcp
    kadalu(cp, "volume", "create", "-c", C, "sv", "--replica", "3", *bricks(cp, "sv"), "--wait")
    mnt = mount(cp, "sv")
    (mnt / "before.txt").write_text("before the snapshot\n")
    writer = Writer(mnt)
    writer.start()
    wait_for(lambda: len(writer.written) > 20, 60, "the writer to get going")
    try:
        out = kadalu(cp, "snapshot", "create", "-c", C, "sv", "s1", "--description", "while writing", "--wait")
    finally:
        writer.stop.set()
        writer.join(60)
    assert "Snapshot s1 is Created" in out.stdout, out.stdout
    snap = snapshot(cp, "s1")
    assert snap["state"] == "Created" and {b["backend"] for b in snap["bricks"]} == {"btrfs"}
    assert all(b["path"].startswith(str(d.mountpoint / ".kadalu-snapshots"))
               for b, d in zip(snap["bricks"], cp.disks, strict=True))
    assert barrier_log(cp, "sv") == [(1, 1)] * 3  # on, then off, at every brick
    (mnt / "after.txt").write_text("written after the snapshot\n")
    listed = json.loads(kadalu(cp, "snapshot", "list", "-c", C, "sv", "--json").stdout)
    assert [s["name"] for s in listed["data"]] == ["s1"]

    # activated: mounts read-only and shows the volume as it was
    kadalu(cp, "snapshot", "activate", "-c", C, "s1", "--wait")
    assert snapshot(cp, "s1")["state"] == "Activated"
    smnt = mount(cp, "s1")
    assert (smnt / "before.txt").read_text() == "before the snapshot\n"
    assert not (smnt / "after.txt").exists()
    in_snap = sorted(p.name for p in smnt.iterdir() if p.name.startswith("w"))
    assert in_snap and set(in_snap) <= set(writer.written)
    assert in_snap == writer.written[:len(in_snap)]  # a prefix of what was written: nothing later, no gaps
    with pytest.raises(OSError) as refused:
        (smnt / "new.txt").write_text("must not be written")
    assert refused.value.errno == errno.EROFS
    kadalu(cp, "umount", str(smnt))

    # clone: a writable volume of its own
    kadalu(cp, "snapshot", "clone", "-c", C, "s1", "cv", "--wait")
    assert volume(cp, "cv")["state"] == "Created"
    kadalu(cp, "volume", "start", "-c", C, "cv", "--wait")
    cmnt = mount(cp, "cv")
    assert (cmnt / "before.txt").read_text() == "before the snapshot\n" and not (cmnt / "after.txt").exists()
    (cmnt / "clone-only.txt").write_text("only in the clone\n")
    assert not (mnt / "clone-only.txt").exists()
    (mnt / "origin-only.txt").write_text("only in the origin\n")
    assert not (cmnt / "origin-only.txt").exists()
    kadalu(cp, "umount", str(cmnt))

    # an activated snapshot cannot be restored or deleted; deactivate first
    assert kadalu(cp, "snapshot", "delete", "-c", C, "s1", "--yes", ok=False).returncode != 0
    kadalu(cp, "snapshot", "deactivate", "-c", C, "s1", "--wait")
    assert snapshot(cp, "s1")["state"] == "Deactivated"
    assert cp.api("GET", f"/clusters/{C}/volumes/s1").status_code == 404

    # restore: only onto a stopped volume
    refused_restore = kadalu(cp, "snapshot", "restore", "-c", C, "s1", "--yes", ok=False)
    assert refused_restore.returncode != 0 and "stop it" in refused_restore.stderr
    kadalu(cp, "umount", str(mnt))
    kadalu(cp, "volume", "stop", "-c", C, "sv", "--yes", "--wait")
    kadalu(cp, "snapshot", "restore", "-c", C, "s1", "--yes", "--wait")
    kadalu(cp, "volume", "start", "-c", C, "sv", "--wait")
    mnt = mount(cp, "sv")
    assert (mnt / "before.txt").read_text() == "before the snapshot\n"
    assert not (mnt / "after.txt").exists() and not (mnt / "origin-only.txt").exists()
    restored = {p.name for p in mnt.iterdir() if p.name.startswith("w")}
    # The barrier holds replies of unlink, rename, fsync...: not creates (as under glusterd). Files the
    # writer created between two bricks' takes are in some bricks' copies only (replication reconciles
    # them); the activated mount listed one brick, this one may list another: each is a prefix.
    assert restored == set(writer.written[:len(restored)]), sorted(restored ^ set(in_snap))[:5]
    (mnt / "after-restore.txt").write_text("the restored volume is writable\n")
    kadalu(cp, "umount", str(mnt))

    # a volume with snapshots is not deleted; the snapshot's delete removes its subvolumes
    kadalu(cp, "volume", "stop", "-c", C, "sv", "--yes", "--wait")
    assert "snapshot" in kadalu(cp, "volume", "delete", "-c", C, "sv", "--yes", ok=False).stderr
    kadalu(cp, "snapshot", "delete", "-c", C, "s1", "--yes", "--wait")
    assert cp.api("GET", f"/clusters/{C}/snapshots/s1").status_code == 404
    assert snapshot_dirs(cp) == []


def test_failed_snapshot_leaves_nothing_and_no_barrier(bcp, tmp_path):
    cp = bcp
    kadalu(cp, "volume", "create", "-c", C, "fv", "--replica", "3", *bricks(cp, "fv"), "--wait")
    mnt = mount(cp, "fv")
    (mnt / "keep.txt").write_text("data\n")
    # node3's backend refuses: where its snapshots go is a file, not a directory
    (cp.disks[2].mountpoint / ".kadalu-snapshots").write_text("in the way\n")
    out = kadalu(cp, "snapshot", "create", "-c", C, "fv", "f1", "--wait", ok=False)
    assert out.returncode == 1, out.stdout + out.stderr
    snap = snapshot(cp, "f1")
    assert snap["state"] == "Failed" and "node3" in snap["reason"] and "could not be taken" in snap["reason"], snap
    assert snapshot_dirs(cp) == []  # node1's and node2's snapshots were removed
    assert barrier_log(cp, "fv") == [(1, 1)] * 3  # turned off again at every brick
    # the barrier is off everywhere: operations it would hold (rename, unlink, fsync) complete
    done = threading.Event()

    def held_ops():
        os.rename(mnt / "keep.txt", mnt / "kept.txt")
        with open(mnt / "sync.txt", "w") as f:
            f.write("x")
            f.flush()
            os.fsync(f.fileno())
        os.unlink(mnt / "sync.txt")
        done.set()

    threading.Thread(target=held_ops, daemon=True).start()
    # bounded: the barrier's own timeout (120 s) would release them; well before it, they are through
    assert done.wait(60), "rename/fsync/unlink held: a barrier was left on"
    kadalu(cp, "snapshot", "delete", "-c", C, "f1", "--yes", "--wait")
    kadalu(cp, "umount", str(mnt))

    # a volume whose bricks are not on btrfs (nor LVM thin) is refused before the barrier, naming the brick
    plain = []
    for node in NODES:
        d = cp.root / "plain" / node
        d.mkdir(parents=True)
        r = cp.api("POST", f"/clusters/{C}/nodes/{node}/devices", json={"path": str(d)})
        assert cp.wait_task_done(r.json()["task"]["id"])["phase"] == "done"
        plain.append(f"{node}:{d / 'pv'}")
    kadalu(cp, "volume", "create", "-c", C, "pv", "--replica", "3", *plain, "--wait")
    out = kadalu(cp, "snapshot", "create", "-c", C, "pv", "p1", "--wait", ok=False)
    snap = snapshot(cp, "p1")
    assert snap["state"] == "Failed" and snap["step"] == "" and "cannot snapshot volume 'pv'" in snap["reason"]
    assert f"{cp.root / 'plain' / 'node1' / 'pv'}" in snap["reason"] and "btrfs" in snap["reason"]
    assert all(b["backend"] == "" for b in snap["bricks"])
