"""`volume create --size`: bricks chosen from registered devices, never over-committing one."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.models import Brick, Device, Node
from tests.api.volume_helpers import finish_all
from tests.factories import ApiUser, register_node

GiB = 1 << 30


@pytest.fixture
def zoned(client, admin):
    """4 Online nodes in 2 zones, one Ready 100 GiB device each."""
    token = admin.make_cluster("c1")
    for i, zone in zip((1, 2, 3, 4), ("a", "a", "b", "b"), strict=True):
        register_node(client, token, f"n{i}", f"127.0.1.{i}")
        assert admin.post(f"/clusters/c1/nodes/n{i}/devices", {"path": f"/data/n{i}"}).status_code == 202
        assert client.patch(f"/api/v1/clusters/c1/nodes/n{i}", json={"zone": zone}, headers=admin.headers).status_code == 200
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).values(state="Online"))
        s.execute(update(Device).values(state="Ready", size_bytes=100 * GiB, free_bytes=100 * GiB))
        s.commit()


def zones_of(client, volume_name):
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(Brick.idx, Node.zone).join(Node, Node.id == Brick.node_id).order_by(Brick.idx)).all()
    return [z for _, z in rows]


def test_replica2_sets_are_placed_across_zones(client, admin, zoned):
    r = admin.post("/clusters/c1/volumes", {"name": "pv", "replica": 2, "size": "40GiB", "distribute": 2})
    assert r.status_code == 202, r.text
    bricks = r.json()["bricks"]
    assert len(bricks) == 4 and all(b["path"].startswith(f"/data/{b['node']}/pv-brick-") for b in bricks)
    zones = zones_of(client, "pv")
    assert {zones[0], zones[1]} == {"a", "b"} and {zones[2], zones[3]} == {"a", "b"}


def test_replica3_on_four_nodes_in_two_zones_spans_both_zones(client, admin, zoned):
    r = admin.post("/clusters/c1/volumes", {"name": "pv", "replica": 3, "size": "10GiB", "distribute": 2})
    assert r.status_code == 202, r.text
    zones = zones_of(client, "pv")
    for k in (0, 3):
        assert sorted(zones[k:k + 3].count(z) for z in ("a", "b")) == [1, 2]


def test_unplaceable_volume_says_why_and_how_to_fix(admin, zoned):
    r = admin.post("/clusters/c1/volumes", {"name": "pv", "replica": 3, "size": "500GiB"})
    assert r.status_code == 409 and "Fix:" in r.json()["detail"] and "GiB" in r.json()["detail"]
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0


def test_dry_run_shows_the_plan_and_changes_nothing(client, admin, zoned):
    r = admin.post("/clusters/c1/volumes/plan", {"name": "pv", "replica": 2, "size": "10GiB"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["brick_size"] == 10 * GiB and len(plan["bricks"]) == 2 and plan["lines"]
    with Session(client.app.state.engine) as s:
        assert [d.reserved_bytes for d in s.exec(select(Device))] == [0, 0, 0, 0]
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0


def test_bad_sizes_and_mixed_requests_are_refused(admin, zoned):
    for body, word in [({"size": "lots"}, "size"), ({"size": "0GiB"}, "size"),
                       ({"size": "10GiB", "bricks": ["n1:/x"]}, "not both"), ({"distribute": 2, "bricks": ["n1:/x"]}, "`size`")]:
        r = admin.post("/clusters/c1/volumes", {"name": "pv", **body})
        assert r.status_code == 422 and word in r.json()["detail"], (body, r.json())


def test_size_units_gib_is_binary_gb_is_decimal_and_a_bare_letter_is_refused(admin, zoned):
    def plan(size):
        return admin.post("/clusters/c1/volumes/plan", {"name": "pv", "replica": 2, "size": size})

    assert plan("10GiB").json()["brick_size"] == 10 * 2**30
    assert plan("10GB").json()["brick_size"] == 10 * 10**9
    r = plan("10G")
    assert r.status_code == 422
    assert "ambiguous: write 10GiB for powers of 1024 or 10GB for powers of 1000" in r.json()["detail"]


def test_concurrent_provisioning_never_over_commits_and_delete_releases(client, admin, zoned):
    def one(i):
        with TestClient(client.app) as c:
            return ApiUser(c, admin.username, admin.token).post(
                "/clusters/c1/volumes", {"name": f"p{i}", "replica": 2, "size": "30GiB"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(one, range(10)))
    # 4 devices x 100 GiB hold at most 3 bricks of 30 GiB each: 12 bricks = 6 volumes of 2
    assert codes.count(202) == 6 and codes.count(409) == 4, codes
    with Session(client.app.state.engine) as s:
        for dev in s.exec(select(Device)):
            held = sum(b.reserved_bytes for b in s.exec(select(Brick).where(Brick.device_id == dev.id)))
            assert dev.reserved_bytes == held <= dev.free_bytes
    name = next(v["name"] for v in admin.get("/clusters/c1/volumes").json()["data"])
    vol = admin.get(f"/clusters/c1/volumes/{name}").json()
    finish_all(client, vol["id"])  # created
    finish_all(client, vol["id"])  # started
    admin.post(f"/clusters/c1/volumes/{name}/stop", {})
    finish_all(client, vol["id"])
    admin.delete(f"/clusters/c1/volumes/{name}")
    finish_all(client, vol["id"])
    with Session(client.app.state.engine) as s:
        assert sum(d.reserved_bytes for d in s.exec(select(Device))) == 5 * 2 * 30 * GiB
