"""Geo-replication end to end on one machine: two clusters in one control plane (master replica 3 on
127.0.50.1-3, remote distribute on 127.0.50.11-12), real gsyncd and rsync, a real sshd per remote
node with generated keys. Files, directories, renames, deletes, symlinks, hard links and a 100 MB
file reach the remote with identical checksums; pause/resume and stop/start go on without a new
full crawl; delete leaves no gsyncd, session directory or master option behind."""
import json
import os

import pytest

from tests.integration.georep_setup import MASTERS, cleanup, mount, tree, two_clusters
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import kadalu

pytestmark = pytest.mark.integration


@pytest.fixture
def two(cp):
    cp.mounts = []
    try:
        cp.ssh_port = two_clusters(cp)
        yield cp
    finally:
        cleanup(cp, cp.mounts)


def links(root, names) -> int:
    return len({os.stat(os.path.join(root, n)).st_ino for n in names})


def status(cp, session_id) -> dict:
    return json.loads(kadalu(cp, "geo-replication", "status", session_id, "-c", "master", "--json").stdout)


@pytest.mark.xfail(run=False, strict=True, reason=(
    "issue #10, open: the remote side's gsyncd mount fetches its volfile from an unprivileged source port and the "
    "slave agent's volfile server refuses it (only root may fetch volfiles), so the workers go Faulty and nothing "
    "is copied yet"))
def test_georep_sync_pause_resume_stop_start_delete(two):
    cp = two
    out = kadalu(cp, "geo-replication", "create", "-c", "master", "--remote-user", "root", "--remote-cluster", "remote",
                 "--ssh-port", str(cp.ssh_port), "mv", "rv", "--wait", "--timeout", "120").stdout
    assert "Geo-replication session creation request sent." in out
    session_id = out.split("ID: ")[1].split()[0]
    master, remote = mount(cp, "master", "mv", cp.mounts), mount(cp, "remote", "rv", cp.mounts)

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
