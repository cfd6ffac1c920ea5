"""What every volume operation is made of: a step is one brick task per brick involved, under the
volume's current operation id; the step is over when all its tasks are (see registry.py)."""
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from contracts.states import VolumeState
from contracts.task_kinds import Phase, TaskKind
from contracts.task_specs import BrickTaskSpec
from controlplane.models import Brick, Node, Snapshot, Task, Volume
from controlplane.services import metadata, tasks
from controlplane.services.access import WRITE, Access
from controlplane.services.errors import Conflict
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_specs import refs, spec

# What a request on a volume is called in messages ("cannot start volume 'v1'").
VERBS: dict[VolumeState, str] = {
    VolumeState.CREATING: "create",
    VolumeState.STARTING: "start",
    VolumeState.STOPPING: "stop",
    VolumeState.DELETING: "delete",
    VolumeState.EXPANDING: "expand",
    VolumeState.ABORTING_EXPAND: "abort the expand of",
    VolumeState.RECONFIGURING: "change options of",
}


@dataclass(frozen=True)
class Operation:
    """One kind of request on a volume. `state` is the state it runs in (and the registry's key);
    `settle(session, volume, step)` is called with the step's finished tasks and takes the next step
    or leaves the volume in a settled state."""

    state: VolumeState
    settle: Callable[[Session, Volume, list[Task]], None]

    @property
    def verb(self) -> str:
        return VERBS[self.state]

    def check_access(self, access: Access, volume: Volume) -> None:
        access.require(WRITE, volume.cluster_id, f"{self.verb} volume {volume.name!r}", refs(volume))
        refuse_if_snapshot(volume, self.verb)

    def check(self, access: Access, volume: Volume) -> None:
        """The precondition: the caller may change the volume, and the table has the arrow."""
        self.check_access(access, volume)
        VOLUME.check(volume, self.state)


def refuse_if_snapshot(volume: Volume, verb: str) -> None:
    """An activated snapshot runs as a volume of its own (its id is the snapshot's): only the snapshot
    commands change it (a volume delete would strip the snapshot's copies of their gluster data). A
    volume being restored waits for the restore; one with snapshots is deleted after them (their
    backend snapshots live on the volume's devices)."""
    session = object_session(volume)
    if not isinstance(session, Session):
        return
    if session.get(Snapshot, volume.id) is not None:
        raise Conflict(f"cannot {verb} volume {volume.name!r}: it is snapshot {volume.name!r} activated; use "
                       "`kadalu snapshot deactivate` or `kadalu snapshot delete`")
    mine = list(session.exec(select(Snapshot.name, Snapshot.state).where(col(Snapshot.volume_id) == volume.id)))
    restoring = [name for name, state in mine if state == "Restoring"]
    if restoring:
        raise Conflict(f"cannot {verb} volume {volume.name!r}: snapshot {restoring[0]!r} is being restored onto it; "
                       "wait for the restore to finish")
    if verb == "delete" and mine:
        raise Conflict(f"volume {volume.name!r} has {len(mine)} snapshot(s) ({', '.join(sorted(n for n, _ in mine)[:5])}): "
                       "delete them first (`kadalu snapshot delete`)")


def step(session: Session, volume: Volume, bricks: list[Brick], kind: TaskKind, **fields: Any) -> list[Task]:
    """One `kind` task per brick, carrying the whole volume (volfiles need every brick), under a new
    operation id; sent when the transaction commits. The volume's metadata changes with it."""
    volume.operation_id = str(uuid.uuid4())
    session.add(volume)
    session.flush()
    vspec = spec(session, volume)
    made = []
    for brick in bricks:
        node = session.get(Node, brick.node_id)
        assert node is not None  # a brick row goes with its node (ON DELETE CASCADE)
        body = BrickTaskSpec(volume=vspec, brick_id=brick.id, **fields).model_dump()
        task = tasks.new_task(session, node, kind, body, volume_id=volume.id, operation_id=volume.operation_id)
        made.append(task)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    return made


def failed(step_tasks: list[Task]) -> list[Task]:
    return [t for t in step_tasks if t.phase == Phase.FAILED.value]


def reasons(session: Session, failed_tasks: list[Task]) -> str:
    ids = [t.node_id for t in failed_tasks]
    names = {n.id: n.name for n in session.exec(select(Node).where(col(Node.id).in_(ids)))}
    return "; ".join(f"{names.get(t.node_id, t.node_id)}: {t.reason}" for t in failed_tasks)


def settle_to(session: Session, volume: Volume, to: str, reason: str = "") -> None:
    """Leave the operation: the volume takes state `to` (through the table); its metadata changes."""
    VOLUME.move(volume, to, reason)
    session.add(volume)
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)


def refuse_if_busy(volume: Volume) -> None:
    if volume.state in VOLUME.in_progress:
        raise Conflict(f"volume {volume.name!r} is {volume.state} (another request is in progress): wait for it "
                       "to finish, then retry")
