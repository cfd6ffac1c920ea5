"""Quota end to end on real bricks: a replica-3 volume on three agents (127.0.51.1-3), quota
enabled on a volume that already holds data, a 10 MiB limit on a directory; writes past it fail
with EDQUOT, `quota list` shows the usage the nodes report, an alert fires and /metrics shows it;
a limit on a directory that does not exist is refused and rolled back; disable removes the limit.

The quota translators cache a directory's size for features.soft-timeout / hard-timeout seconds
(60 / 5 by default): the test sets both to 0 so a write past the limit is refused at once, and
polls for everything the nodes report (no timed asserts)."""
import errno
import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from contracts.quota import LIMIT_XATTR
from nodeagent.gluster.mount import fuse_mounted, umount
from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import add_devices, brick_dirs, kadalu, mount, volume
from tests.prom_samples import value

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]
NODES = ("node1", "node2", "node3")
MiB = 1024 * 1024


@pytest.fixture
def qcp(cp, tmp_path):
    cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
    for i, name in enumerate(NODES, start=1):
        cp.start_agent(name, f"127.0.51.{i}", cp.join_token)
    try:
        wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online",
                 cp.procs.tails)
        cp.home = tmp_path / "home"
        kadalu(cp, "login", "--username", "admin", "--password", "password-123")
        cp.exports = add_devices(cp, "exports")
        yield cp
    finally:
        for name in NODES:  # the agents unmount their quota mounts as they exit; then whatever is left
            cp.procs.stop(f"agent-{name}")
        for mnt in sorted(cp.root.glob("agents/*/quota/*/*")):
            if mnt.is_dir() and fuse_mounted(str(mnt)):
                umount(str(mnt))


def quota_list(cp, name: str) -> dict:
    return json.loads(kadalu(cp, "volume", "quota", "list", "-c", "mycluster", name, "--json").stdout)


def quota_xattrs(brick: dict, prefix: str) -> list[str]:
    return [x for x in os.listxattr(os.path.join(brick["path"], "projects", "a")) if x.startswith(prefix)]


def write_until_refused(directory: Path, files: int) -> tuple[int, OSError | None]:
    """Write `files` files of 1 MiB; stop at the first error. (files written, the error)."""
    chunk = b"q" * MiB
    for i in range(files):
        try:
            with open(directory / f"f{i:03d}", "wb") as f:
                f.write(chunk)
        except OSError as exc:
            return i, exc
    return files, None


def test_quota_limit_refuses_writes_past_it_and_is_reported(qcp):
    cp = qcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "qv", "--replica", "3", *brick_dirs(cp, "qv"), "--wait")
    wait_for(lambda: volume(cp, "qv")["health"] == "Up", 30, "health Up", cp.procs.tails)
    mnt = mount(cp, "qv")
    (mnt / "projects" / "a").mkdir(parents=True)
    (mnt / "projects" / "a" / "before").write_bytes(b"b" * (2 * MiB))  # there before quota: the crawl counts it

    refused = kadalu(cp, "volume", "quota", "list", "-c", "mycluster", "qv", ok=False)
    assert refused.returncode != 0 and "quota is not enabled on volume 'qv'" in refused.stderr
    kadalu(cp, "volume", "set", "-c", "mycluster", "qv", "features.soft-timeout", "0", "features.hard-timeout", "0",
           "--wait")
    pids = [b["pid"] for b in volume(cp, "qv")["bricks"]]
    t0 = time.monotonic()
    kadalu(cp, "volume", "quota", "enable", "-c", "mycluster", "qv", "--wait")
    print(f"quota enable --wait on a running replica-3 volume: {time.monotonic() - t0:.2f} s")
    vol = volume(cp, "qv")
    assert vol["state"] == "Started" and [b["pid"] for b in vol["bricks"]] == pids  # taken in place
    assert vol["options"]["features.quota"] == "on" and vol["options"]["features.quota-version"] == "1"
    wait_for(lambda: any((cp.root / "agents" / n / "run" / "quotad.pid").exists() for n in NODES), 60,
             "a quota daemon", cp.procs.tails)

    missing = kadalu(cp, "volume", "quota", "limit-usage", "-c", "mycluster", "qv", "/nope", "1MiB", "--wait", ok=False)
    assert missing.returncode == 1 and "directory /nope does not exist in volume qv" in missing.stderr
    assert [q["path"] for q in quota_list(cp, "qv")["limits"]] == []  # rolled back

    kadalu(cp, "volume", "quota", "limit-usage", "-c", "mycluster", "qv", "/projects/a", "10MiB", "--soft-limit", "50%",
           "--wait")
    for b in vol["bricks"]:  # the limit is on the directory on every brick of the set (marker names it
        assert quota_xattrs(b, LIMIT_XATTR)  # with the quota-version: limit-set.1)

    # counted by the crawl, then reported by the volume's reporting node
    wait_for(lambda: quota_list(cp, "qv")["limits"][0]["used_bytes"] >= 2 * MiB, 90, "the existing data counted",
             cp.procs.tails)
    written, error = write_until_refused(mnt / "projects" / "a", 40)
    assert error is not None and error.errno == errno.EDQUOT, (written, error)
    print(f"EDQUOT at the write of file {written + 1} (1 MiB each) after 2 MiB were there: {error}")
    assert 7 <= written <= 12, written  # 2 MiB there before + at most what the hard limit allows (and a write of slack)
    with open(mnt / "other.txt", "wb") as f:  # outside the limited directory: no limit
        f.write(b"o" * (4 * MiB))

    row = wait_for(lambda: (q := quota_list(cp, "qv")["limits"][0])["hard_exceeded"] and q, 90,
                   "usage past the hard limit reported", cp.procs.tails)
    assert row["path"] == "/projects/a" and row["hard_bytes"] == 10 * MiB and row["soft_percent"] == 50
    assert row["used_bytes"] >= 10 * MiB and row["available_bytes"] == 0 and row["soft_exceeded"]
    table = kadalu(cp, "volume", "quota", "list", "-c", "mycluster", "qv").stdout
    assert "/projects/a" in table and "10.0 MiB" in table
    alerts = cp.api("GET", "/clusters/mycluster/alerts").json()["data"]
    assert {"quota_hard_exceeded", "quota_soft_exceeded"} <= {a["kind"] for a in alerts if a["state"] == "firing"}
    metrics = httpx.get(f"{cp.url}/metrics", headers={"Authorization": f"Bearer {cp.token}"}).text
    assert value(metrics, "kadalu_quota_limit_bytes", cluster="mycluster", path="/projects/a", volume="qv") == 10 * MiB
    assert value(metrics, "kadalu_quota_exceeded", cluster="mycluster", limit="hard", path="/projects/a", volume="qv") == 1

    kadalu(cp, "volume", "quota", "disable", "-c", "mycluster", "qv", "--wait")
    assert kadalu(cp, "volume", "quota", "list", "-c", "mycluster", "qv", ok=False).returncode != 0
    assert volume(cp, "qv")["options"].get("features.quota") is None
    # the nodes clean the quota xattrs off the bricks (the limit with them), and writes go on
    wait_for(lambda: not any(quota_xattrs(b, "trusted.glusterfs.quota") for b in vol["bricks"]), 90,
             "the quota xattrs cleaned", cp.procs.tails)
    written, error = write_until_refused(mnt / "projects" / "a", 4)
    assert error is None and written == 4
    kadalu(cp, "umount", str(mnt))
