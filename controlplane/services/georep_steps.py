"""The steps of a geo-replication request: one task per node involved, under the session's current
operation id; the step is over when all its tasks are, and `task_finished` takes the next step or
settles the session (Started, Stopped, ... or Faulty with the nodes' reasons).

Master nodes are the nodes holding bricks of the master volume; remote nodes hold bricks of the
remote volume (a remote of this control plane; one managed elsewhere has none here)."""
import uuid

from sqlmodel import Session, col, select

from contracts.georep_specs import GeoRepKeygenSpec, GeoRepRemoteSpec, GeoRepSessionSpec, RemoteBrick, check_public_key
from contracts.states import GeoRepState, NodeState
from contracts.task_kinds import Phase, TaskKind
from controlplane.models import Brick, GeoRepSession, GeoRepWorker, Node, Task, Volume
from controlplane.services import georep_reports, metadata, tasks, volume_plan
from controlplane.services.transitions import GEOREP
from controlplane.services.volume_specs import bricks_of, spec

G = GeoRepState
# The master volume options gsyncd needs on every master brick (volgen/brick.py: changelog, marker).
MASTER_OPTIONS = {"changelog.changelog": "on", "geo-replication.indexing": "on", "geo-replication.ignore-pid-check": "on"}
# What a step's state settles to when every task of it succeeded.
DONE = {G.STARTING: G.STARTED, G.PAUSING: G.PAUSED, G.RESUMING: G.STARTED, G.STOPPING: G.STOPPED,
        G.DELETING: G.DELETED}
KIND_OF = {G.STARTING: TaskKind.GEOREP_START, G.PAUSING: TaskKind.GEOREP_PAUSE, G.RESUMING: TaskKind.GEOREP_RESUME,
           G.STOPPING: TaskKind.GEOREP_STOP, G.DELETING: TaskKind.GEOREP_DELETE}


def master_volume(session: Session, geo: GeoRepSession) -> Volume:
    vol = session.get(Volume, geo.master_volume_id)
    assert vol is not None  # the session row goes with its master volume (ON DELETE CASCADE)
    return vol


def remote_volume(session: Session, geo: GeoRepSession) -> Volume | None:
    return session.get(Volume, geo.remote_volume_id) if geo.remote_volume_id else None


def _nodes(session: Session, bricks: list[Brick]) -> list[Node]:
    ids = sorted({b.node_id for b in bricks})
    return list(session.exec(select(Node).where(col(Node.id).in_(ids)).order_by(Node.name))) if ids else []


def _new_operation(session: Session, geo: GeoRepSession) -> str:
    geo.operation_id = str(uuid.uuid4())
    session.add(geo)
    session.flush()
    return geo.operation_id


def _task(session: Session, geo: GeoRepSession, node: Node, kind: TaskKind, body: dict) -> Task:
    return tasks.new_task(session, node, kind, body, volume_id=geo.master_volume_id, operation_id=geo.operation_id)


def keygen_step(session: Session, geo: GeoRepSession) -> list[Task]:
    _new_operation(session, geo)
    body = GeoRepKeygenSpec(session_id=geo.id, master=spec(session, master_volume(session, geo))).model_dump()
    nodes = _nodes(session, bricks_of(session, master_volume(session, geo)))
    return [_task(session, geo, n, TaskKind.GEOREP_KEYGEN, body) for n in nodes]


def remote_step(session: Session, geo: GeoRepSession, kind: TaskKind) -> list[Task]:
    """PREPARE/CLEANUP_REMOTE on every node of the remote volume (none for a remote managed elsewhere)."""
    remote = remote_volume(session, geo)
    if remote is None:
        return []
    body = GeoRepRemoteSpec(session_id=geo.id, remote_user=geo.remote_user, volume=spec(session, remote),
                            master_volume=master_volume(session, geo).name,
                            public_keys=sorted(set(geo.public_keys.values())), force=geo.force).model_dump()
    return [_task(session, geo, n, kind, body) for n in _nodes(session, bricks_of(session, remote))]


def assign_roles(session: Session, geo: GeoRepSession) -> list[GeoRepWorker]:
    """One worker row per master brick; in every set the first brick whose node is Online and whose
    brick runs is Active (the current Active keeps it while it qualifies), the others Passive."""
    vol = master_volume(session, geo)
    bricks = bricks_of(session, vol)
    size = volume_plan.set_size(vol)
    states = {n.id: n.state for n in _nodes(session, bricks)}
    rows = {w.brick_id: w for w in session.exec(select(GeoRepWorker).where(col(GeoRepWorker.session_id) == geo.id))}
    for gone in [w for bid, w in rows.items() if bid not in {b.id for b in bricks}]:
        session.delete(gone)
    out = []
    for k in range(0, len(bricks), size):
        group = bricks[k : k + size]
        if vol.type == "arbiter" and len(group) > 1:
            group = group[:-1]  # an arbiter holds no data to sync
        up = [b for b in group if states.get(b.node_id) == NodeState.ONLINE and b.online]
        current = [b for b in up if rows.get(b.id) is not None and rows[b.id].role == "Active"]
        active = (current or up or group)[0]
        for b in group:
            row = rows.get(b.id) or GeoRepWorker(session_id=geo.id, brick_id=b.id, node_id=b.node_id)
            row.subvol, row.node_id = k // size + 1, b.node_id
            row.role = "Active" if b.id == active.id else "Passive"
            session.add(row)
            out.append(row)
    session.flush()
    return out


def session_spec(session: Session, geo: GeoRepSession, node_id: str, workers: list[GeoRepWorker],
                 reset_sync_time: bool = False) -> GeoRepSessionSpec:
    remote = remote_volume(session, geo)
    remote_bricks = []
    if remote is not None:
        rb = bricks_of(session, remote)
        addr = {n.id: n.address for n in _nodes(session, rb)}
        remote_bricks = [RemoteBrick(node_id=b.node_id, address=addr[b.node_id], path=b.path) for b in rb]
    return GeoRepSessionSpec(
        session_id=geo.id, master=spec(session, master_volume(session, geo)), remote_user=geo.remote_user,
        remote_host=geo.remote_host, remote_volume=geo.remote_volume,
        remote_volume_id=geo.remote_volume_id or geo.id, remote_bricks=remote_bricks,
        remote_in_plane=geo.remote_volume_id is not None, ssh_port=geo.ssh_port,
        config={k: str(v) for k, v in geo.config.items()},
        passive_subvols=sorted({w.subvol for w in workers if w.node_id == node_id and w.role == "Passive"}),
        reset_sync_time=reset_sync_time,
    )


def master_step(session: Session, geo: GeoRepSession, state: GeoRepState) -> list[Task]:
    """Move to `state` and send its task to every master node (DELETING also cleans the remote nodes)."""
    GEOREP.move(geo, state, "")
    _new_operation(session, geo)
    workers = assign_roles(session, geo)
    made = []
    for node in _nodes(session, bricks_of(session, master_volume(session, geo))):
        body = session_spec(session, geo, node.id, workers, reset_sync_time=state == G.DELETING).model_dump()
        made.append(_task(session, geo, node, KIND_OF[state], body))
    if state == G.DELETING:
        made += remote_step(session, geo, TaskKind.GEOREP_CLEANUP_REMOTE)
    metadata.changed(session, geo.cluster_id, georep_id=geo.id)
    return made


def _reasons(session: Session, bad: list[Task]) -> str:
    names = {n.id: n.name for n in session.exec(select(Node).where(col(Node.id).in_([t.node_id for t in bad])))}
    return "; ".join(f"{names.get(t.node_id, t.node_id)}: {t.kind}: {t.reason}" for t in bad)


def _store_keys(geo: GeoRepSession, done: list[Task]) -> str | None:
    keys = dict(geo.public_keys)
    for t in done:
        key = (t.result or {}).get("public_key")
        try:
            keys[t.node_id] = check_public_key(key) if isinstance(key, str) else check_public_key("")
        except ValueError:
            return f"node {t.node_id} answered GEOREP_KEYGEN without a valid ed25519 public key"
    geo.public_keys = keys
    return None


def task_finished(session: Session, task: Task, data: dict) -> None:
    """A GEOREP_* task's answer: when it is the last of the session's current step, the next step."""
    geo = session.exec(select(GeoRepSession).where(col(GeoRepSession.operation_id) == task.operation_id)).first() \
        if task.operation_id else None
    if task.phase == Phase.DONE.value and task.kind != TaskKind.GEOREP_KEYGEN:
        georep_reports.apply_task_data(session, task.node_id, task.result or {})
    if geo is None:
        return  # an older step's late answer, a role change's answer, or the session is gone
    step = list(session.exec(select(Task).where(col(Task.operation_id) == geo.operation_id)))
    if any(t.phase not in (Phase.DONE.value, Phase.FAILED.value) for t in step):
        return
    bad = [t for t in step if t.phase == Phase.FAILED.value]
    if bad:
        GEOREP.move(geo, G.FAULTY, f"{geo.state} failed: {_reasons(session, bad)}")
        session.add(geo)
        metadata.changed(session, geo.cluster_id, georep_id=geo.id)
        return
    if geo.state == G.CREATING:
        _created(session, geo, step)
    elif geo.state == G.DELETING:
        GEOREP.move(geo, G.DELETED)
        session.delete(geo)
        metadata.changed(session, geo.cluster_id, georep_id=geo.id)
    else:
        GEOREP.move(geo, DONE[G(geo.state)])
        session.add(geo)
        metadata.changed(session, geo.cluster_id, georep_id=geo.id)


def _created(session: Session, geo: GeoRepSession, step: list[Task]) -> None:
    kinds = {t.kind for t in step}
    if TaskKind.GEOREP_KEYGEN in kinds:
        why = _store_keys(geo, step)
        if why:
            GEOREP.move(geo, G.FAULTY, f"create failed: {why}")
            session.add(geo)
            return
        if geo.remote_volume_id:
            _new_operation(session, geo)
            if remote_step(session, geo, TaskKind.GEOREP_PREPARE_REMOTE):
                return
    if geo.start_after_create:
        master_step(session, geo, G.STARTING)
    else:
        GEOREP.move(geo, G.CREATED)
        session.add(geo)
        metadata.changed(session, geo.cluster_id, georep_id=geo.id)
