"""Snapshot operations through the API, with the agents' answers played back: the create steps and
their failure paths, activate/deactivate as a read-only volume, restore, clone, delete, schedules."""
from datetime import timedelta

from sqlmodel import Session, col, select

from controlplane.db import utcnow
from controlplane.models import Brick, Snapshot, Task, Volume
from controlplane.services import snapshots_schedule
from tests.api.snapshot_helpers import active, play, started_volume, take
from tests.api.volume_helpers import R3, finish_all


def kinds(client):
    return sorted(t.kind for t in active(client))


def test_create_goes_probe_barrier_take_barrier_off(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    r = admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1", "description": "first"})
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "Creating" and r.json()["step"] == "probe"
    steps = []
    for _ in range(4):
        steps.append(sorted(set(play(client))))
    assert steps == [["SNAPSHOT_PROBE"], ["SNAPSHOT_BARRIER"], ["SNAPSHOT_TAKE"], ["SNAPSHOT_BARRIER"]]
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Created" and snap["usable"] and snap["description"] == "first"
    assert [b["origin_path"] for b in snap["bricks"]] == ["/e/b1", "/e/b2", "/e/b3"]
    assert all(b["backend"] == "btrfs" and "/.kadalu-snapshots/" in b["path"] for b in snap["bricks"])
    with Session(client.app.state.engine) as s:
        barrier = s.exec(select(Task).where(Task.kind == "SNAPSHOT_BARRIER")).all()
    assert sorted(t.spec["enable"] for t in barrier) == [False] * 3 + [True] * 3
    assert admin.get("/clusters/c1/snapshots", params={"volume": "v1"}).json()["count"] == 1


def test_a_failed_take_turns_the_barrier_off_everywhere_and_removes_every_snapshot(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    play(client)  # probe
    play(client)  # barrier on
    play(client, fail_brick="/e/b3", message="no space left")  # take: one node's backend refuses
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Creating" and snap["step"] == "cleanup"
    assert kinds(client) == ["SNAPSHOT_BARRIER"] * 3 + ["SNAPSHOT_REMOVE"] * 3
    assert all(not t.spec["enable"] for t in active(client) if t.kind == "SNAPSHOT_BARRIER")
    play(client)
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Failed" and snap["failed"] and not snap["usable"]
    assert "n3:/e/b3" in snap["reason"] and "no space left" in snap["reason"]
    assert active(client) == []
    r = admin.delete("/clusters/c1/snapshots/s1")  # a delete removes whatever might be left, then the row
    assert r.status_code == 202 and kinds(client) == ["SNAPSHOT_REMOVE"] * 3
    play(client)
    assert admin.get("/clusters/c1/snapshots/s1").status_code == 404


def test_a_failed_barrier_is_undone_and_nothing_is_taken(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    play(client)
    play(client, fail_brick="/e/b2", message="no brick-op socket")
    assert kinds(client) == ["SNAPSHOT_BARRIER"] * 3  # off everywhere, no take, nothing to remove
    play(client)
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Failed" and "n2:/e/b2" in snap["reason"] and "barrier" in snap["reason"]


def test_a_brick_that_cannot_be_snapshotted_fails_it_before_the_barrier(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    play(client, fail_brick="/e/b1", message="is on ext4: snapshots need btrfs or an LVM thin volume")
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Failed" and "n1:/e/b1" in snap["reason"] and "ext4" in snap["reason"]
    assert active(client) == []
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Task).where(Task.kind == "SNAPSHOT_BARRIER")).all() == []
    r = admin.delete("/clusters/c1/snapshots/s1")  # nothing was taken: the row just goes
    assert r.status_code == 202 and r.json()["state"] == "Deleted" and active(client) == []


def test_activate_runs_a_read_only_volume_and_deactivate_drops_it(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    snap = take(client, admin, "v1", "s1")
    r = admin.post("/clusters/c1/snapshots/s1/activate")
    assert r.status_code == 202 and r.json()["state"] == "Activating"
    vol = admin.get("/clusters/c1/volumes/s1").json()
    assert vol["id"] == snap["id"] and vol["options"]["features.read-only"] == "on"
    assert [b["path"] for b in vol["bricks"]] == [b["path"] for b in snap["bricks"]]
    origin_ports = {b["port"] for b in admin.get("/clusters/c1/volumes/v1").json()["bricks"]}
    assert not origin_ports & {b["port"] for b in vol["bricks"]}  # ports of their own
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Activated" and snap["mount_name"] == "s1"
    # the volume it runs as is the snapshot's: volume commands leave it alone
    r = admin.post("/clusters/c1/volumes/s1/stop")
    assert r.status_code == 409 and "snapshot deactivate" in r.json()["detail"]
    assert admin.delete("/clusters/c1/snapshots/s1").status_code == 409
    assert admin.post("/clusters/c1/snapshots/s1/restore").status_code == 409
    r = admin.post("/clusters/c1/snapshots/s1/deactivate")
    assert r.status_code == 202 and r.json()["state"] == "Deactivating"
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/snapshots/s1").json()["state"] == "Deactivated"
    assert admin.get("/clusters/c1/volumes/s1").status_code == 404
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Brick).where(Brick.volume_id == vol["id"])).all() == []
    assert admin.post("/clusters/c1/snapshots/s1/activate").status_code == 202  # again


def test_restore_needs_a_stopped_volume_with_the_same_bricks(client, admin, nodes):
    vol = started_volume(client, admin, "v1", R3)
    take(client, admin, "v1", "s1")
    r = admin.post("/clusters/c1/snapshots/s1/restore")
    assert r.status_code == 409 and "stop it" in r.json()["detail"]
    admin.post("/clusters/c1/volumes/v1/stop")
    finish_all(client, vol["id"])
    r = admin.post("/clusters/c1/snapshots/s1/restore")
    assert r.status_code == 202 and r.json()["state"] == "Restoring"
    assert kinds(client) == ["SNAPSHOT_RESTORE"] * 3
    r = admin.post("/clusters/c1/volumes/v1/start")  # not while its bricks are rolled back
    assert r.status_code == 409 and "being restored" in r.json()["detail"]
    play(client, fail_brick="/e/b2", message="cp failed")
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Created" and "restore failed" in snap["reason"] and "n2:/e/b2" in snap["reason"]
    admin.post("/clusters/c1/snapshots/s1/restore")
    play(client)
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Created" and snap["reason"] == ""
    assert admin.post("/clusters/c1/volumes/v1/start").status_code == 202


def test_clone_makes_a_created_volume_on_copies_of_the_snapshot(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    snap = take(client, admin, "v1", "s1")
    r = admin.post("/clusters/c1/snapshots/s1/clone", {"name": "cv"})
    assert r.status_code == 202, r.text
    cv = admin.get("/clusters/c1/volumes/cv").json()
    assert cv["state"] == "Creating" and cv["type"] == "replicate" and cv["id"] != snap["id"]
    assert all(f"/.kadalu-clones/{cv['id']}/" in b["path"] for b in cv["bricks"])
    clones = active(client)
    assert [t.kind for t in clones] == ["SNAPSHOT_CLONE"] * 3
    assert {t.spec["clone_volume_id"] for t in clones} == {cv["id"]}
    play(client)
    finish_all(client, cv["id"])  # CREATE_BRICK
    cv = admin.get("/clusters/c1/volumes/cv").json()
    assert cv["state"] == "Created" and "features.read-only" not in cv["options"]
    assert admin.get("/clusters/c1/snapshots/s1").json()["state"] == "Created"


def test_delete_removes_the_backend_snapshots_then_the_row(client, admin, nodes):
    vol = started_volume(client, admin, "v1", R3)
    take(client, admin, "v1", "s1")
    admin.post("/clusters/c1/volumes/v1/stop")
    finish_all(client, vol["id"])
    r = admin.delete("/clusters/c1/volumes/v1")
    assert r.status_code == 409 and "s1" in r.json()["detail"]
    r = admin.delete("/clusters/c1/snapshots/s1")
    assert r.status_code == 202 and r.json()["state"] == "Deleting"
    play(client, fail_brick="/e/b1", message="device busy")
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Created" and "delete failed" in snap["reason"]
    admin.delete("/clusters/c1/snapshots/s1")
    play(client)
    assert admin.get("/clusters/c1/snapshots/s1").status_code == 404
    assert admin.delete("/clusters/c1/volumes/v1").status_code == 202


def test_a_schedule_takes_one_snapshot_per_due_run_and_a_missed_run_once(client, admin, nodes):
    vol = started_volume(client, admin, "v1", R3)
    r = client.put("/api/v1/clusters/c1/volumes/v1/snapshot-schedule", json={"every": "1h", "keep": 2},
                   headers=admin.headers)
    assert r.status_code == 200 and r.json()["every"] == "1h" and r.json()["keep"] == 2
    engine = client.app.state.engine
    now = utcnow()
    with Session(engine) as s:
        assert snapshots_schedule.run_due(s, now) == 0  # not due before an hour
        assert snapshots_schedule.run_due(s, now + timedelta(hours=1, seconds=1)) == 1
        assert snapshots_schedule.run_due(s, now + timedelta(hours=1, seconds=1)) == 0  # claimed
    for _ in range(4):
        play(client)
    # the control plane was down for ten hours: one snapshot when it is back, not ten
    later = now + timedelta(hours=11)
    with Session(engine) as s:
        assert snapshots_schedule.run_due(s, later) == 1
        assert snapshots_schedule.run_due(s, later + timedelta(minutes=59)) == 0
    for _ in range(4):
        play(client)
    with Session(engine) as s:
        assert snapshots_schedule.run_due(s, later + timedelta(hours=1)) == 1
        mine = s.exec(select(Snapshot).where(col(Snapshot.volume_id) == vol["id"])).all()
        assert len(mine) == 3 and all(m.schedule_id for m in mine)
        # the oldest is pruned beyond keep=2
        assert sorted(m.state for m in mine) == ["Created", "Creating", "Deleting"]
    assert admin.get("/clusters/c1/volumes/v1/snapshot-schedule").json()["last_run_at"]
    r = admin.delete("/clusters/c1/volumes/v1/snapshot-schedule")
    assert r.status_code == 204
    assert admin.get("/clusters/c1/volumes/v1/snapshot-schedule").status_code == 404
    with Session(engine) as s:
        assert s.exec(select(Volume).where(Volume.name == "v1")).one().state == "Started"


def test_snapshots_are_in_the_metadata_and_the_log_rebuilds_them(client, admin, nodes):
    from controlplane.models import Cluster
    from controlplane.services import metadata

    vol = started_volume(client, admin, "v1", R3)
    with Session(client.app.state.engine) as s:
        cid = s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()
        since = metadata.current(s, cid).version
    snap = take(client, admin, "v1", "s1")
    admin.post("/clusters/c1/snapshots/s1/activate")
    with Session(client.app.state.engine) as s:
        copy = metadata.current(s, cid)
        assert copy.content == metadata.build_content(s, s.get(Cluster, cid))
        (entry,) = copy.content["snapshots"]
        assert entry["id"] == snap["id"] and entry["volume_id"] == vol["id"] and entry["state"] == "Activating"
        assert [b["path"] for b in entry["bricks"]] == [b["path"] for b in snap["bricks"]]
        changes = metadata.changes_since(s, cid, since)
        assert any(snap["id"] in (c.get("snapshots") or {}) for c in changes)
        assert all(set(c) - {"version", "volumes", "snapshots", "nodes"} == set() for c in changes)
    finish_all(client, snap["id"])
    finish_all(client, snap["id"])
    admin.post("/clusters/c1/snapshots/s1/deactivate")
    finish_all(client, snap["id"])
    admin.delete("/clusters/c1/snapshots/s1")
    play(client)
    with Session(client.app.state.engine) as s:
        copy = metadata.current(s, cid)
        assert copy.content["snapshots"] == [] and copy.content == metadata.build_content(s, s.get(Cluster, cid))


def test_takes_that_outlive_the_barrier_timeout_fail_the_snapshot(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s1"})
    play(client)  # probe
    play(client)  # barrier on
    with Session(client.app.state.engine) as s:  # the takes answer after the bricks released the barrier
        snap = s.exec(select(Snapshot).where(Snapshot.name == "s1")).one()
        snap.barrier_since = utcnow() - timedelta(seconds=121)
        s.add(snap)
        s.commit()
    play(client)  # take: all succeed, too late
    assert kinds(client) == ["SNAPSHOT_BARRIER"] * 3 + ["SNAPSHOT_REMOVE"] * 3
    play(client)
    snap = admin.get("/clusters/c1/snapshots/s1").json()
    assert snap["state"] == "Failed" and "barrier timeout (120 s)" in snap["reason"]


def test_snapshots_by_state_are_in_the_metrics(client, admin, nodes):
    started_volume(client, admin, "v1", R3)
    take(client, admin, "v1", "s1")
    admin.post("/clusters/c1/snapshots", {"volume": "v1", "name": "s2"})
    play(client, fail_brick="/e/b1")
    text = client.get("/metrics", headers=admin.headers).text
    assert 'kadalu_snapshots{cluster="c1",state="Created"} 1.0' in text
    assert 'kadalu_snapshots{cluster="c1",state="Failed"} 1.0' in text
