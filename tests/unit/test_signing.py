import pytest

from contracts import signing


def test_signed_payload_verifies_with_the_same_secret():
    env = signing.sign("node-a", "s3cret", {"node_id": "node-a", "x": 1})
    assert signing.verify(env, "s3cret") == {"node_id": "node-a", "x": 1}


@pytest.mark.parametrize("tamper", [
    lambda e: e.update(sig="0" * 64),
    lambda e: e.update(body=e["body"].replace("1", "2")),
    lambda e: e.update(node_id="node-b"),
    lambda e: e.pop("sig"),
])
def test_tampered_envelopes_are_refused(tamper):
    env = signing.sign("node-a", "s3cret", {"node_id": "node-a", "x": 1})
    tamper(env)
    with pytest.raises(signing.BadSignature):
        signing.verify(env, "s3cret")


def test_another_nodes_secret_does_not_verify():
    env = signing.sign("node-a", "secret-a", {"node_id": "node-a"})
    with pytest.raises(signing.BadSignature):
        signing.verify(env, "secret-b")


def test_heartbeats_from_newer_agents_with_unknown_fields_are_accepted():
    from contracts.messages import Heartbeat

    hb = Heartbeat.model_validate({"node_id": "n1", "sent_at": 1.5, "a_field_from_the_future": 1})
    assert hb.node_id == "n1"
