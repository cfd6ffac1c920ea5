"""A failed expand on real bricks: retried once its cause is fixed, or aborted, with the volume's
data readable throughout (control plane, three agents, glusterfsd bricks, a FUSE mount)."""
import os
import shutil

import pytest

from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import gcp, kadalu, mount, volume  # noqa: F401  (gcp is a fixture)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
]


def brick(cp, node: str, name: str) -> str:
    return str(cp.root / "exports" / node / name)


def occupied(path: str) -> None:
    """An existing directory holding someone's file: the agent does not take it over as a brick."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "someones-file"), "w") as f:
        f.write("not kadalu's")


def expand_fails(cp, name: str, new: str) -> dict:
    out = kadalu(cp, "volume", "expand", "-c", "mycluster", name, new, "--wait", ok=False)
    assert out.returncode == 1, out.stdout + out.stderr
    got = wait_for(lambda: (v := volume(cp, name))["state"] == "ExpandFailed" and v, 60, "ExpandFailed")
    assert "not_empty" in out.stderr or "holds files" in got["reason"] or "not empty" in got["reason"], got["reason"]
    return got


def test_failed_expand_retried_then_aborted_on_real_bricks(gcp):
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "ev", f"node1:{brick(cp, 'node1', 'ev-0')}", "--wait")
    mnt = mount(cp, "ev")
    for i in range(20):
        (mnt / f"f{i}").write_text(f"data {i}")

    # 1. a new brick on an occupied directory: the expand fails, and only retry or abort are accepted
    second = brick(cp, "node2", "ev-1")
    occupied(second)
    expand_fails(cp, "ev", f"node2:{second}")
    refused = kadalu(cp, "volume", "stop", "-c", "mycluster", "ev", "--yes", ok=False)
    assert refused.returncode != 0
    # the cause fixed, a retry creates and starts the brick and the volume is back to Started
    os.unlink(os.path.join(second, "someones-file"))
    kadalu(cp, "volume", "expand", "-c", "mycluster", "ev", "--retry", "--wait")
    got = volume(cp, "ev")
    assert got["state"] == "Started" and got["brick_count"] == 2
    wait_for(lambda: all(b["online"] for b in volume(cp, "ev")["bricks"]), 60, "both bricks online")

    # 2. another failed expand, aborted: the volume returns to its two bricks; the directory is left as it was
    third = brick(cp, "node3", "ev-2")
    occupied(third)
    expand_fails(cp, "ev", f"node3:{third}")
    kadalu(cp, "volume", "expand", "-c", "mycluster", "ev", "--abort", "--wait")
    got = volume(cp, "ev")
    assert got["state"] == "Started" and [b["path"] for b in got["bricks"]] == [brick(cp, "node1", "ev-0"), second]
    assert open(os.path.join(third, "someones-file")).read() == "not kadalu's"
    assert "trusted.glusterfs.volume-id" not in os.listxattr(third)
    assert sorted(p.name for p in mnt.iterdir()) == sorted(f"f{i}" for i in range(20))
    assert all((mnt / f"f{i}").read_text() == f"data {i}" for i in range(20))
