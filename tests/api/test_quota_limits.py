"""Quota limits: stored, applied by one node's QUOTA_LIMIT task (put back when refused), usage from
the reporting node's heartbeats, `quota list`, alerts and metrics; bad input refused with what to fix."""
from sqlmodel import Session, select

from contracts.messages import TaskError
from controlplane.models import Alert, Cluster, QuotaLimit, Task
from controlplane.services.metadata_content import build_content
from tests.api.quota_helpers import answer_quota_task, limit, usage_heartbeat, with_quota
from tests.api.volume_helpers import finish_all
from tests.factories import API
from tests.prom_samples import value

MiB = 1024 * 1024


def _rows(client) -> list[QuotaLimit]:
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(QuotaLimit)))


def _limits(admin) -> list[dict]:
    return admin.get("/clusters/c1/volumes/qv/quota").json()["limits"]


def test_a_limit_is_applied_by_a_node_and_listed_with_usage(client, admin, nodes):
    vol = with_quota(client, admin)
    r = limit(admin, soft="50%")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["limit"]["state"] == "applying" and body["task"]["kind"] == "QUOTA_LIMIT"
    assert body["task"]["node"] == "n1" and body["warnings"] == []  # an Online node with a brick, first in order
    with Session(client.app.state.engine) as s:
        spec = s.exec(select(Task).where(Task.kind == "QUOTA_LIMIT")).one().spec
    assert (spec["path"], spec["action"], spec["hard_bytes"], spec["soft_percent"]) == ("/projects/a", "set", 10 * MiB, 50)
    answer_quota_task(client, data={"used_bytes": 3 * MiB, "files": 3, "dirs": 1})
    [row] = _limits(admin)
    assert row["state"] == "applied" and row["used_bytes"] == 3 * MiB and row["available_bytes"] == 7 * MiB
    assert (row["soft_bytes"], row["soft_exceeded"], row["hard_exceeded"]) == (5 * MiB, False, False)

    usage_heartbeat(client, nodes["n1"]["node_id"], vol["id"], "/projects/a", 6 * MiB)
    [row] = _limits(admin)
    assert row["used_bytes"] == 6 * MiB and row["soft_exceeded"] and not row["hard_exceeded"]
    usage_heartbeat(client, nodes["n1"]["node_id"], vol["id"], "/projects/a", 10 * MiB)
    assert _limits(admin)[0]["hard_exceeded"]
    firing = {a["kind"] for a in admin.get("/clusters/c1/alerts").json()["data"] if a["state"] == "firing"}
    assert {"quota_soft_exceeded", "quota_hard_exceeded"} <= firing
    metrics = client.get("/metrics", headers=admin.headers).text
    assert value(metrics, "kadalu_quota_used_bytes", cluster="c1", path="/projects/a", volume="qv") == 10 * MiB
    assert value(metrics, "kadalu_quota_exceeded", cluster="c1", limit="hard", path="/projects/a", volume="qv") == 1

    usage_heartbeat(client, nodes["n1"]["node_id"], vol["id"], "/projects/a", MiB)  # back under: alerts resolve
    with Session(client.app.state.engine) as s:
        assert not s.exec(select(Alert).where(Alert.kind.like("quota%"), Alert.state == "firing")).all()
    # the cluster metadata carries the limit (a restore from a node's copy has it)
    with Session(client.app.state.engine) as s:
        content = build_content(s, s.exec(select(Cluster).where(Cluster.name == "c1")).one())
    assert content["volumes"][0]["quota_limits"] == [{"path": "/projects/a", "hard_bytes": 10 * MiB,
                                                      "soft_percent": 50, "hard_objects": None}]


def test_usage_is_taken_only_from_the_volumes_reporting_node(client, admin, nodes):
    vol = with_quota(client, admin)
    limit(admin)
    answer_quota_task(client)
    usage_heartbeat(client, nodes["n2"]["node_id"], vol["id"], "/projects/a", 9 * MiB)  # holds a brick, not the reporter
    usage_heartbeat(client, nodes["n4"]["node_id"], vol["id"], "/projects/a", 9 * MiB)  # holds no brick
    usage_heartbeat(client, nodes["n1"]["node_id"], vol["id"], "/unlimited", 9 * MiB)  # no such limit
    assert [(r.path, r.used_bytes) for r in _rows(client)] == [("/projects/a", 0)]


def test_a_path_that_does_not_exist_is_refused_and_rolled_back(client, admin, nodes):
    with_quota(client, admin)
    assert limit(admin, path="/nope").status_code == 202
    error = TaskError(code="not_found", errno="ENOENT", message="directory /nope does not exist in volume qv")
    task_id = answer_quota_task(client, ok=False, error=error)
    assert _rows(client) == []  # a new limit that could not be set is gone
    got = admin.get(f"/tasks/{task_id}").json()
    assert got["phase"] == "failed" and "does not exist" in got["reason"]

    limit(admin, path="/a", hard="1GiB")
    answer_quota_task(client)
    limit(admin, path="/a", hard="2GiB")
    answer_quota_task(client, ok=False, error=TaskError(code="xattr_failed", message="refused"))
    [row] = _limits(admin)
    assert row["hard_bytes"] == 1 << 30 and row["state"] == "applied" and "refused" in row["reason"]  # put back


def test_limit_below_usage_is_set_with_a_warning_and_objects_and_remove(client, admin, nodes):
    vol = with_quota(client, admin)
    limit(admin, hard="1GiB")
    answer_quota_task(client)
    usage_heartbeat(client, nodes["n1"]["node_id"], vol["id"], "/projects/a", 50 * MiB, files=40, dirs=2)
    r = limit(admin, hard="10MiB")
    assert r.status_code == 202 and "more than the new limit 10.0 MiB" in r.json()["warnings"][0]
    busy = limit(admin, hard="20MiB")
    assert busy.status_code == 409 and "still applying" in busy.json()["detail"]
    answer_quota_task(client)
    r = admin.post("/clusters/c1/volumes/qv/quota/limit-objects", {"path": "/projects/a", "objects": 10})
    assert r.status_code == 202 and "42 files and directories" in r.json()["warnings"][0]
    answer_quota_task(client)
    [row] = _limits(admin)
    assert (row["hard_bytes"], row["hard_objects"], row["available_objects"]) == (10 * MiB, 10, 0)
    r = admin.post("/clusters/c1/volumes/qv/quota/remove", {"path": "/projects/a"})
    assert r.status_code == 202 and r.json()["limit"]["state"] == "removing"
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Task).where(Task.kind == "QUOTA_LIMIT", Task.phase == "queued")).one().spec["action"] == \
            "remove"
    answer_quota_task(client)
    assert _limits(admin) == []
    gone = admin.post("/clusters/c1/volumes/qv/quota/remove", {"path": "/projects/a"})
    assert gone.status_code == 404 and "no quota limit on /projects/a" in gone.json()["detail"]


def test_bad_input_is_refused_with_what_to_fix(client, admin, nodes):
    with_quota(client, admin)
    cases = [
        ({"path": "projects", "hard": "1GiB"}, "absolute path"),
        ({"path": "/a/../b", "hard": "1GiB"}, "not normalised"),
        ({"path": "/a//b", "hard": "1GiB"}, "not normalised"),
        ({"path": "/a/", "hard": "1GiB"}, "not normalised"),
        ({"path": "/a\x00b", "hard": "1GiB"}, "control characters"),
        ({"path": "/a\nb", "hard": "1GiB"}, "control characters"),
        ({"path": "/" + "x" * 256, "hard": "1GiB"}, "longer than 255 bytes"),
        ({"path": "/a", "hard": "10G"}, "ambiguous"),
        ({"path": "/a", "hard": "10 furlongs"}, "invalid size"),
        ({"path": "/a", "hard": "-1GiB"}, "negative"),
        ({"path": "/a", "hard": "0"}, "greater than zero"),
        ({"path": "/a", "hard": "9EiB"}, "unknown unit"),
        ({"path": "/a", "hard": "9000PiB"}, "larger than GlusterFS can hold"),
        ({"path": "/a", "hard": "1GiB", "soft": "0%"}, "from 1% to 100%"),
        ({"path": "/a", "hard": "1GiB", "soft": "150%"}, "from 1% to 100%"),
        ({"path": "/a", "hard": "1GiB", "soft": "half"}, "from 1% to 100%"),
    ]
    for body, words in cases:
        r = admin.post("/clusters/c1/volumes/qv/quota/limit-usage", body)
        assert r.status_code == 422 and words in r.text, (body, r.status_code, r.text)
    r = admin.post("/clusters/c1/volumes/qv/quota/limit-usage", {"path": "/" + "a/" * 2100 + "b", "hard": "1GiB"})
    assert r.status_code == 422
    r = admin.post("/clusters/c1/volumes/qv/quota/limit-objects", {"path": "/a", "objects": 0})
    assert r.status_code == 422
    r = admin.post("/clusters/c1/volumes/qv/quota/limit-usage", {"path": "/a", "hard": "1GiB", "extra": 1})
    assert r.status_code == 422
    assert _rows(client) == []  # nothing half-created
    with Session(client.app.state.engine) as s:
        assert not s.exec(select(Task).where(Task.kind == "QUOTA_LIMIT")).all()


def test_the_root_of_the_volume_may_be_limited(client, admin, nodes):
    with_quota(client, admin)
    assert limit(admin, path="/", hard="1TiB").status_code == 202
    answer_quota_task(client)
    assert [r["path"] for r in _limits(admin)] == ["/"]
    assert client.get(f"{API}/clusters/c1/volumes/qv/quota").status_code == 401  # not logged in


def test_a_stopped_volume_takes_no_limit_and_deleting_it_drops_its_limits(client, admin, nodes):
    vol = with_quota(client, admin)
    limit(admin)
    answer_quota_task(client)
    assert admin.post("/clusters/c1/volumes/qv/stop", {}).status_code == 202
    finish_all(client, vol["id"])
    r = limit(admin, path="/b")
    assert r.status_code == 409 and "start it first" in r.json()["detail"]
    assert admin.delete("/clusters/c1/volumes/qv").status_code == 202
    finish_all(client, vol["id"])
    assert admin.get("/clusters/c1/volumes/qv").status_code == 404
    assert _rows(client) == []
