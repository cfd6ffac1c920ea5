"""The server keeps bricks and devices where a node may safely act: no whitespace or control characters
in any path (a newline in a brick path reached the client volfile as an injected option), bricks only
strictly inside a Ready directory device of their node, no device in a system directory."""
import pytest
from sqlmodel import Session, select

from controlplane.models import Brick, Device, Task
from tests.api.volume_helpers import R3, create, finish_all, ready_device


def _no_volume_rows(client):
    with Session(client.app.state.engine) as s:
        assert s.exec(select(Brick)).all() == []
        assert s.exec(select(Task).where(Task.volume_id.is_not(None))).all() == []


@pytest.mark.parametrize("brick", [
    "n1:/e/b1\noption remote-host attacker.example",
    "n1:/e/b 1",
    "n1:/e/b\t1",
    'n1:/e/b"1',
    "n1:/e/b\\1",
    "n1:/e/b\x1b1",
    "n1:/e/b\u20281",  # a Unicode line separator
])
def test_brick_paths_with_whitespace_control_or_quote_characters_are_refused(client, admin, nodes, brick):
    r = create(admin, "inj", [brick])
    assert r.status_code == 422, r.text
    assert "whitespace, control or quote characters" in r.json()["detail"]
    assert admin.get("/clusters/c1/volumes").json()["count"] == 0
    _no_volume_rows(client)


def test_expand_refuses_an_injected_brick_path(client, admin, nodes):
    finish_all(client, create(admin, "dv", ["n1:/e/d1"], start=False).json()["id"])
    r = admin.post("/clusters/c1/volumes/dv/expand", {"bricks": ["n2:/e/d2\noption remote-host attacker.example"]})
    assert r.status_code == 422 and "whitespace" in r.json()["detail"]
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "Created" and got["brick_count"] == 1


@pytest.mark.parametrize("brick,word", [
    ("n1:/var/lib/important", "not inside a registered device of node n1"),
    ("n1:/tmp/x", "kadalu device add -c c1 n1 --path DIR --wait"),
    ("n1:/e", "is the device directory /e itself"),
    ("n1:/ee/b1", "not inside a registered device"),  # a prefix of the name is not "inside"
])
def test_a_brick_outside_every_ready_device_of_its_node_is_refused(client, admin, nodes, brick, word):
    r = create(admin, "out", [brick])
    assert r.status_code == 422 and word in r.json()["detail"], r.json()
    assert brick in r.json()["detail"]
    _no_volume_rows(client)


def test_a_brick_must_be_in_a_device_of_its_own_node(client, admin, nodes):
    ready_device(client, admin, "n2", "/only-on-n2")
    r = create(admin, "other", ["n1:/only-on-n2/b"])
    assert r.status_code == 422 and "n1:/only-on-n2/b" in r.json()["detail"]
    assert "its Ready devices are /e" in r.json()["detail"]
    assert create(admin, "other", ["n2:/only-on-n2/b"]).status_code == 202


def test_a_brick_containing_a_device_is_refused(client, admin, nodes):
    ready_device(client, admin, "n1", "/big/dev1")
    r = create(admin, "c", ["n1:/big"])
    assert r.status_code == 422 and "contains device /big/dev1" in r.json()["detail"]


def test_a_brick_on_a_device_that_is_not_ready_is_refused(client, admin, nodes):
    assert admin.post("/clusters/c1/nodes/n1/devices", {"path": "/pending"}).status_code == 202  # Adding
    r = create(admin, "p", ["n1:/pending/b"])
    assert r.status_code == 422 and "which is Adding, not Ready" in r.json()["detail"]
    assert admin.post("/clusters/c1/nodes/n1/devices", {"device": "/dev/vdz"}).status_code == 202
    with Session(client.app.state.engine) as s:
        dev = s.exec(select(Device).where(Device.path == "/dev/vdz")).one()
        dev.state = "Ready"
        s.add(dev)
        s.commit()
    r = create(admin, "b", ["n1:/dev/vdz/b"])
    assert r.status_code == 422 and "inside block device /dev/vdz" in r.json()["detail"]


def test_expand_refuses_a_brick_outside_the_devices(client, admin, nodes):
    finish_all(client, create(admin, "dv", ["n1:/e/d1"], start=False).json()["id"])
    r = admin.post("/clusters/c1/volumes/dv/expand", {"bricks": ["n2:/srv/elsewhere"]})
    assert r.status_code == 422 and "n2:/srv/elsewhere is not inside a registered device" in r.json()["detail"]
    got = admin.get("/clusters/c1/volumes/dv").json()
    assert got["state"] == "Created" and got["brick_count"] == 1


def test_bricks_record_the_device_that_holds_them(client, admin, nodes):
    ready_device(client, admin, "n1", "/second")
    vol = create(admin, "rec", ["n1:/e/b1", "n1:/second/b2"], force=True).json()
    with Session(client.app.state.engine) as s:
        devices = {d.path: d.id for d in s.exec(select(Device).where(Device.node_id == nodes["n1"]["node_id"]))}
        bricks = {b.path: b.device_id for b in s.exec(select(Brick).where(Brick.volume_id == vol["id"]))}
        specs = [t.spec for t in s.exec(select(Task).where(Task.volume_id == vol["id"]))]
    assert bricks == {"/e/b1": devices["/e"], "/second/b2": devices["/second"]}
    # --force reaches the agents too: they may then use a brick directory that already holds files
    assert [spec["force"] for spec in specs] == [True, True]
    r = admin.delete(f"/clusters/c1/devices/{devices['/second']}", params={"force": "true"})
    assert r.status_code == 409 and "holds bricks" in r.json()["detail"]


@pytest.mark.parametrize("body,word", [
    ({"path": "/etc"}, "the system directory /etc"),
    ({"path": "/etc/kadalu"}, "is inside the system directory /etc"),
    ({"path": "/proc/1"}, "/proc"),
    ({"path": "/sys/fs"}, "/sys"),
    ({"path": "/root/.ssh"}, "/root"),
    ({"path": "/boot"}, "/boot"),
    ({"path": "/usr/local/data"}, "/usr"),
    ({"path": "/dev/null"}, "/dev"),  # a directory device under /dev
    ({"path": "/dev/shm/x"}, "/dev"),
    ({"path": "/var"}, "contains the system directory /var/lib/kadalu"),
    ({"path": "/data/b 1"}, "whitespace"),
    ({"path": "/data/b\n1"}, "whitespace"),
    ({"device": "/dev/sdb\n"}, "whitespace"),
    ({"device": "/etc/passwd"}, "not under /dev"),
    ({"device": "/dev"}, "not under /dev"),
])
def test_dangerous_device_paths_are_refused(client, admin, nodes, body, word):
    before = admin.get("/clusters/c1/devices").json()["count"]
    r = admin.post("/clusters/c1/nodes/n1/devices", body)
    assert r.status_code == 422 and word in r.json()["detail"], r.json()
    assert admin.get("/clusters/c1/devices").json()["count"] == before


@pytest.mark.parametrize("body", [{"path": "/data/bricks"}, {"path": "/srv/k"}, {"device": "/dev/sdb"},
                                  {"device": "/dev/disk/by-id/ata-X"}])
def test_ordinary_device_paths_are_accepted(admin, nodes, body):
    assert admin.post("/clusters/c1/nodes/n1/devices", body).status_code == 202


def test_the_usual_replica3_on_the_fixture_devices_still_works(admin, nodes):
    assert create(admin, "ok", R3, replica=3).status_code == 202
