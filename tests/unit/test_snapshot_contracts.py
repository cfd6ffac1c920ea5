"""The snapshot state table, arrow by arrow, and the paths both sides derive."""
import pytest

from contracts.snapshot_specs import clone_brick_path, snapshot_container
from contracts.snapshot_states import SNAPSHOT_IN_PROGRESS, SnapshotState
from controlplane.services.errors import Conflict
from controlplane.services.snapshots_table import SNAPSHOT
from nodeagent.snapshots.mounts import mount_of, parse

S = SnapshotState
ALLOWED = {
    (S.CREATING, S.CREATED), (S.CREATING, S.FAILED),
    (S.CREATED, S.ACTIVATING), (S.CREATED, S.RESTORING), (S.CREATED, S.DELETING),
    (S.FAILED, S.DELETING), (S.FAILED, S.DELETED),
    (S.ACTIVATING, S.ACTIVATED), (S.ACTIVATING, S.DEACTIVATED),
    (S.ACTIVATED, S.DEACTIVATING),
    (S.DEACTIVATING, S.DEACTIVATED), (S.DEACTIVATING, S.ACTIVATED),
    (S.DEACTIVATED, S.ACTIVATING), (S.DEACTIVATED, S.RESTORING), (S.DEACTIVATED, S.DELETING),
    (S.RESTORING, S.CREATED), (S.RESTORING, S.DEACTIVATED),
    (S.DELETING, S.DELETED), (S.DELETING, S.CREATED), (S.DELETING, S.DEACTIVATED), (S.DELETING, S.FAILED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("to", list(S))
def test_every_arrow(current, to):
    assert SNAPSHOT.can(current, to) == ((current, to) in ALLOWED)


class Row:
    name, state, reason = "s1", S.ACTIVATED, ""


def test_a_refusal_says_what_to_do():
    with pytest.raises(Conflict) as refused:
        SNAPSHOT.check(Row(), S.DELETING)
    assert "deactivate it first" in refused.value.message
    row = Row()
    row.state = S.CREATING
    with pytest.raises(Conflict) as busy:
        SNAPSHOT.check(row, S.DELETING)
    assert "in progress" in busy.value.message and S.CREATING in SNAPSHOT_IN_PROGRESS


def test_clone_paths_follow_snapshot_paths():
    sid, bid, cvid = "1" * 8 + "-1111-1111-1111-" + "1" * 12, "b" * 8 + "-bbbb-bbbb-bbbb-" + "b" * 12, "c" * 36
    snap = snapshot_container("/dev1/", sid, bid) + "/bricks/b1"
    assert snap == f"/dev1/.kadalu-snapshots/{sid}/{bid}/bricks/b1"
    assert clone_brick_path(snap, sid, cvid) == f"/dev1/.kadalu-clones/{cvid}/{bid}/bricks/b1"
    with pytest.raises(ValueError):
        clone_brick_path("/dev1/elsewhere/b1", sid, cvid)


def test_mountinfo_longest_mount_point_wins_and_escapes_are_read():
    text = ("20 1 8:1 / / rw - ext4 /dev/vda rw\n"
            "30 20 0:39 / /srv/my\\040disks rw - btrfs /dev/loop3 rw\n"
            "31 30 0:40 / /srv/my\\040disks/inner rw - xfs /dev/vg0/lv1 rw\n")
    assert [m.point for m in parse(text)] == ["/", "/srv/my disks", "/srv/my disks/inner"]
    assert mount_of("/srv/my disks/b1", text).fstype == "btrfs"
    assert mount_of("/srv/my disks/inner/x", text).source == "/dev/vg0/lv1"
    assert mount_of("/srv/my disksX", text).fstype == "ext4"
