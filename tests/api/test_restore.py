"""`kadalu-server restore` (controlplane/services/restore*.py): an empty control plane rebuilt from the
nodes' signed metadata copies, the newest valid one chosen, with nothing of the cluster lost: every
entry of the copy is back in the database (the complete copy built from the restored rows is the
copy), the metadata version goes on from the copy's, and the agents' credentials still work."""
import json

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from controlplane.api.app import create_app
from controlplane.models import Brick, Cluster, Device, Node, Volume
from controlplane.services.metadata_content import build_content
from tests.api.quota_helpers import answer_quota_task, limit
from tests.api.restore_helpers import agent_copy, run_restore, run_server, write
from tests.api.volume_helpers import R3, create, finish_all
from tests.factories import API, ApiUser, register_node


def _restored_app(settings, fresh, tmp_path, **overrides):
    return create_app(settings.model_copy(update={"database_url": fresh.url, "state_dir": tmp_path / "restored",
                                                  **overrides}))


def test_the_newest_copy_is_restored_whole_and_the_agents_carry_on(client, admin, nodes, settings, fresh, tmp_path):
    vol = create(admin, "gvol1", R3, replica=3, options={"performance.write-behind": "off"}).json()
    while finish_all(client, vol["id"]):
        pass
    assert admin.post("/clusters/c1/volumes/gvol1/quota/enable", {}).status_code == 202
    finish_all(client, vol["id"])
    assert limit(admin, "/projects/a", "10MiB", name="gvol1", soft="50%").status_code == 202
    answer_quota_task(client)
    older = agent_copy(client, nodes["n2"])
    plain = create(admin, "gvol2", ["n4:/e/b4"], start=False).json()
    while finish_all(client, plain["id"]):
        pass
    newest = agent_copy(client, nodes["n1"])
    assert newest["version"] > older["version"]
    files = [write(tmp_path, "n2.json", older), write(tmp_path, "n1.json", newest)]

    r = run_restore(fresh.url, tmp_path / "restored", *[f"--from-file={f}" for f in files], "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)["restored"]
    assert [(c["cluster"], c["version"], c["from"]) for c in report] == [("c1", newest["version"], str(files[1]))]
    assert report[0]["older"] == [{"from": str(files[0]), "version": older["version"]}]
    assert (report[0]["nodes"], report[0]["devices"], report[0]["volumes"]) == (4, 4, 2)

    app = _restored_app(settings, fresh, tmp_path)
    with Session(app.state.engine) as s:
        cluster = s.exec(select(Cluster).where(Cluster.name == "c1")).one()
        assert cluster.id == newest["content"]["cluster"]["id"] and cluster.metadata_version == newest["version"]
        assert build_content(s, cluster) == newest["content"]  # nothing the copy holds is lost
        assert {v.name: v.state for v in s.exec(select(Volume))} == {"gvol1": "Started", "gvol2": "Created"}
        assert {b.state for b in s.exec(select(Brick).where(Brick.volume_id == vol["id"]))} == {"Started"}
        assert {n.state for n in s.exec(select(Node))} == {"Unreachable"}  # until their first heartbeat
        assert len(s.exec(select(Device)).all()) == 4
    with TestClient(app) as c:
        # the agents' credentials still work (same server key), and they hold the current version already
        n1 = nodes["n1"]
        auth = {"Authorization": f"Node {n1['node_id']}:{n1['node_secret']}"}
        assert c.get(f"{API}/agent/metadata", headers=auth, params={"since": newest["version"]}).status_code == 204
        # users are not in node copies: the first admin is made again with the usual bootstrap
        restored_admin = ApiUser.first_admin(c)
        got = restored_admin.get("/clusters/c1/volumes/gvol1").json()
        assert got["options"]["performance.write-behind"] == "off" and got["state"] == "Started"
        assert got["options"]["features.quota"] == "on" and got["options"]["features.quota-version"] == "1"
        [row] = restored_admin.get("/clusters/c1/volumes/gvol1/quota").json()["limits"]  # the limit as applied
        assert (row["path"], row["hard_bytes"], row["soft_percent"], row["state"]) == ("/projects/a", 10 << 20, 50, "applied")
        assert [b["port"] for b in got["bricks"]] == [b["port"] for b in vol["bricks"]]
        # the next change is the version after the copy's, and comes signed
        r = restored_admin.post("/clusters/c1/volumes/gvol2/start", {})
        assert r.status_code == 202, r.text
        after = c.get(f"{API}/agent/metadata", headers=auth, params={"since": newest["version"]})
        assert after.json()["version"] == newest["version"] + 1
        assert json.loads(after.headers["Kadalu-Metadata-Signature"])["version"] == newest["version"] + 1
    app.state.engine.dispose()


def test_a_new_server_key_needs_the_nodes_to_rejoin_with_the_new_join_token(client, admin, nodes, settings, fresh,
                                                                            tmp_path):
    copy = agent_copy(client, nodes["n1"])
    path = write(tmp_path, "n1.json", copy)
    key = run_server(fresh.url, tmp_path / "old", "metadata-key").stdout.strip()  # what the operator kept
    assert key.startswith("ed25519:")
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={path}", f"--trust-key={key}", "--allow-rejoin=30",
                    "--json", secret_key="another-server-key")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["same_server_key"] is False
    token = out["restored"][0]["join_token"]
    app = _restored_app(settings, fresh, tmp_path, secret_key="another-server-key")
    with TestClient(app) as c:
        n1 = nodes["n1"]
        # its old credentials do not verify under the new key; with the new join token it takes its name back
        again = register_node(c, token, "n1", "127.0.1.1", proof=n1)
        assert again["node_id"] == n1["node_id"]
        # a name the restore did not let rejoin is refused: nobody else takes it over
        with Session(app.state.engine) as s:
            n2 = s.exec(select(Node).where(Node.name == "n2")).one()
            n2.rejoin_allowed_until = None
            s.add(n2)
            s.commit()
        r = c.post(f"{API}/agent/register", json={"name": "n2", "address": "127.0.1.2", "join_token": token})
        assert r.status_code == 409
    app.state.engine.dispose()
