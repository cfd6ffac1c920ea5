"""Expand + rebalance through the control plane: a distribute volume with 1000 files grows from
2 to 4 bricks; after the rebalance the files are on all four and every one reads back intact."""
import hashlib
import json
import os

import pytest

from tests.integration.test_volumes_e2e import gcp, kadalu, mount, volume  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def data_files(brick_path: str) -> set[str]:
    """Regular files on a brick, without .glusterfs and without DHT link files (mode ---------T)."""
    out = set()
    for entry in os.scandir(brick_path):
        if entry.name == ".glusterfs" or not entry.is_file(follow_symlinks=False):
            continue
        st = entry.stat(follow_symlinks=False)
        if st.st_size == 0 and st.st_mode & 0o7777 == 0o1000:
            continue
        out.add(entry.name)
    return out


def test_distribute_grows_from_two_to_four_bricks_and_rebalances(gcp):  # noqa: F811
    cp = gcp
    exports = cp.root / "exports"  # each node's device (the gcp fixture registered them)
    first = [f"node1:{exports / 'node1' / 'd0'}", f"node2:{exports / 'node2' / 'd1'}"]
    kadalu(cp, "volume", "create", "-c", "mycluster", "dv", *first, "--wait")
    mnt = mount(cp, "dv")
    digests = {}
    for i in range(1000):
        body = f"file {i} ".encode() * (i % 50 + 1)
        (mnt / f"f{i:04d}").write_bytes(body)
        digests[f"f{i:04d}"] = hashlib.sha256(body).hexdigest()

    more = [f"node3:{exports / 'node3' / 'd2'}", f"node1:{exports / 'node1' / 'd3'}"]
    kadalu(cp, "volume", "expand", "-c", "mycluster", "dv", *more, "--wait")
    vol = volume(cp, "dv")
    assert vol["state"] == "Started" and vol["brick_count"] == 4
    assert all(data_files(b["path"]) == set() for b in vol["bricks"][2:])  # nothing moved yet

    kadalu(cp, "volume", "rebalance", "start", "-c", "mycluster", "dv", "--wait", "--timeout", "300")
    status = json.loads(kadalu(cp, "volume", "rebalance", "status", "-c", "mycluster", "dv", "--json").stdout)
    assert status["state"] == "completed" and status["files_failed"] == 0 and status["files_moved"] > 0
    per_brick = [data_files(b["path"]) for b in vol["bricks"]]
    assert all(per_brick), [len(f) for f in per_brick]  # files on all four bricks
    assert sum(len(f) for f in per_brick) == 1000 and set().union(*per_brick) == set(digests)

    for name, digest in digests.items():  # the mount made before the expand follows it live
        assert hashlib.sha256((mnt / name).read_bytes()).hexdigest() == digest, name
    kadalu(cp, "umount", str(mnt))
    fresh = mount(cp, "dv")
    for name, digest in digests.items():
        assert hashlib.sha256((fresh / name).read_bytes()).hexdigest() == digest, name
    kadalu(cp, "umount", str(fresh))
