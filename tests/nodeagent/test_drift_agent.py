"""The agent's side of drift: what a report says of a brick directory (its volume-id xattr, .glusterfs,
a missing or replaced directory, a brick outside the devices), and the volume-id rule of a repair:
put back a missing id only on a directory prepared as a brick, never overwrite another id.
Real directories and trusted xattrs under a tmp dir (needs root)."""
import os
import uuid

import pytest

from contracts.drift import digest_of
from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent import drift_report
from nodeagent.drift_repair import check_volume_id
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR, prepare_brick
from tests.nodeagent.agent_factory import NOT_ROOT, add_device, agent

pytestmark = pytest.mark.skipif(NOT_ROOT, reason="trusted.* xattrs need root")


def test_a_missing_id_is_put_back_only_on_a_prepared_brick_and_another_id_never_overwritten(tmp_path):
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    brick = tmp_path / "b1"
    prepare_brick(str(brick), mine)
    assert check_volume_id(str(brick), mine, restore=False) == []
    (brick / "x").write_text("data")
    os.setxattr(brick, VOLUME_ID_XATTR, uuid.UUID(other).bytes)
    with pytest.raises(AgentError) as refused:
        check_volume_id(str(brick), mine, restore=True)
    assert refused.value.code == "foreign_volume_id" and other in refused.value.message
    assert str(uuid.UUID(bytes=os.getxattr(brick, VOLUME_ID_XATTR))) == other  # untouched
    os.removexattr(brick, VOLUME_ID_XATTR)
    with pytest.raises(AgentError) as not_asked:
        check_volume_id(str(brick), mine, restore=False)
    assert not_asked.value.code == "volume_id_missing"
    assert check_volume_id(str(brick), mine, restore=True) == ["volume_id"]
    assert str(uuid.UUID(bytes=os.getxattr(brick, VOLUME_ID_XATTR))) == mine
    empty = tmp_path / "mountpoint"
    empty.mkdir()
    with pytest.raises(AgentError) as unproven:
        check_volume_id(str(empty), mine, restore=True)
    assert unproven.value.code == "not_a_brick"
    with pytest.raises(AgentError) as gone:
        check_volume_id(str(tmp_path / "nothing"), mine, restore=True)
    assert gone.value.code == "brick_missing"


def test_the_report_describes_each_brick_directory_as_it_is(tmp_path):
    root = tmp_path / "devices"
    (root / "d1").mkdir(parents=True)
    ctx = agent(tmp_path, (str(root),))
    add_device(ctx, root / "d1")
    vol_id = str(uuid.uuid4())
    bricks = [BrickSpec(id=str(uuid.uuid4()), node_id=ctx.node_id, node_name="n1", address="127.0.1.1",
                        path=str(root / "d1" / f"b{i}"), port=49152 + i) for i in range(3)]
    bricks.append(BrickSpec(id=str(uuid.uuid4()), node_id=ctx.node_id, node_name="n1", address="127.0.1.1",
                            path=str(tmp_path / "elsewhere"), port=49160))
    spec = VolumeSpec(id=vol_id, name="v1", type="distribute", bricks=bricks)
    ctx.state.save_metadata(7, {"volumes": [{"spec": spec.model_dump(), "state": "Started"}]})
    prepare_brick(bricks[0].path, vol_id)
    (root / "d1" / "b2").write_text("a file where a brick should be")
    report = drift_report.build(ctx)
    seen = {b.brick_id: b for b in report.bricks}
    ok, missing, file_, outside = (seen[b.id] for b in bricks)
    assert (ok.directory, ok.volume_id_xattr, ok.has_glusterfs_dir, ok.pid) == ("ok", vol_id, True, None)
    assert ok.volfile_sha256 == ""  # never started: no volfile
    assert missing.directory == "missing" and file_.directory == "not_a_directory"
    assert outside.directory == "unreadable"  # outside the devices: not looked at
    assert report.metadata_version == 7 and report.daemons == []  # distribute: no self-heal daemon
    assert [d.present for d in report.devices] == [True]
    assert report.digest == digest_of(report)
    assert drift_report.build(ctx).digest == report.digest  # nothing changed: the same digest
    (root / "d1" / "b1").mkdir()
    assert drift_report.build(ctx).digest != report.digest
