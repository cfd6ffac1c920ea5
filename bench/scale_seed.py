"""Synthetic rows for bench/scale.py: the registered nodes get 3 Ready devices each, and the cluster
V started replica-3 volumes with 3 options, their bricks spread over the nodes, and 100,000 finished
tasks for /metrics. Rows are written in bulk (what 5,000 volume creates would leave behind, without
the hours of waiting); everything measured afterwards goes through the real processes."""
import random
import uuid
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Device, Node, Task, Volume
from controlplane.services import metadata

OPTIONS = {"performance.cache-size": 33554432, "diagnostics.brick-log-level": "INFO", "cluster.self-heal-daemon": "on"}
DEVICES = ("/d1", "/d2", "/d3")
CHUNK = 2000


def _chunks(rows: list[dict]) -> list[list[dict]]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]


def seed(engine: Engine, cluster: str, n_volumes: int, brick_port_base: int, tasks: int = 100_000) -> dict:
    """Devices, volumes, bricks and finished tasks; then a metadata snapshot. Returns what it made."""
    now = utcnow()
    with Session(engine) as s:
        cid = s.exec(select(Cluster.id).where(col(Cluster.name) == cluster)).one()
        nodes = list(s.exec(select(Node).where(col(Node.cluster_id) == cid).order_by(col(Node.name))))
        devices = [{"id": str(uuid.uuid4()), "cluster_id": cid, "node_id": n.id, "path": p, "kind": "directory",
                    "state": "Ready", "size_bytes": 1 << 40, "free_bytes": 1 << 39, "reserved_bytes": 0, "reason": "",
                    "created_at": now} for n in nodes for p in DEVICES]
        volumes, bricks = [], []
        ports: dict[str, int] = {}
        for i in range(n_volumes):
            vid = str(uuid.uuid4())
            volumes.append({"id": vid, "cluster_id": cid, "name": f"vol{i:05d}", "type": "replicate", "replica_count": 3,
                            "arbiter_count": 0, "disperse_count": 0, "redundancy_count": 0, "state": "Started",
                            "reason": "", "options": OPTIONS, "start_after_create": True, "resume_state": "", "wave": 0,
                            "auth_username": str(uuid.uuid4()), "auth_password": str(uuid.uuid4()),
                            "created_at": now, "updated_at": now})
            for idx in range(3):
                node = nodes[(3 * i + idx) % len(nodes)]
                port = ports[node.id] = ports.get(node.id, brick_port_base + 1000) + 1
                bricks.append({"id": str(uuid.uuid4()), "volume_id": vid, "cluster_id": cid, "node_id": node.id,
                               "idx": idx, "path": f"{DEVICES[i % 3]}/vol{i:05d}", "port": port, "state": "Started",
                               "pid": 1000 + i, "online": True, "size_bytes": 1 << 30, "free_bytes": 1 << 29,
                               "heal_pending": 0, "reserved_bytes": 0, "reported_at": now})
        kinds = ("START_BRICK", "STOP_BRICK", "CREATE_BRICK", "ADD_DEVICE")
        task_rows = []
        for i in range(tasks):
            node = nodes[i % len(nodes)]
            done = now - timedelta(seconds=random.uniform(0, 3000))
            task_rows.append({"id": str(uuid.uuid4()), "cluster_id": cid, "node_id": node.id, "kind": kinds[i % 4],
                              "spec": {}, "phase": "done" if i % 50 else "failed", "reason": "", "error": None,
                              "result": {}, "attempts": 1, "created_at": done - timedelta(seconds=random.uniform(0.1, 3)),
                              "started_at": done, "finished_at": done})
        for model, rows in ((Device, devices), (Volume, volumes), (Brick, bricks), (Task, task_rows)):
            for chunk in _chunks(rows):
                s.execute(insert(model), chunk)
        s.commit()
        # the volumes appear in the metadata as one change each (what their creates would have written),
        # then compaction folds them into the snapshot agents start from
        for chunk in _chunks(volumes):
            for v in chunk:
                metadata.changed(s, cid, volume_id=v["id"])
            s.commit()
        for d in devices:
            metadata.changed(s, cid, device_id=d["id"])
        s.commit()
        metadata.compact(s, cid, every=1)
    return {"cluster_id": cid, "nodes": len(nodes), "devices": len(devices), "volumes": len(volumes),
            "bricks": len(bricks), "tasks": len(task_rows)}


def brick_reports(engine: Engine, node_ids: list[str]) -> dict[str, list[dict]]:
    """Each node's bricks as its agent would report them (online, nothing to heal)."""
    out: dict[str, list[dict]] = {n: [] for n in node_ids}
    with Session(engine) as s:
        for b in s.exec(select(Brick).where(col(Brick.node_id).in_(node_ids))):
            out[b.node_id].append({"brick_id": b.id, "volume_id": b.volume_id, "pid": 4242, "online": True,
                                   "port": b.port, "size_bytes": 1 << 30, "free_bytes": 1 << 29, "heal_pending": 0})
    return out


def device_usage(engine: Engine, node_ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {n: [] for n in node_ids}
    with Session(engine) as s:
        for d in s.exec(select(Device).where(col(Device.node_id).in_(node_ids))):
            out[d.node_id].append({"device_id": d.id, "path": d.path, "size_bytes": 1 << 40, "free_bytes": 1 << 39})
    return out
