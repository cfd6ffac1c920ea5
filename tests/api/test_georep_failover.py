"""The control plane moves the Active role of a replica set when the Active worker's node is lost,
and gives a returning node its Passive locks back; the session stays Started throughout."""
import time
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from contracts.georep_specs import GeoRepSessionSpec
from contracts.messages import Heartbeat
from controlplane.db import utcnow
from controlplane.models import GeoRepWorker, Node
from controlplane.services import health
from tests.api.georep_helpers import GEO, active_tasks, answer, started_session, two_clusters


def roles(client, session_id):
    with Session(client.app.state.engine) as s:
        names = {n.id: n.name for n in s.exec(select(Node))}
        rows = s.exec(select(GeoRepWorker).where(GeoRepWorker.session_id == session_id))
        return {names[w.node_id]: w.role for w in rows}


def test_active_node_lost_then_back(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    first = roles(client, geo["id"])
    active = next(n for n, r in first.items() if r == "Active")
    with Session(client.app.state.engine) as s:
        s.execute(update(Node).where(Node.name == active).values(last_heartbeat_at=utcnow() - timedelta(hours=1)))
        s.execute(update(Node).where(Node.name != active).values(last_heartbeat_at=utcnow()))
        s.commit()
        assert [n.name for n in health.mark_unreachable(s, 30)] == [active]
    after = roles(client, geo["id"])
    new_active = next(n for n, r in after.items() if r == "Active")
    assert new_active != active and sorted(after.values()) == ["Active", "Passive", "Passive"]
    sent = active_tasks(client, "GEOREP_START")
    by_node = {t.node_id: GeoRepSessionSpec.model_validate(t.spec).passive_subvols for t in sent}
    # only the node whose role changed is told, and the lost node gets nothing (it cannot answer)
    assert by_node == {nodes[new_active]["node_id"]: []}
    answer(client, "GEOREP_START")
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Started"
    # the lost node returns: it keeps Passive and gets its lock back (it may still run an Active worker)
    with Session(client.app.state.engine) as s:
        node = s.get(Node, nodes[active]["node_id"])
        health.apply_heartbeat(s, node, Heartbeat(node_id=node.id, sent_at=time.time()))
    assert roles(client, geo["id"])[active] == "Passive" and roles(client, geo["id"])[new_active] == "Active"
    sent = active_tasks(client, "GEOREP_START")
    assert {t.node_id: GeoRepSessionSpec.model_validate(t.spec).passive_subvols for t in sent} == \
        {nodes[active]["node_id"]: [1]}


def test_reports_of_other_nodes_bricks_are_dropped(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    with Session(client.app.state.engine) as s:
        rows = list(s.exec(select(GeoRepWorker).where(GeoRepWorker.session_id == geo["id"])))
        mine = next(w for w in rows if w.node_id == nodes["n1"]["node_id"])
        other = next(w for w in rows if w.node_id != nodes["n1"]["node_id"])
        node = s.get(Node, nodes["n1"]["node_id"])
        reports = [{"session_id": geo["id"], "brick_id": mine.brick_id, "status": "Active", "entry": 7,
                    "crawl_status": "Changelog Crawl", "last_synced": 1700000000},
                   {"session_id": geo["id"], "brick_id": other.brick_id, "status": "Faulty"}]
        health.apply_heartbeat(s, node, Heartbeat.model_validate({"node_id": node.id, "sent_at": time.time(),
                                                                   "georep": reports}))
    shown = {w["node"]: w for w in admin.get(f"{GEO}/{geo['id']}").json()["workers"]}
    assert shown["n1"]["status"] == "Active" and shown["n1"]["entry"] == 7
    assert shown["n1"]["crawl_status"] == "Changelog Crawl" and shown["n1"]["last_synced"] == 1700000000
    assert all(w["status"] != "Faulty" for w in shown.values())
