"""`volume expand` without bricks: new sets chosen from registered devices by the provisioning
planner, with the volume's brick size, their space reserved in the planning transaction; the dry
run; the refusals (nothing fits, a volume made with bricks on paths, wrong sizes) and the abuse
cases (another cluster's devices, a viewer)."""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.models import Brick, Device, Node, Volume
from tests.api.volume_helpers import finish_all, ready_device
from tests.factories import ApiUser, register_node

GiB = 1 << 30
EXPAND = "/clusters/c1/volumes/pv/expand"


def online(client) -> None:
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).values(state="Online"))
        s.commit()


def add_nodes(client, admin, token, names, cluster="c1", size=100 * GiB) -> None:
    for name in names:
        register_node(client, token, name, f"127.0.1.{int(name.lstrip('nm'))}")
        ready_device(client, admin, name, f"/data/{name}", cluster=cluster, size=size)
    online(client)


def started(client, admin, body) -> dict:
    r = admin.post("/clusters/c1/volumes", body)
    assert r.status_code == 202, r.text
    vol = r.json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    assert admin.get(f"/clusters/c1/volumes/{vol['name']}").json()["state"] == "Started"
    return vol


@pytest.fixture
def token(admin):
    return admin.make_cluster("c1")


@pytest.fixture
def pv(client, admin, token):
    """Replica 3 volume pv of 10 GiB on n1..n3 (the only nodes with devices then), Started; then n4..n6
    register a 100 GiB device each."""
    add_nodes(client, admin, token, ["n1", "n2", "n3"])
    vol = started(client, admin, {"name": "pv", "replica": 3, "size": "10GiB"})
    add_nodes(client, admin, token, ["n4", "n5", "n6"])
    return vol


def reserved(client) -> dict[str, int]:
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(Node.name, Device.reserved_bytes).join(Device, Device.node_id == Node.id))
        return {name: amount for name, amount in rows}


def test_expand_without_bricks_adds_one_set_on_the_new_nodes(client, admin, pv):
    r = admin.post(EXPAND, {})
    assert r.status_code == 202, r.text
    got = r.json()
    assert got["state"] == "Expanding" and "chosen from registered devices" in got["message"]
    new = got["bricks"][3:]
    assert [(b["node"], b["path"]) for b in new] == [(f"n{i}", f"/data/n{i}/pv-brick-1-{i - 4}") for i in (4, 5, 6)]
    assert reserved(client) == {f"n{i}": 10 * GiB for i in range(1, 7)}  # the same brick size as the first set
    finish_all(client, pv["id"])  # created
    finish_all(client, pv["id"])  # started
    after = admin.get("/clusters/c1/volumes/pv").json()
    assert after["state"] == "Started" and after["brick_count"] == 6
    with Session(client.app.state.engine) as s:
        assert s.get(Volume, pv["id"]).expand_from is None


def test_dry_run_shows_the_plan_and_changes_nothing(client, admin, pv):
    before = reserved(client)
    r = admin.post(f"{EXPAND}/plan", {"sets": 1})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["set_count"] == 1 and plan["brick_size"] == 10 * GiB and plan["set_size"] == 3
    assert [(b["node"], b["set"]) for b in plan["bricks"]] == [("n4", 2), ("n5", 2), ("n6", 2)]
    assert any("set 1: n4:/data/n4/pv-brick-1-0" in line for line in plan["lines"]), plan["lines"]
    assert reserved(client) == before
    vol = admin.get("/clusters/c1/volumes/pv").json()
    assert vol["state"] == "Started" and vol["brick_count"] == 3


def test_sets_and_size_choose_how_many_sets(client, admin, pv):
    two = admin.post(f"{EXPAND}/plan", {"sets": 2}).json()
    assert two["set_count"] == 2
    for k in (0, 3):  # each set on three distinct nodes
        assert len({b["node"] for b in two["bricks"][k:k + 3]}) == 3
    assert {b["node"] for b in two["bricks"][:3]} == {"n4", "n5", "n6"}  # the emptiest nodes first
    sized = admin.post(f"{EXPAND}/plan", {"size": "+25GiB"}).json()
    assert sized["set_count"] == 3 and sized["brick_size"] == 10 * GiB
    assert any("rounded up to 3 set(s)" in n for n in sized["notes"]), sized["notes"]
    assert admin.post(f"{EXPAND}/plan", {"size": "20GiB"}).json()["set_count"] == 2  # the + is optional


def test_sets_span_distinct_zones(client, admin, pv):
    for i, zone in zip(range(1, 7), "abcabc", strict=True):
        r = client.patch(f"/api/v1/clusters/c1/nodes/n{i}", json={"zone": zone}, headers=admin.headers)
        assert r.status_code == 200, r.text
    plan = admin.post(f"{EXPAND}/plan", {"sets": 2}).json()
    zone_of = dict(zip([f"n{i}" for i in range(1, 7)], "abcabc", strict=True))
    for k in (0, 3):
        assert sorted(zone_of[b["node"]] for b in plan["bricks"][k:k + 3]) == ["a", "b", "c"], plan["bricks"]


def test_nothing_fits_says_why_and_what_would_fix_it(client, admin, token):
    add_nodes(client, admin, token, ["n1", "n2", "n3"], size=15 * GiB)
    started(client, admin, {"name": "pv", "replica": 3, "size": "10GiB"})
    add_nodes(client, admin, token, ["n4", "n5"])  # two new nodes: a set of three needs one more
    r = admin.post(EXPAND, {})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "cannot add 1 set of 3 (replica 3, 10.0 GiB bricks) to volume pv" in detail
    assert "need 3 nodes with >= 10.0 GiB" in detail and "found 2" in detail
    assert "Fix: register a device with at least 10.0 GiB free on another node" in detail
    assert admin.get("/clusters/c1/volumes/pv").json()["state"] == "Started"
    assert reserved(client)["n4"] == 0
    add_nodes(client, admin, token, ["n6"])  # the fix the message gave
    assert admin.post(EXPAND, {}).status_code == 202


def test_a_volume_made_of_bricks_on_paths_needs_a_size(client, admin, token):
    add_nodes(client, admin, token, ["n1", "n2", "n3", "n4"])
    bricks = [f"n{i}:/data/n{i}/b" for i in (1, 2, 3)]
    started(client, admin, {"name": "pv", "replica": 3, "bricks": bricks})
    r = admin.post(EXPAND, {})
    assert r.status_code == 422
    assert "bricks given by path" in r.json()["detail"] and "--size +100GiB" in r.json()["detail"]
    plan = admin.post(f"{EXPAND}/plan", {"size": "+20GiB"})
    assert plan.status_code == 200, plan.text
    assert plan.json()["brick_size"] == 20 * GiB and plan.json()["bricks"][0]["path"].endswith("/pv-brick-1-0")
    assert admin.post(EXPAND, {"size": "+20GiB"}).status_code == 202
    assert sum(reserved(client).values()) == 3 * 20 * GiB


@pytest.mark.parametrize("body,status,word", [
    ({"size": "lots"}, 422, "invalid size"),
    ({"size": "0GiB"}, 422, "invalid size"),
    ({"size": "-10GiB"}, 422, "only adds capacity"),
    ({"size": "10G"}, 422, "ambiguous"),
    ({"sets": 0}, 422, ""),
    ({"sets": 2, "size": "+10GiB"}, 422, "not both"),
    ({"sets": 1, "bricks": ["n4:/data/n4/x", "n5:/data/n5/x", "n6:/data/n6/x"]}, 422, "not both"),
    ({"sets": 400}, 409, "limit of 1024 bricks"),
    ({"size": "+100TiB"}, 409, "limit of 1024 bricks"),
])
def test_wrong_requests_are_refused_and_change_nothing(client, admin, pv, body, status, word):
    before = reserved(client)
    for path in (EXPAND, f"{EXPAND}/plan"):
        r = admin.post(path, body)
        assert r.status_code == status and word in str(r.json()["detail"]), (path, r.text)
    assert reserved(client) == before
    assert admin.get("/clusters/c1/volumes/pv").json()["brick_count"] == 3


def test_explicit_bricks_still_work(client, admin, pv):
    r = admin.post(EXPAND, {"bricks": ["n4:/data/n4/x", "n5:/data/n5/x", "n6:/data/n6/x"]})
    assert r.status_code == 202, r.text
    assert [b["path"] for b in r.json()["bricks"][3:]] == ["/data/n4/x", "/data/n5/x", "/data/n6/x"]
    assert reserved(client)["n4"] == 0  # bricks given by path reserve nothing


def test_abort_of_a_chosen_set_releases_its_space(client, admin, pv):
    assert admin.post(EXPAND, {}).status_code == 202
    finish_all(client, pv["id"], ok=False, error=None)
    assert admin.get("/clusters/c1/volumes/pv").json()["state"] == "ExpandFailed"
    assert admin.post(f"{EXPAND}/abort").status_code == 202
    finish_all(client, pv["id"])
    assert admin.get("/clusters/c1/volumes/pv").json()["brick_count"] == 3
    assert reserved(client) == {**{f"n{i}": 10 * GiB for i in (1, 2, 3)}, **{f"n{i}": 0 for i in (4, 5, 6)}}


def test_another_clusters_devices_are_never_chosen(client, admin, token):
    add_nodes(client, admin, token, ["n1", "n2", "n3"], size=15 * GiB)
    started(client, admin, {"name": "pv", "replica": 3, "size": "10GiB"})
    other = admin.make_cluster("c2")
    add_nodes(client, admin, other, ["m4", "m5", "m6"], cluster="c2", size=1000 * GiB)  # roomy, but elsewhere
    r = admin.post(EXPAND, {})
    assert r.status_code == 409 and "m4" not in r.json()["detail"], r.text
    assert all(v == 0 for k, v in reserved(client).items() if k.startswith("m"))
    add_nodes(client, admin, token, ["n4", "n5", "n6"])
    plan = admin.post(f"{EXPAND}/plan", {"sets": 1}).json()
    assert {b["node"] for b in plan["bricks"]} == {"n4", "n5", "n6"}


def test_a_viewer_and_other_clusters_users_are_refused(client, admin, pv):
    viewer = admin.make_user("vera", "viewer")
    for path in (EXPAND, f"{EXPAND}/plan"):
        r = viewer.post(path, {})
        assert r.status_code == 403, r.text
    admin.make_cluster("c2")
    stranger = admin.make_user("sam", "admin", scope="cluster", cluster="c2")
    for path in (EXPAND, f"{EXPAND}/plan"):
        assert stranger.post(path, {}).status_code == 404
    assert admin.get("/clusters/c1/volumes/pv").json()["brick_count"] == 3
    assert sum(reserved(client).values()) == 3 * 10 * GiB


def test_concurrent_expands_add_one_set(client, admin, pv):
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        with TestClient(client.app) as c:
            return ApiUser(c, admin.username, admin.token).post(EXPAND, {}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(one, range(4)))
    assert codes.count(202) == 1 and codes.count(409) == 3, codes
    with Session(client.app.state.engine) as s:
        assert len(s.exec(select(Brick).where(Brick.volume_id == pv["id"])).all()) == 6


def test_a_volume_grant_alone_cannot_spend_the_clusters_devices(client, admin, pv):
    """Choosing bricks takes space on any device of the cluster (as `create --size` does): it needs the
    maintainer role on the cluster; a maintainer of the volume alone still expands with bricks given."""
    keeper = admin.make_user("kim", "maintainer", scope="volume", cluster="c1", name="pv")
    for path in (EXPAND, f"{EXPAND}/plan"):
        r = keeper.post(path, {})
        assert r.status_code == 403 and "cluster's devices" in r.json()["detail"], r.text
    assert sum(reserved(client).values()) == 3 * 10 * GiB
    r = keeper.post(EXPAND, {"bricks": ["n4:/data/n4/x", "n5:/data/n5/x", "n6:/data/n6/x"]})
    assert r.status_code == 202, r.text


def test_concurrent_expands_with_given_bricks_on_other_nodes_add_one_set(client, admin, pv):
    # The node locks do not serialise these two (no node in common): the volume's row does.
    from concurrent.futures import ThreadPoolExecutor
    bodies = [{"bricks": [f"n{i}:/data/n{i}/x" for i in (4, 5, 6)]}, {"bricks": [f"n{i}:/data/n{i}/y" for i in (1, 2, 3)]}]

    def one(body):
        with TestClient(client.app) as c:
            return ApiUser(c, admin.username, admin.token).post(EXPAND, body).status_code

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = sorted(pool.map(one, bodies))
        with Session(client.app.state.engine) as s:
            bricks = s.exec(select(Brick).where(Brick.volume_id == pv["id"])).all()
        assert codes == [202, 409] and len(bricks) == 6, (codes, len(bricks))
        assert sorted(b.idx for b in bricks) == list(range(6))
        finish_all(client, pv["id"], ok=False, error=None)
        assert admin.post(f"{EXPAND}/abort").status_code == 202
        finish_all(client, pv["id"])
        assert admin.get("/clusters/c1/volumes/pv").json()["brick_count"] == 3
