"""The agent acts only on task messages the control plane signed for it, recently, in its protocol."""
import time
import uuid

import pytest

from contracts import signing
from contracts.messages import TaskMessage
from controlplane.dispatch import signed_task
from controlplane.security import node_secret
from nodeagent.message_guard import Keys, Rejected, open_task

SERVER_KEY = "server-key"
NODE = str(uuid.uuid4())
OTHER = str(uuid.uuid4())


def keys(node=NODE, generation=2) -> Keys:
    return Keys(node, node_secret(SERVER_KEY, node, generation), generation)


def message(**kw) -> TaskMessage:
    fields = {"task_id": str(uuid.uuid4()), "node_id": NODE, "kind": "ADD_DEVICE", "issued_at": time.time(),
              "key_generation": 2, "spec": {"device_id": str(uuid.uuid4()), "path": "/exports/d1", "kind": "directory"}}
    fields.update(kw)
    return TaskMessage(**fields)


def refused(envelope, k=None, **kw) -> Rejected:
    with pytest.raises(Rejected) as exc:
        open_task(k or keys(), envelope, **kw)
    return exc.value


def test_a_message_the_control_plane_signed_for_this_node_opens():
    msg = message()
    assert open_task(keys(), signed_task(msg, SERVER_KEY)) == msg


def test_unsigned_and_foreign_messages_are_refused():
    assert refused(message().model_dump(mode="json")).code == "malformed"  # the old, unsigned shape
    assert refused("rm -rf /").code == "malformed"
    msg = message()
    forged = signing.sign(NODE, "guessed-secret", msg.model_dump(mode="json"), generation=2)
    r = refused(forged)
    assert r.code == "bad_signature" and r.task_id == msg.task_id  # reported, never trusted
    for_other = signed_task(message(node_id=OTHER), SERVER_KEY)
    assert refused(for_other).code == "wrong_node"
    # the right envelope name, but a body signed for another node with that node's secret
    other = signing.sign(NODE, node_secret(SERVER_KEY, OTHER, 2), message(node_id=OTHER).model_dump(mode="json"), 2)
    assert refused(other).code == "bad_signature"


def test_tampering_breaks_the_signature():
    env = signed_task(message(), SERVER_KEY)
    env["body"] = env["body"].replace("/exports/d1", "/etc")
    assert refused(env).code == "bad_signature"


def test_a_message_signed_with_the_previous_secret_is_stale_not_forged():
    old = signed_task(message(key_generation=1), SERVER_KEY)
    assert refused(old).code == "stale_key"


def test_old_and_future_messages_are_refused():
    assert refused(signed_task(message(issued_at=time.time() - 7200), SERVER_KEY)).code == "expired"
    assert refused(signed_task(message(issued_at=time.time() + 3600), SERVER_KEY)).code == "future"
    assert open_task(keys(), signed_task(message(issued_at=time.time() - 60), SERVER_KEY))


def test_other_protocol_versions_are_refused():
    assert refused(signed_task(message(protocol=1), SERVER_KEY)).code == "protocol"


@pytest.mark.parametrize("task_id", ["../../../x", "x", str(uuid.uuid4()).upper(), ""])
def test_a_task_id_that_is_not_a_canonical_uuid_never_passes(task_id):
    body = message().model_dump(mode="json") | {"task_id": task_id}
    env = signing.sign(NODE, keys().secret, body, generation=2)
    r = refused(env)
    assert r.code == "malformed" and r.task_id is None


def test_an_unknown_task_kind_is_refused():
    body = message().model_dump(mode="json") | {"kind": "RUN_SHELL"}
    assert refused(signing.sign(NODE, keys().secret, body, generation=2)).code == "malformed"
