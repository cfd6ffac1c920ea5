"""Snapshots as users find them (by name, the ones a user may see) and the step mechanism every
snapshot operation uses: one snapshot task per brick of the origin volume under a new operation id,
sent when the transaction commits. Access is decided on the origin volume: reading a snapshot needs
the viewer role on its volume, changing one the maintainer role."""
import uuid
from typing import Any

from sqlmodel import Session, col, select

from contracts.snapshot_specs import SnapshotTaskSpec
from contracts.task_kinds import Phase, TaskKind
from contracts.volume_spec import VolumeSpec
from controlplane.models import Cluster, Node, Snapshot, Task, Volume
from controlplane.services import metadata, tasks
from controlplane.services.access import READ, WRITE, Access
from controlplane.services.errors import NotFound
from controlplane.services.volume_specs import refs


def changed(session: Session, snap: Snapshot) -> None:
    """The snapshot's entry in the cluster metadata changes with this transaction."""
    metadata.changed(session, snap.cluster_id, snapshot_id=snap.id)


def origin_of(session: Session, snap: Snapshot) -> Volume:
    vol = session.get(Volume, snap.volume_id)
    assert vol is not None  # the snapshot row goes with its volume (ON DELETE CASCADE)
    return vol


def require(session: Session, access: Access, snap: Snapshot, needed: int, what: str) -> Volume:
    """The origin volume, once the caller holds `needed` on it (snapshots have no grants of their own)."""
    vol = origin_of(session, snap)
    access.require(needed, snap.cluster_id, f"{what} snapshot {snap.name!r}", refs(vol))
    return vol


def get(session: Session, access: Access, cluster: Cluster, name: str) -> Snapshot:
    snap = session.exec(select(Snapshot).where(col(Snapshot.cluster_id) == cluster.id,
                                               col(Snapshot.name) == name)).first()
    if snap is None or access.resource_rank(cluster.id, (("volume", snap.volume_id),)) < READ:
        raise NotFound(f"snapshot {name!r} not found in cluster {cluster.name!r}: `kadalu snapshot list -c {cluster.name}`")
    return snap


def list_visible(session: Session, access: Access, cluster: Cluster, volume: Volume | None = None) -> list[Snapshot]:
    stmt = select(Snapshot).where(col(Snapshot.cluster_id) == cluster.id)
    if volume is not None:
        stmt = stmt.where(col(Snapshot.volume_id) == volume.id)
    snaps = session.exec(stmt.order_by(col(Snapshot.created_at), col(Snapshot.name)))
    return [s for s in snaps if access.resource_rank(cluster.id, (("volume", s.volume_id),)) >= READ]


def origin_spec(snap: Snapshot) -> VolumeSpec:
    return VolumeSpec.model_validate(snap.origin)


def step(session: Session, snap: Snapshot, kind: TaskKind, brick_ids: list[str], spec: VolumeSpec | None = None, *,
         same_operation: bool = False, **fields: Any) -> list[Task]:
    """One `kind` task per brick named (the origin's bricks as the snapshot recorded them, or as in
    `spec`), each with the backend the probe found for it, under a new operation id of the snapshot
    (or the current one: `same_operation`, two kinds in one step)."""
    if not (same_operation and snap.operation_id):
        snap.operation_id = str(uuid.uuid4())
    session.add(snap)
    changed(session, snap)
    vspec = spec or origin_spec(snap)
    backends = {b["brick_id"]: b.get("backend", "") for b in snap.bricks}
    nodes = {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_([b.node_id for b in vspec.bricks])))}
    made = []
    for brick in vspec.bricks:
        if brick.id not in brick_ids:
            continue
        body = SnapshotTaskSpec(volume=vspec, brick_id=brick.id, snapshot_id=snap.id,
                                backend=backends.get(brick.id, ""), **fields).model_dump()
        made.append(tasks.new_task(session, nodes[brick.node_id], kind, body, volume_id=snap.volume_id,
                                   operation_id=snap.operation_id))
    return made


def failed_reasons(session: Session, step_tasks: list[Task], spec: VolumeSpec) -> str:
    """"node:/brick: why; ..." for the step's failed tasks."""
    by_id = {b.id: b for b in spec.bricks}
    out = []
    for t in step_tasks:
        if t.phase != Phase.FAILED.value:
            continue
        b = by_id.get(str(t.spec.get("brick_id")))
        where = f"brick {b.node_name}:{b.path}" if b else f"node {t.node_id}"
        out.append(f"{where}: {t.reason}")
    return "; ".join(out)


def change_access(session: Session, access: Access, snap: Snapshot, what: str) -> Volume:
    return require(session, access, snap, WRITE, what)
