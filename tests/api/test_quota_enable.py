"""quota enable / disable: the option change on the bricks (live), the quota version, the refusals."""
from sqlmodel import Session, select

from controlplane.models import Task
from tests.api.quota_helpers import answer_quota_task, started, with_quota
from tests.api.volume_helpers import create, finish_all


def _kinds(client, volume_id) -> list[str]:
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(Task).where(Task.volume_id == volume_id, Task.phase == "queued")).all()
        return sorted(t.kind for t in rows)


def test_enable_reconfigures_the_bricks_in_place_and_bumps_the_version(client, admin, nodes):
    vol = started(client, admin)
    r = admin.post("/clusters/c1/volumes/qv/quota/enable", {})
    assert r.status_code == 202 and r.json()["state"] == "Reconfiguring"
    assert _kinds(client, vol["id"]) == ["RECONFIGURE_BRICK"] * 3  # live: the graphs keep their shape
    with Session(client.app.state.engine) as s:
        spec = s.exec(select(Task).where(Task.volume_id == vol["id"], Task.phase == "queued")).first().spec
    assert spec["volume"]["options"]["features.quota"] == "on"
    assert spec["volume"]["options"]["features.inode-quota"] == "on"
    assert spec["volume"]["options"]["features.quota-version"] == "1"
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/qv").json()["state"] == "Started"
    assert admin.get("/clusters/c1/volumes/qv/quota").json() == {"volume": "qv", "enabled": True, "version": 1,
                                                                  "limits": []}
    again = admin.post("/clusters/c1/volumes/qv/quota/enable", {})
    assert again.status_code == 409 and "already enabled" in again.json()["detail"]

    assert admin.post("/clusters/c1/volumes/qv/quota/disable", {}).status_code == 202
    finish_all(client, vol["id"])
    opts = admin.get("/clusters/c1/volumes/qv").json()["options"]
    assert "features.quota" not in opts and opts["features.quota-version"] == "1"
    assert admin.post("/clusters/c1/volumes/qv/quota/enable", {}).status_code == 202
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/qv/quota").json()["version"] == 2  # re-enable bumps it


def test_disable_drops_the_limits(client, admin, nodes):
    vol = with_quota(client, admin)
    assert admin.post("/clusters/c1/volumes/qv/quota/limit-usage", {"path": "/a", "hard": "1GiB"}).status_code == 202
    answer_quota_task(client, data={"used_bytes": 5, "files": 1, "dirs": 1})
    assert admin.post("/clusters/c1/volumes/qv/quota/disable", {}).status_code == 202
    finish_all(client, vol["id"])
    r = admin.get("/clusters/c1/volumes/qv/quota")
    assert r.status_code == 409 and "kadalu volume quota enable -c c1 qv" in r.json()["detail"]
    assert admin.post("/clusters/c1/volumes/qv/quota/enable", {}).status_code == 202
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/qv/quota").json()["limits"] == []


def test_enable_on_a_stopped_volume_only_stores_it(client, admin, nodes):
    vol = create(admin, "qs", ["n1:/e/s1", "n2:/e/s2"], start=False).json()
    finish_all(client, vol["id"])
    r = admin.post("/clusters/c1/volumes/qs/quota/enable", {})
    assert r.status_code == 202 and r.json()["state"] == "Created" and _kinds(client, vol["id"]) == []
    assert admin.get("/clusters/c1/volumes/qs").json()["options"]["features.quota"] == "on"


def test_volume_set_refuses_the_quota_switches(client, admin, nodes):
    started(client, admin)
    for body in ({"set": {"features.quota": "on"}}, {"set": {"features.inode-quota": "on"}},
                 {"reset": ["features.quota"]}, {"set": {"features.quota-version": "7"}}):
        r = admin.post("/clusters/c1/volumes/qv/options", body)
        assert r.status_code == 422 and "kadalu volume quota enable|disable" in r.json()["detail"], body
    r = admin.post("/clusters/c1/volumes", {"name": "q2", "bricks": ["n1:/e/q2"], "options": {"features.quota": "on"}})
    assert r.status_code == 422
    assert admin.get("/clusters/c1/volumes/q2").status_code == 404  # nothing half-created


def test_quota_commands_need_quota_enabled_and_a_settled_volume(client, admin, nodes):
    started(client, admin)
    for verb, body in (("disable", {}), ("limit-usage", {"path": "/a", "hard": "1GiB"}),
                       ("limit-objects", {"path": "/a", "objects": 10}), ("remove", {"path": "/a"})):
        r = admin.post(f"/clusters/c1/volumes/qv/quota/{verb}", body)
        assert r.status_code == 409 and "quota is not enabled on volume 'qv'" in r.json()["detail"], verb
    assert admin.get("/clusters/c1/volumes/qv/quota").status_code == 409
    admin.post("/clusters/c1/volumes/qv/options", {"set": {"performance.io-thread-count": "8"}})  # Reconfiguring
    r = admin.post("/clusters/c1/volumes/qv/quota/enable", {})
    assert r.status_code == 409 and "in progress" in r.json()["detail"]


def test_quota_is_authorised_at_volume_scope(client, admin, nodes):
    with_quota(client, admin)
    started(client, admin, "other", ["n1:/e/o1", "n2:/e/o2", "n3:/e/o3"])
    viewer = admin.make_user("vera", "viewer", scope="cluster", cluster="c1")
    maint = admin.make_user("max", "maintainer", scope="volume", cluster="c1", name="qv")
    assert viewer.get("/clusters/c1/volumes/qv/quota").status_code == 200  # reading needs viewer
    for who, vol, code in ((viewer, "qv", 403), (maint, "other", 404), (maint, "qv", 202)):
        r = who.post(f"/clusters/c1/volumes/{vol}/quota/limit-usage", {"path": "/a", "hard": "1GiB"})
        assert r.status_code == code, (who, vol, r.text)
    r = viewer.post("/clusters/c1/volumes/qv/quota/disable", {})
    assert r.status_code == 403 and "disable quota on volume 'qv'" in r.json()["detail"]
    assert maint.post("/clusters/c1/volumes/other/quota/enable", {}).status_code == 404
