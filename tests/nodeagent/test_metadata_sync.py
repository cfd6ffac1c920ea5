"""The agent's metadata client (nodeagent/context.py): it asks for the changes after the version it
holds, applies them to its complete copy (contracts/metadata_delta.py), and falls back to the
complete copy when the changes do not apply. The control plane is faked at the HTTP client."""
import uuid

from contracts import metadata_delta
from contracts.metadata_signing import content_digest
from tests.nodeagent.agent_factory import agent

NODE = {"id": str(uuid.uuid4()), "name": "n1", "address": "127.0.1.1"}
CLUSTER = {"id": str(uuid.uuid4()), "name": "c1"}


def _volume(name: str, state: str = "Started") -> dict:
    return {"spec": {"id": str(uuid.uuid4()), "name": name, "bricks": []}, "state": state}


def _sig(version: int, content: dict) -> dict:
    """A signature as the control plane sends it (only version and digest matter to the agent)."""
    return {"alg": "ed25519", "key_id": "k", "cluster_id": CLUSTER["id"], "version": version,
            "digest": content_digest(content), "sig": "AA=="}


def _held(ctx, version: int, content: dict) -> None:
    ctx.state.save_metadata(version, content, signature=_sig(version, content))


class FakeClient:
    def __init__(self, answers):
        self.answers, self.asked = list(answers), []

    def metadata(self, node_id, secret, since=None):
        self.asked.append(since)
        return self.answers.pop(0)


class Notified:
    def __init__(self):
        self.count = 0

    def notify_change(self):
        self.count += 1


def test_nothing_changed_downloads_nothing_and_a_change_is_applied(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    ctx.volfile_server = Notified()
    v1, v2 = _volume("b-vol"), _volume("a-vol")
    full = {"cluster": CLUSTER, "nodes": [NODE], "devices": [], "volumes": [v1], "georep_sessions": [], "snapshots": []}
    _held(ctx, 4, full)
    change = {"version": 5, "volumes": {v2["spec"]["id"]: v2, v1["spec"]["id"]: None}}
    ctx.client = FakeClient([None, {"version": 5, "changes": [change]}])
    ctx.sync_metadata()
    assert ctx.state.load_metadata() == {"version": 4, "content": full, "signature": _sig(4, full)}
    assert ctx.volfile_server.count == 0
    ctx.sync_metadata()
    assert ctx.client.asked == [4, 4]
    assert ctx.state.load_metadata() == {"version": 5, "content": {**full, "volumes": [v2], "georep_sessions": []}}
    assert ctx.volfile_server.count == 1


def test_changes_that_do_not_follow_our_version_bring_the_complete_copy(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    _held(ctx, 4, {"cluster": CLUSTER, "nodes": [], "devices": [], "volumes": []})
    complete = {"cluster": CLUSTER, "nodes": [NODE], "devices": [], "volumes": [_volume("x")]}
    ctx.client = FakeClient([{"version": 9, "changes": [{"version": 8}]}, {"version": 9, "content": complete}])
    ctx.sync_metadata()
    assert ctx.client.asked == [4, None]
    assert ctx.state.load_metadata() == {"version": 9, "content": complete}


def test_a_restored_control_plane_replaces_a_newer_local_copy(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    _held(ctx, 40, {"cluster": CLUSTER, "nodes": [], "devices": [], "volumes": []})
    older = {"cluster": CLUSTER, "nodes": [NODE], "devices": [], "volumes": []}
    ctx.client = FakeClient([{"version": 30, "content": older}])
    ctx.sync_metadata()
    assert ctx.state.load_metadata() == {"version": 30, "content": older}


def test_the_signature_is_kept_with_the_copy_it_signs(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    base = {"cluster": CLUSTER, "nodes": [], "devices": [], "volumes": [], "georep_sessions": [], "snapshots": []}
    _held(ctx, 4, base)
    after = {**base, "nodes": [NODE]}
    ctx.client = FakeClient([{"version": 5, "changes": [{"version": 5, "nodes": {NODE["id"]: NODE}}],
                              "signature": _sig(5, after)}])
    ctx.sync_metadata()
    assert ctx.state.load_metadata() == {"version": 5, "content": after, "signature": _sig(5, after)}


def test_changes_that_give_another_copy_than_the_signed_one_bring_the_complete_copy(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    base = {"cluster": CLUSTER, "nodes": [], "devices": [], "volumes": [], "georep_sessions": [], "snapshots": []}
    _held(ctx, 4, base)
    truth = {**base, "nodes": [NODE], "volumes": [_volume("x")]}
    ctx.client = FakeClient([{"version": 5, "changes": [{"version": 5, "nodes": {NODE["id"]: NODE}}],
                              "signature": _sig(5, truth)},
                             {"version": 5, "content": truth, "signature": _sig(5, truth)}])
    ctx.sync_metadata()
    assert ctx.client.asked == [4, None]
    assert ctx.state.load_metadata() == {"version": 5, "content": truth, "signature": _sig(5, truth)}


def test_an_unsigned_copy_is_replaced_by_the_signed_complete_copy_once(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    base = {"cluster": CLUSTER, "nodes": [], "devices": [], "volumes": []}
    ctx.state.save_metadata(4, base)
    ctx.client = FakeClient([{"version": 4, "content": base}, None])  # a control plane that does not sign
    ctx.sync_metadata()
    ctx.sync_metadata()
    assert ctx.client.asked == [None, 4]  # not the complete copy at every heartbeat


def test_a_task_naming_an_older_version_asks_nothing(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    ctx.state.save_metadata(7, {})
    ctx.client = FakeClient([])
    ctx.refresh_metadata(7)
    assert ctx.client.asked == []


def test_apply_keeps_the_complete_copy_format():
    n2 = {"id": str(uuid.uuid4()), "name": "a-node", "address": "127.0.1.2"}
    dev = {"id": str(uuid.uuid4()), "node_id": NODE["id"], "path": "/e", "kind": "directory", "state": "Ready"}
    version, content = metadata_delta.apply({}, 0, [{"version": 1, "cluster": CLUSTER},
                                                    {"version": 2, "nodes": {NODE["id"]: NODE, n2["id"]: n2}},
                                                    {"version": 3, "devices": {dev["id"]: dev}}])
    assert version == 3 and content == {"cluster": CLUSTER, "nodes": [n2, NODE], "devices": [dev], "volumes": [],
                                        "georep_sessions": [], "snapshots": []}
    for bad in ({"version": 4, "nodes": []}, {"version": 4, "nodes": {"x": n2}}, {"version": 5}):
        try:
            metadata_delta.apply(content, 3, [bad])
        except metadata_delta.BadChange:
            continue
        raise AssertionError(f"{bad} applied")
