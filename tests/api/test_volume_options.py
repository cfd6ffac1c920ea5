import pytest
from sqlmodel import Session, select

from controlplane.models import Node, Task
from tests.api.volume_helpers import R3, create, finish_all


@pytest.fixture
def started(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Started"
    return vol


def advance(client, heal_pending: int) -> int:
    """Heartbeats report every brick online with this many pending heals; then beat's wave check."""
    from sqlalchemy import update

    from controlplane.db import utcnow
    from controlplane.models import Brick, Node
    from controlplane.services.volume_ops import advance_waiting_waves

    with Session(client.app.state.engine) as s:
        s.execute(update(Node).values(state="Online"))
        s.execute(update(Brick).values(online=True, heal_pending=heal_pending, reported_at=utcnow()))
        s.commit()
        return advance_waiting_waves(s)


def change(admin, set_=None, reset=None):
    return admin.post("/clusters/c1/volumes/gvol1/options", {"set": set_ or {}, "reset": reset or []})


@pytest.mark.parametrize("name,value,word", [
    ("performance.write-behind", "maybe", "on or off"),
    ("performance.write-behind-window-size", "2GB", "1GiB"),
    ("performance.write-behind-window-size", "4M", "write 4MiB for powers of 1024 or 4MB for powers of 1000"),
    ("cluster.quorum-type", "most", "auto"),
    ("quorum-type", "auto", "cluster.quorum-type"),
    ("diagnostics.brick-log-level", "LOUD", "DEBUG"),
    ("performance.io-thread-count", "-4", ""),
])
def test_bad_names_and_values_are_refused_with_what_is_accepted(admin, started, name, value, word):
    r = change(admin, {name: value})
    assert r.status_code == 422 and word in r.json()["detail"], r.json()
    assert admin.get("/clusters/c1/volumes/gvol1").json()["options"] == {}


def tasks_of(client, kind: str, phase: str = "queued") -> list[Task]:
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(Task).where(Task.kind == kind, Task.phase == phase)).all())


def test_client_side_option_is_stored_shows_in_the_volfile_and_is_pushed_live(client, admin, started):
    assert "write-behind" in admin.get("/clusters/c1/volumes/gvol1/volfile").text
    r = change(admin, {"performance.write-behind": "off"})
    assert r.status_code == 202 and r.json()["state"] == "Reconfiguring"
    assert r.json()["options"] == {"performance.write-behind": "off"}
    assert "performance/write-behind" not in admin.get("/clusters/c1/volumes/gvol1/volfile").text
    # the agents of the volume's nodes push it to their mounts; nothing restarts
    assert len(tasks_of(client, "RECONFIGURE_BRICK")) == 3 and tasks_of(client, "RESTART_BRICK") == []
    assert finish_all(client, started["id"]) == 3
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Started"
    got = admin.get("/clusters/c1/volumes/gvol1/options", params={"name": "performance.write-behind"}).json()["data"][0]
    assert got["value"] == "off" and got["changed"] and got["default"] == "on" and got["graphs"] == ["client"]


def test_brick_side_option_is_applied_in_place_in_one_step(client, admin, started):
    r = change(admin, {"diagnostics.brick-log-level": "debug"})
    assert r.status_code == 202 and r.json()["state"] == "Reconfiguring"
    assert r.json()["options"] == {"diagnostics.brick-log-level": "DEBUG"}
    assert change(admin, {"performance.write-behind": "off"}).status_code == 409  # in progress
    live = tasks_of(client, "RECONFIGURE_BRICK")
    assert len(live) == 3 and all(t.spec["volume"]["options"] == {"diagnostics.brick-log-level": "DEBUG"} for t in live)
    with Session(client.app.state.engine) as s:
        n4 = next(n for n in s.exec(select(Node)) if n.name == "n4")
        # not in the volume: nothing sent
        assert s.exec(select(Task).where(Task.node_id == n4.id, Task.volume_id.is_not(None))).all() == []
    assert finish_all(client, started["id"]) == 3
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "Started"
    assert tasks_of(client, "RESTART_BRICK") == []


def test_live_change_that_fails_on_a_brick_leaves_the_volume_reconfigure_failed(client, admin, started):
    change(admin, {"diagnostics.brick-log-level": "debug"})
    error = {"code": "not_applied", "message": "brick did not fetch its new volfile", "hint": "retry"}
    assert finish_all(client, started["id"], ok=False, error=error) == 3
    got = admin.get("/clusters/c1/volumes/gvol1").json()
    assert got["state"] == "ReconfigureFailed" and "did not fetch" in got["reason"]
    assert all(b["state"] != "Failed" for b in got["bricks"])  # the bricks still run (their old graph)
    r = change(admin, {"diagnostics.brick-log-level": "debug"})  # the same request again retries it
    assert r.json()["state"] == "Reconfiguring" and len(tasks_of(client, "RECONFIGURE_BRICK")) == 3
    assert finish_all(client, started["id"]) == 3
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Started"


def test_bricks_that_cannot_take_a_change_live_restart_one_of_each_set_at_a_time(client, admin, started):
    """An agent answers restart_needed for a brick started from a local volfile (an older agent's)
    or a graph whose shape changes: the rolling restart, waiting for self-heal between waves."""
    change(admin, {"diagnostics.brick-log-level": "debug"})
    error = {"code": "restart_needed", "message": "brick runs from a local volfile", "hint": ""}
    assert finish_all(client, started["id"], ok=False, error=error) == 3
    waves = []
    for wave in range(3):
        waves.append(sorted(t.spec["brick_id"] for t in tasks_of(client, "RESTART_BRICK")))
        assert finish_all(client, started["id"]) == 1
        if wave < 2:
            got = admin.get("/clusters/c1/volumes/gvol1").json()
            assert got["state"] == "Reconfiguring" and "self-heal" in got["reason"]
            assert advance(client, heal_pending=5) == 0  # a set still healing: the next wave waits
            assert advance(client, heal_pending=0) == 1
    assert len({b for w in waves for b in w}) == 3  # each brick once, one per wave
    assert admin.get("/clusters/c1/volumes/gvol1").json()["state"] == "Started"
    r = change(admin, reset=["diagnostics.brick-log-level"])
    assert r.json()["options"] == {} and r.json()["state"] == "Reconfiguring"


def test_sizes_are_stored_as_the_byte_count_they_mean(client, admin, started):
    """MiB = 2^20, MB = 10^6, as in --size; the volfile gets the byte count, which GlusterFS reads
    as that same number (it would read "256MB" as 256 MiB)."""
    r = change(admin, {"performance.cache-size": "256MiB", "performance.write-behind-window-size": "4MB"})
    assert r.status_code == 202
    assert finish_all(client, started["id"]) == 3  # pushed live
    assert r.json()["options"] == {"performance.cache-size": "268435456",
                                   "performance.write-behind-window-size": "4000000"}
    volfile = admin.get("/clusters/c1/volumes/gvol1/volfile").text
    assert "option cache-size 268435456" in volfile and "option cache-size 4000000" in volfile
    assert "MB" not in volfile and "MiB" not in volfile
    rows = {r["name"]: r for r in admin.get("/clusters/c1/volumes/gvol1/options").json()["data"]}
    assert rows["performance.cache-size"]["value"] == "268435456"
    assert rows["performance.cache-size"]["default"] == "33554432"  # the table's "32MB", as GlusterFS reads it
    assert rows["performance.io-cache-size"]["value"] == "33554432" and not rows["performance.io-cache-size"]["changed"]
    r = change(admin, {"performance.cache-size": "268435456"})  # the same size again: nothing changes
    assert r.status_code == 202 and finish_all(client, started["id"]) == 0


def test_options_given_at_create_are_validated_and_kept(admin, nodes):
    r = admin.post("/clusters/c1/volumes", {"name": "o1", "bricks": ["n4:/e/o1"], "options": {"performance.write-behind": "no"}})
    assert r.status_code == 202 and r.json()["options"] == {"performance.write-behind": "off"}
    r = admin.post("/clusters/c1/volumes", {"name": "o2", "bricks": ["n4:/e/o2"], "options": {"nope.nothing": "1"}})
    assert r.status_code == 422 and "unknown option" in r.json()["detail"]
    assert [v["name"] for v in admin.get("/clusters/c1/volumes").json()["data"]] == ["o1"]


def test_stopped_volume_stores_brick_options_for_the_next_start(client, admin, started):
    admin.post("/clusters/c1/volumes/gvol1/stop", {})
    finish_all(client, started["id"])
    r = change(admin, {"diagnostics.brick-log-level": "WARNING"})
    assert r.status_code == 202 and r.json()["state"] == "Stopped"
    assert finish_all(client, started["id"]) == 0


def test_options_read_only_when_a_brick_opens_its_socket_restart_the_bricks_in_waves(client, admin, started):
    r = change(admin, {"transport.listen-backlog": "512"})
    assert r.json()["state"] == "Reconfiguring"
    assert tasks_of(client, "RECONFIGURE_BRICK") == [] and len(tasks_of(client, "RESTART_BRICK")) == 1


def test_options_that_change_nothing_are_stored_with_a_warning_saying_why(client, admin, started):
    admin.post("/clusters/c1/volumes/gvol1/stop", {})  # no brick restarts between the changes
    finish_all(client, started["id"])
    r = change(admin, {"features.scrub-freq": "daily", "performance.nfs.write-behind": "off",
                       "disperse.eager-lock": "off", "network.ping-timeout": "10", "nfs.disable": "yes"})
    assert r.status_code == 202, r.json()
    warnings = r.json()["warnings"]
    assert [w.split(":", 1)[0] for w in warnings] == ["disperse.eager-lock", "features.scrub-freq", "nfs.disable",
                                                      "performance.nfs.write-behind"]
    assert "bitd" in warnings[1] and "gNFS" in warnings[2] and "gNFS" in warnings[3]
    assert "cluster/disperse" in warnings[0]
    assert r.json()["options"]["nfs.disable"] == "on"  # glusterd scripts' favourite, accepted
    bad = change(admin, {"nfs.disable": "o n"})
    assert bad.status_code == 422 and "nfs.disable" in bad.json()["detail"]
    assert change(admin, reset=["nfs.disable"]).status_code == 202
    assert r.json()["options"]["features.scrub-freq"] == "daily"  # stored all the same
    # An option that changes a graph gets no warning; the warnings cover only what was just set.
    r = change(admin, {"features.read-only": "on"})
    assert r.status_code == 202 and r.json()["warnings"] == []


def test_read_only_and_worm_together_are_refused_as_glusterd_does(client, admin, started):
    admin.post("/clusters/c1/volumes/gvol1/stop", {})
    finish_all(client, started["id"])
    assert change(admin, {"features.worm": "on"}).status_code == 202
    r = change(admin, {"features.read-only": "on"})
    assert r.status_code == 422 and "features.read-only and features.worm" in r.json()["detail"]
    assert "features.read-only" not in admin.get("/clusters/c1/volumes/gvol1").json()["options"]
    r = admin.post("/clusters/c1/volumes", {"name": "o3", "bricks": ["n4:/e/o3"],
                                            "options": {"cluster.nufa": "on", "cluster.switch": "on"}})
    assert r.status_code == 422 and "cluster.nufa and cluster.switch" in r.json()["detail"]


def test_client_io_threads_default_is_off_on_replicate_volumes_as_glusterd_creates_them(admin, started):
    got = admin.get("/clusters/c1/volumes/gvol1/options", params={"name": "performance.client-io-threads"}).json()
    assert (got["data"][0]["default"], got["data"][0]["value"]) == ("off", "off")
    assert "performance/io-threads" not in admin.get("/clusters/c1/volumes/gvol1/volfile").text
