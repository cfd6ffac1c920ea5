"""Heartbeats applied in batches (controlplane/services/heartbeat_batch.py): each message is checked
on its own inside a batch, and a batch writes what the same heartbeats applied one by one write."""
import time

from sqlmodel import Session, select

from contracts import signing
from contracts.messages import BrickReport, DeviceUsage, Heartbeat
from controlplane.models import Brick, Device, Node
from controlplane.services import heartbeat_batch
from tests.api.volume_helpers import R3, create, finish_all
from tests.factories import register_node

SECRET_KEY = "test-secret-key"  # the `settings` fixture's
GiB = 1 << 30


def _hb(node: dict, sent_at: float | None = None, **extra) -> dict:
    return {"node_id": node["node_id"], "sent_at": sent_at or time.time(), **extra}


def _signed(node: dict, body: dict) -> dict:
    return signing.sign(node["node_id"], node["node_secret"], body)


def _apply(client, envelopes: list, min_gap: float = 0.0) -> heartbeat_batch.Outcome:
    with Session(client.app.state.engine) as s:
        pairs, refused = heartbeat_batch.verified(s, envelopes, SECRET_KEY)
        outcome = heartbeat_batch.apply_verified(s, pairs, timeout=60.0, min_gap=min_gap)
        outcome.refused += refused
        return outcome


def _nodes(client) -> dict[str, Node]:
    with Session(client.app.state.engine) as s:
        return {n.name: n for n in s.exec(select(Node))}


def test_a_bad_signature_in_the_middle_of_a_batch_drops_that_message_only(client, admin):
    token = admin.make_cluster("c1")
    made = [register_node(client, token, f"n{i}", f"127.0.1.{i}") for i in (1, 2, 3)]
    forged = _signed(made[1], _hb(made[1], hostname="forged"))
    forged["sig"] = "0" * 64
    other_key = signing.sign(made[2]["node_id"], "not-its-secret", _hb(made[2], hostname="forged"))
    batch = [_signed(made[0], _hb(made[0], hostname="h1")), forged, other_key, {"no": "node"}, "junk",
             _signed(made[2], _hb(made[2], hostname="h3")),
             signing.sign("8f2c2d1c-0000-4000-8000-000000000000", "x", {"node_id": "8f2c2d1c-0000-4000-8000-000000000000"}),
             _signed(made[1], {"node_id": made[1]["node_id"], "sent_at": "yesterday"})]  # signed, malformed
    outcome = _apply(client, batch)
    assert sorted(outcome.applied) == sorted([made[0]["node_id"], made[2]["node_id"]])
    assert outcome.refused == 6 and outcome.dropped == 0
    nodes = _nodes(client)
    assert (nodes["n1"].state, nodes["n1"].hostname) == ("Online", "h1")
    assert (nodes["n3"].state, nodes["n3"].hostname) == ("Online", "h3")
    assert (nodes["n2"].state, nodes["n2"].hostname, nodes["n2"].last_heartbeat_at) == ("Registered", "", None)


def test_the_newest_of_a_batch_wins_and_replays_change_nothing(client, admin):
    node = register_node(client, admin.make_cluster("c1"), "n1", "127.0.1.1")
    now = time.time()
    older, newer = _signed(node, _hb(node, now - 2, hostname="older")), _signed(node, _hb(node, now - 1, hostname="newer"))
    outcome = _apply(client, [newer, older])
    assert (len(outcome.applied), outcome.dropped) == (1, 1)
    assert _nodes(client)["n1"].hostname == "newer"
    outcome = _apply(client, [older, newer])  # both replayed in a later batch
    assert (outcome.applied, outcome.dropped) == ([], 2)
    stale = _signed(node, _hb(node, now - 3600, hostname="stale"))
    assert _apply(client, [stale]).dropped == 1
    assert _nodes(client)["n1"].hostname == "newer"


def test_a_node_beating_faster_than_the_gap_is_throttled_inside_and_across_batches(client, admin):
    token = admin.make_cluster("c1")
    fast, calm = register_node(client, token, "n1", "127.0.1.1"), register_node(client, token, "n2", "127.0.1.2")
    now = time.time()
    assert len(_apply(client, [_signed(fast, _hb(fast, now - 3, hostname="first"))], min_gap=30.0).applied) == 1
    flood = [_signed(fast, _hb(fast, now - 2 + k / 100, hostname=f"flood{k}")) for k in range(20)]
    outcome = _apply(client, [*flood, _signed(calm, _hb(calm, now - 2, hostname="calm"))], min_gap=30.0)
    assert outcome.applied == [calm["node_id"]] and outcome.dropped == 20
    nodes = _nodes(client)
    assert (nodes["n1"].hostname, nodes["n2"].hostname) == ("first", "calm")


def _reports(client, node_name: str, changes: dict[str, tuple[bool, int]]) -> tuple[list[BrickReport], list[DeviceUsage]]:
    with Session(client.app.state.engine) as s:
        node = s.exec(select(Node).where(Node.name == node_name)).one()
        bricks = []
        for b in s.exec(select(Brick).where(Brick.node_id == node.id).order_by(Brick.path)):
            online, heal = changes.get(b.path, (True, 0))
            bricks.append(BrickReport(brick_id=b.id, volume_id=b.volume_id, pid=4242 if online else None, online=online,
                                      size_bytes=100 * GiB, free_bytes=40 * GiB, heal_pending=heal))
        devices = [DeviceUsage(device_id=d.id, path=d.path, size_bytes=200 * GiB, free_bytes=150 * GiB - len(node_name))
                   for d in s.exec(select(Device).where(Device.node_id == node.id))]
        return bricks, devices


def _rows(client) -> list[tuple]:
    with Session(client.app.state.engine) as s:
        nodes = [(n.name, n.state, n.hostname, n.metadata_version) for n in s.exec(select(Node).order_by(Node.name))]
        bricks = [(b.path, b.online, b.pid, b.heal_pending, b.size_bytes, b.free_bytes) for b in
                  s.exec(select(Brick).order_by(Brick.node_id, Brick.path))]
        devices = [(d.path, d.size_bytes, d.free_bytes) for d in s.exec(select(Device).order_by(Device.node_id))]
        return [nodes, bricks, devices]


def test_a_batch_writes_what_the_same_heartbeats_applied_one_by_one_write(client, admin, nodes):
    vol = create(admin, "v1", R3, replica=3).json()
    finish_all(client, vol["id"])
    finish_all(client, vol["id"])
    names = ["n1", "n2", "n3", "n4"]
    rounds = [{}, {"/e/b1": (False, 0)}, {"/e/b1": (True, 7)}]  # unchanged, a brick down, back with heals pending
    seen = []
    for batched in (False, True):
        for k, changes in enumerate(rounds):
            beats = []
            for i, name in enumerate(names):
                bricks, devices = _reports(client, name, changes)
                body = Heartbeat(node_id=nodes[name]["node_id"], sent_at=time.time() - 30 + k + 3 * batched + i / 10,
                                 hostname=f"{name}-{k}", metadata_version=k, bricks=bricks, devices=devices)
                beats.append(_signed(nodes[name], body.model_dump()))
            if batched:
                assert len(_apply(client, beats).applied) == 4
            else:
                assert all(len(_apply(client, [b]).applied) == 1 for b in beats)
            seen.append(_rows(client))
    assert seen[:3] == seen[3:]
    assert seen[1][1] != seen[0][1] and seen[2][1] != seen[1][1], "the rounds changed the bricks"
    down = [b for b in seen[1][1] if b[0] == "/e/b1"]
    assert down == [("/e/b1", False, None, 0, 100 * GiB, 40 * GiB)]
