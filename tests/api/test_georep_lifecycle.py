"""A geo-replication session's life through the API, with the agents' answers played back."""
from sqlmodel import Session, select

from contracts.georep_specs import GeoRepRemoteSpec, GeoRepSessionSpec
from controlplane.models import Task
from tests.api.georep_helpers import (
    GEO,
    PUBLIC_KEY,
    active_tasks,
    answer,
    create,
    settle_master_options,
    started_session,
    two_clusters,
)
from tests.prom_samples import value


def test_create_makes_keys_prepares_the_remote_then_starts(client, admin, nodes):
    two_clusters(client, admin, nodes)
    r = create(admin, remote_user="root")
    assert r.status_code == 202, r.text
    geo = r.json()
    assert geo["state"] == "Creating" and geo["message"] == "Geo-replication session creation request sent."
    assert geo["remote_host"] == "127.0.2.1" and geo["remote_user"] == "root"
    # one key per master node
    assert {t.node_id for t in active_tasks(client, "GEOREP_KEYGEN")} == {nodes[n]["node_id"] for n in ("n1", "n2", "n3")}
    # the first session turned changelog and marker on for the master volume
    opts = admin.get("/clusters/c1/volumes/mv").json()["options"]
    assert opts["changelog.changelog"] == "on" and opts["geo-replication.indexing"] == "on"
    assert answer(client, "GEOREP_KEYGEN") == 3
    prepared = active_tasks(client, "GEOREP_PREPARE_REMOTE")
    assert len(prepared) == 2
    spec = GeoRepRemoteSpec.model_validate(prepared[0].spec)
    assert spec.public_keys == [PUBLIC_KEY] and spec.remote_user == "root" and spec.volume.name == "rv"
    answer(client, "GEOREP_PREPARE_REMOTE")
    starts = active_tasks(client, "GEOREP_START")
    assert len(starts) == 3
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Starting"
    answer(client, "GEOREP_START")
    shown = admin.get(f"{GEO}/{geo['id']}").json()
    assert shown["state"] == "Started" and shown["settled"]
    # exactly one Active worker in the replica set, chosen by the control plane
    assert sorted(w["role"] for w in shown["workers"]) == ["Active", "Passive", "Passive"]
    passive = [GeoRepSessionSpec.model_validate(t.spec).passive_subvols for t in starts]
    assert sorted(passive) == [[], [1], [1]]
    assert [g["id"] for g in admin.get(GEO).json()["data"]] == [geo["id"]]


def test_no_start_leaves_it_created(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = create(admin, start=False).json()
    answer(client, "GEOREP_KEYGEN")
    answer(client, "GEOREP_PREPARE_REMOTE")
    assert active_tasks(client, "GEOREP_START") == []
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Created"
    assert admin.post(f"{GEO}/{geo['id']}/start", {}).status_code == 202
    answer(client, "GEOREP_START")
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Started"


def test_pause_resume_stop_start_delete(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    url = f"{GEO}/{geo['id']}"
    assert admin.post(f"{url}/resume", {}).status_code == 409  # not paused
    for verb, kind, state in (("pause", "GEOREP_PAUSE", "Paused"), ("resume", "GEOREP_RESUME", "Started"),
                              ("stop", "GEOREP_STOP", "Stopped"), ("start", "GEOREP_START", "Started"),
                              ("stop", "GEOREP_STOP", "Stopped")):
        r = admin.post(f"{url}/{verb}", {})
        assert r.status_code == 202, (verb, r.text)
        assert answer(client, kind) == 3
        assert admin.get(url).json()["state"] == state, verb
    r = admin.post(f"{url}/delete", {})
    assert r.status_code == 202
    # the master nodes drop the session, the remote nodes its keys; the last session takes the options off
    assert answer(client, "GEOREP_DELETE") == 3 and answer(client, "GEOREP_CLEANUP_REMOTE") == 2
    assert admin.get(url).status_code == 404
    opts = admin.get("/clusters/c1/volumes/mv").json()["options"]
    assert "changelog.changelog" not in opts and "geo-replication.indexing" not in opts


def test_a_started_session_is_stopped_before_delete(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    r = admin.post(f"{GEO}/{geo['id']}/delete", {})
    assert r.status_code == 409 and "stop it first" in r.json()["detail"]


def test_a_failed_node_makes_the_session_faulty_with_its_reason(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = create(admin).json()
    answer(client, "GEOREP_KEYGEN")
    answer(client, "GEOREP_PREPARE_REMOTE", ok=False,
           error={"code": "not_empty", "message": "brick /r/s1 of rv holds files", "hint": "empty it or use --force"})
    shown = admin.get(f"{GEO}/{geo['id']}").json()
    assert shown["state"] == "Faulty" and "holds files" in shown["reason"] and "r1" in shown["reason"]
    # Faulty: delete cleans up on every node, once the master volume's option change is over
    r = admin.post(f"{GEO}/{geo['id']}/delete", {})
    assert r.status_code == 409 and "Reconfiguring" in r.json()["detail"] and "wait" in r.json()["detail"]
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Faulty"  # nothing changed by the refusal
    settle_master_options(client, admin)
    assert admin.post(f"{GEO}/{geo['id']}/delete", {}).status_code == 202
    answer(client, "GEOREP_DELETE")
    answer(client, "GEOREP_CLEANUP_REMOTE")
    assert admin.get(f"{GEO}/{geo['id']}").status_code == 404


def test_a_keygen_answer_without_a_valid_key_is_refused(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = create(admin).json()
    answer(client, "GEOREP_KEYGEN", data={"public_key": "ssh-ed25519 AAAA x\ncommand=\"/bin/sh\""})
    shown = admin.get(f"{GEO}/{geo['id']}").json()
    assert shown["state"] == "Faulty" and "public key" in shown["reason"]
    assert active_tasks(client, "GEOREP_PREPARE_REMOTE") == []


def test_checkpoint_and_config_reach_a_running_session(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    url = f"{GEO}/{geo['id']}"
    r = admin.post(f"{url}/checkpoint", {})
    assert r.status_code == 202 and r.json()["checkpoint"] > 0
    starts = active_tasks(client, "GEOREP_START")
    assert len(starts) == 3
    assert GeoRepSessionSpec.model_validate(starts[0].spec).config["checkpoint"] == str(r.json()["checkpoint"])
    answer(client, "GEOREP_START")
    assert admin.get(url).json()["checkpoint"] == r.json()["checkpoint"]
    assert admin.post(f"{url}/config", {"name": "sync-jobs", "value": "5"}).status_code == 202
    answer(client, "GEOREP_START")
    got = admin.get(f"{url}/config", params={"name": "sync-jobs"}).json()["data"][0]
    assert got["value"] == "5" and got["changed"] and got["default"] == "3"
    assert admin.post(f"{url}/config/reset", {"name": "sync-jobs"}).status_code == 202
    answer(client, "GEOREP_START")
    assert admin.get(f"{url}/config", params={"name": "sync-jobs"}).json()["data"][0]["value"] == "3"


def test_session_is_in_the_cluster_metadata(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    with Session(client.app.state.engine) as s:
        from controlplane.models import Cluster
        from controlplane.services.metadata import current
        c1 = s.exec(select(Cluster).where(Cluster.name == "c1")).one()
        copy = current(s, c1.id)
        entries = copy.content["georep_sessions"]
        assert [e["id"] for e in entries] == [geo["id"]] and entries[0]["state"] == "Started"
        assert s.exec(select(Task).where(Task.kind == "GEOREP_START")).first() is not None


def test_metrics_show_sessions_and_active_workers(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    text = client.get("/metrics", headers=admin.headers).text
    assert value(text, "kadalu_georep_sessions", cluster="c1", state="Started") == 1
    assert value(text, "kadalu_georep_worker_pending", cluster="c1", node="n1", session=geo["id"]) == 0


def test_a_remote_managed_elsewhere_gets_its_keys_from_ssh_setup(client, admin, nodes):
    two_clusters(client, admin, nodes)
    r = admin.post(GEO, {"master_volume": "mv", "remote_volume": "far", "remote_host": "192.0.2.7", "start": False})
    assert r.status_code == 202, r.text
    geo = r.json()
    assert admin.get(f"{GEO}/{geo['id']}/ssh-setup").status_code == 409  # no keys yet
    answer(client, "GEOREP_KEYGEN")
    assert active_tasks(client, "GEOREP_PREPARE_REMOTE") == []  # nothing of ours runs there
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Created"
    lines = admin.get(f"{GEO}/{geo['id']}/ssh-setup").json()["lines"]
    assert lines == [f'command="/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd",no-port-forwarding,no-X11-forwarding,'
                     f"no-agent-forwarding,no-pty {PUBLIC_KEY} kadalu-georep-{geo['id']}"]
    # a session to a remote of this control plane has no ssh-setup: the control plane did it
    r = create(admin)
    assert r.status_code == 409 and "Reconfiguring" in r.json()["detail"] and "wait" in r.json()["detail"]
    settle_master_options(client, admin)
    other = started_session(client, admin)
    assert admin.get(f"{GEO}/{other['id']}/ssh-setup").status_code == 409
