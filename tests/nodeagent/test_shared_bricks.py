"""shared-brick-count: bricks of one volume on one node's same filesystem (glusterd's fs_share_count)."""
from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.shared_bricks import shared_brick_count

N1, N2 = "6f1c0d2e-0000-4000-8000-000000000001", "6f1c0d2e-0000-4000-8000-000000000002"


def _spec(paths_nodes) -> VolumeSpec:
    return VolumeSpec(id="a1b2c3d4-0000-4000-8000-000000000001", name="v", type="distribute", bricks=[
        {"id": f"b0000000-0000-4000-8000-{i:012d}", "node_id": node, "node_name": "n", "address": "127.0.0.1",
         "path": str(path), "port": 49152 + i} for i, (path, node) in enumerate(paths_nodes)])


def test_bricks_on_one_filesystem_of_one_node_share_it(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    spec = _spec([(tmp_path / "a", N1), (tmp_path / "b", N1), (tmp_path / "c", N2), (tmp_path / "missing", N1)])
    # a brick not made yet counts on the filesystem of its parent: bricks start one at a time
    assert [shared_brick_count(spec, b) for b in spec.bricks] == [3, 3, 1, 3]


def test_a_brick_on_another_filesystem_counts_alone(tmp_path):
    (tmp_path / "a").mkdir()
    spec = _spec([(tmp_path / "a", N1), ("/proc/self", N1)])  # /proc is never the test's filesystem
    assert [shared_brick_count(spec, b) for b in spec.bricks] == [1, 1]
