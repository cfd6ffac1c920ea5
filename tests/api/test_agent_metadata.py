"""`GET /api/v1/agent/metadata`: the complete copy, or only what changed after the agent's version
(controlplane/api/routes/agent.py, services/metadata.py; format in contracts/metadata_delta.py)."""

from sqlmodel import Session, select

from contracts import metadata_delta
from controlplane.models import Cluster
from controlplane.services import metadata
from tests.api.volume_helpers import R3, create, finish_all
from tests.factories import API


def _auth(node: dict) -> dict:
    return {"Authorization": f"Node {node['node_id']}:{node['node_secret']}"}


def _get(client, node, **params):
    return client.get(f"{API}/agent/metadata", headers=_auth(node), params=params)


def test_nothing_comes_back_when_nothing_changed_and_only_the_change_after_a_change(client, admin, nodes):
    full = _get(client, nodes["n1"]).json()
    held = full["version"]
    r = _get(client, nodes["n1"], since=held)
    assert r.status_code == 204 and r.content == b""
    vol = create(admin, "gvol1", R3, replica=3).json()
    r = _get(client, nodes["n1"], since=held)
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == held + 1 and [c["version"] for c in body["changes"]] == [held + 1]
    assert list(body["changes"][0]["volumes"]) == [vol["id"]] and len(r.content) < 4096
    finish_all(client, vol["id"])
    version, content = metadata_delta.apply(full["content"], held, _get(client, nodes["n1"], since=held).json()["changes"])
    assert _get(client, nodes["n1"]).json() == {"version": version, "content": content}


def test_the_complete_copy_is_sent_compressed_and_when_the_log_is_pruned(client, admin, nodes):
    engine = client.app.state.engine
    with Session(engine) as s:
        cid = s.exec(select(Cluster.id).where(Cluster.name == "c1")).one()
    vol = create(admin, "gvol1", R3, replica=3).json()
    finish_all(client, vol["id"])
    with Session(engine) as s:
        newest = metadata.compact(s, cid, keep=1, every=1)
    r = client.get(f"{API}/agent/metadata", headers=_auth(nodes["n1"]) | {"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json()["version"] == newest
    raw = client.get(f"{API}/agent/metadata", headers=_auth(nodes["n1"]) | {"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.json() == r.json()
    # an agent behind the pruned log (or ahead of a restored control plane) gets the complete copy
    for since in (0, newest + 5):
        assert _get(client, nodes["n1"], since=since).json() == r.json()


def test_since_must_be_a_version(client, admin, nodes):
    assert _get(client, nodes["n1"], since=-1).status_code == 422
    assert _get(client, nodes["n1"], since="x").status_code == 422
    assert client.get(f"{API}/agent/metadata", params={"since": 0}).status_code == 401
