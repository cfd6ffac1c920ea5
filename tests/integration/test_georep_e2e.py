"""Geo-replication end to end on one machine: two clusters in one control plane (master replica 3 on
127.0.50.1-3, remote distribute on 127.0.50.11-12), real gsyncd and rsync, a real sshd per remote
node with generated keys. Files, directories, renames, deletes, symlinks, hard links and a 100 MB
file reach the remote with identical checksums; pause/resume and stop/start go on without a new
full crawl; delete leaves no gsyncd, session directory or master option behind."""
import hashlib
import json
import os
import subprocess

import pytest

from controlplane.embedded_redis import free_port
from tests.integration.georep_sshd import start_sshd
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import kadalu

pytestmark = pytest.mark.integration
MASTERS = {"m1": "127.0.50.1", "m2": "127.0.50.2", "m3": "127.0.50.3"}
REMOTES = {"r1": "127.0.50.11", "r2": "127.0.50.12"}


def devices(cp, cluster: str, nodes) -> None:
    tasks = []
    for node in nodes:
        path = cp.root / "exports" / node
        path.mkdir(parents=True, exist_ok=True)
        r = cp.api("POST", f"/clusters/{cluster}/nodes/{node}/devices", json={"path": str(path)})
        assert r.status_code == 202, r.text
        tasks.append(r.json()["task"]["id"])
    for task_id in tasks:
        assert cp.wait_task_done(task_id)["phase"] == "done", cp.task(task_id)


@pytest.fixture
def two(cp):
    for cluster, nodes in (("master", MASTERS), ("remote", REMOTES)):
        token = cp.api("POST", "/clusters", json={"name": cluster}).json()["join_token"]
        for name, address in nodes.items():
            cp.start_agent(name, address, token)
        wait_for(lambda c=cluster, n=nodes: cp.node_states(c) == {k: "Online" for k in n}, 60, "agents Online",
                 cp.procs.tails)
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    devices(cp, "master", MASTERS)
    devices(cp, "remote", REMOTES)
    port = free_port()
    for name, address in REMOTES.items():
        keys = cp.root / "agents" / name / "georep" / "authorized_keys" / "%u"
        start_sshd(cp.procs, cp.root, name, address, keys, port)
    cp.ssh_port = port
    bricks = [f"{n}:{cp.root / 'exports' / n / 'mv'}" for n in MASTERS]
    kadalu(cp, "volume", "create", "-c", "master", "mv", "--replica", "3", *bricks, "--wait")
    kadalu(cp, "volume", "create", "-c", "remote", "rv", *[f"{n}:{cp.root / 'exports' / n / 'rv'}" for n in REMOTES],
           "--wait")
    cp.mounts = []
    try:
        yield cp
    finally:
        for mnt in cp.mounts:
            subprocess.run(["umount", "-l", str(mnt)], check=False)
        for pidfile in sorted((cp.root / "agents").glob("*/georep/sessions/*/monitor.pid")):
            stop_group(pidfile)
        for mnt in sorted((cp.root / "agents").glob("*/georep/sessions/*/meta")):
            subprocess.run(["umount", "-l", str(mnt)], check=False)


def stop_group(pidfile) -> None:
    """What the agent does on stop, for a test that failed half-way: the gsyncd monitor's group."""
    import signal
    try:
        pid = int(pidfile.read_text().strip())
        group = os.getpgid(pid)
        if "gsyncd" in open(f"/proc/{pid}/cmdline").read():
            os.killpg(group, signal.SIGCONT)
            os.killpg(group, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def mount(cp, cluster: str, volume: str):
    mnt = cp.root / "mnt" / f"{cluster}-{volume}"
    kadalu(cp, "mount", "-c", cluster, volume, str(mnt), "--log-file", str(cp.root / f"mount-{cluster}-{volume}.log"))
    cp.mounts.append(mnt)
    return mnt


def tree(root) -> dict[str, str]:
    """Every entry below root: a file's sha256, a symlink's target, 'dir'; hard links as inode groups."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel.startswith(".trashcan") or rel.startswith(".glusterfs"):
            continue
        for d in dirnames:
            if not (rel == "." and d in (".trashcan", ".glusterfs")):
                out[os.path.normpath(os.path.join(rel, d))] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            key = os.path.normpath(os.path.join(rel, f))
            if os.path.islink(p):
                out[key] = "-> " + os.readlink(p)
            else:
                with open(p, "rb") as fh:
                    out[key] = hashlib.sha256(fh.read()).hexdigest()
    return out


def links(root, names) -> int:
    return len({os.stat(os.path.join(root, n)).st_ino for n in names})


def status(cp, session_id) -> dict:
    return json.loads(kadalu(cp, "geo-replication", "status", session_id, "-c", "master", "--json").stdout)


def test_georep_sync_pause_resume_stop_start_delete(two):
    cp = two
    out = kadalu(cp, "geo-replication", "create", "-c", "master", "--remote-user", "root", "--remote-cluster", "remote",
                 "--ssh-port", str(cp.ssh_port), "mv", "rv", "--wait", "--timeout", "120").stdout
    assert "Geo-replication session creation request sent." in out
    session_id = out.split("ID: ")[1].split()[0]
    master, remote = mount(cp, "master", "mv"), mount(cp, "remote", "rv")

    (master / "dir1" / "sub").mkdir(parents=True)
    for i in range(50):
        (master / "dir1" / f"f{i}").write_bytes(os.urandom(1000 + i))
    (master / "dir1" / "sub" / "deep").write_text("deep")
    (master / "big").write_bytes(os.urandom(100 << 20))
    os.symlink("dir1/f1", master / "sym")
    os.link(master / "dir1" / "f2", master / "hard")
    wait_for(lambda: tree(remote) == tree(master), 300, "first sync", cp.procs.tails)
    assert links(remote, ["dir1/f2", "hard"]) == 1

    os.rename(master / "dir1" / "f3", master / "dir1" / "renamed")
    os.rename(master / "dir1" / "sub", master / "moved")
    os.unlink(master / "dir1" / "f4")
    wait_for(lambda: tree(remote) == tree(master), 120, "renames and deletes", cp.procs.tails)
    workers = status(cp, session_id)["workers"]
    assert sorted(w["role"] for w in workers) == ["Active", "Passive", "Passive"]
    wait_for(lambda: any(w["status"] == "Active" and w["crawl_status"] == "Changelog Crawl"
                         for w in status(cp, session_id)["workers"]), 60, "changelog crawl reported", cp.procs.tails)

    kadalu(cp, "geo-replication", "pause", session_id, "-c", "master", "--wait")
    (master / "while-paused").write_text("later")
    kadalu(cp, "geo-replication", "resume", session_id, "-c", "master", "--wait")
    wait_for(lambda: (remote / "while-paused").exists() and tree(remote) == tree(master), 120, "after resume",
             cp.procs.tails)

    kadalu(cp, "geo-replication", "stop", session_id, "-c", "master", "--wait")
    (master / "while-stopped").write_text("later")
    kadalu(cp, "geo-replication", "start", session_id, "-c", "master", "--wait")
    wait_for(lambda: tree(remote) == tree(master), 120, "after stop/start", cp.procs.tails)
    # no new full crawl: the Active worker goes on from its changelogs (history, then live)
    assert all(w["crawl_status"] != "Hybrid Crawl" for w in status(cp, session_id)["workers"])

    kadalu(cp, "geo-replication", "stop", session_id, "-c", "master", "--wait")
    kadalu(cp, "geo-replication", "delete", session_id, "-c", "master", "--wait")
    assert cp.api("GET", f"/clusters/master/geo-replication/{session_id}").status_code == 404
    for name in MASTERS:
        assert not (cp.root / "agents" / name / "georep" / "sessions" / session_id).exists()
    opts = cp.api("GET", "/clusters/master/volumes/mv").json()["options"]
    assert not {"changelog.changelog", "geo-replication.indexing"} & set(opts)
    assert not [p for p in os.listdir("/proc") if p.isdigit() and _is_session_gsyncd(p, session_id)]


def _is_session_gsyncd(pid: str, session_id: str) -> bool:
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except OSError:
        return False
    return "gsyncd" in cmd and session_id in cmd
