"""Start, stop and delete: one step each, a brick task on every brick of the volume."""
from dataclasses import dataclass

from sqlmodel import Session

from contracts.states import VolumeState
from contracts.task_kinds import TaskKind
from controlplane.models import Task, Volume
from controlplane.services import metadata, provisioning
from controlplane.services.access import Access
from controlplane.services.errors import Conflict
from controlplane.services.transitions import VOLUME
from controlplane.services.volume_ops.steps import Operation, failed, reasons, settle_to, step
from controlplane.services.volume_specs import bricks_of

V = VolumeState


def _settle_start(session: Session, volume: Volume, done: list[Task]) -> None:
    bad = failed(done)
    settle_to(session, volume, V.START_FAILED if bad else V.STARTED, reasons(session, bad))


def _settle_stop(session: Session, volume: Volume, done: list[Task]) -> None:
    bad = failed(done)
    settle_to(session, volume, V.STOP_FAILED if bad else V.STOPPED, reasons(session, bad))


def _settle_delete(session: Session, volume: Volume, done: list[Task]) -> None:
    bad = failed(done)
    if bad:
        settle_to(session, volume, V.DELETE_FAILED, reasons(session, bad))
        return
    VOLUME.move(volume, V.DELETED)
    provisioning.release(session, bricks_of(session, volume))
    metadata.changed(session, volume.cluster_id, volume_id=volume.id)
    session.delete(volume)


START = Operation(V.STARTING, _settle_start)
STOP = Operation(V.STOPPING, _settle_stop)
DELETE = Operation(V.DELETING, _settle_delete)


@dataclass(frozen=True)
class StartRequest:
    force: bool = False  # a Started volume: start the bricks that are not running


def begin_start(session: Session, volume: Volume, force: bool = False) -> list[Task]:
    """Starting, and a START_BRICK for every brick (also used by create when it starts the volume)."""
    VOLUME.move(volume, V.STARTING)
    return step(session, volume, bricks_of(session, volume), TaskKind.START_BRICK, force=force)


def start(session: Session, *, access: Access, volume: Volume, request: StartRequest) -> list[Task]:
    if volume.state == V.STARTED and not request.force:
        raise Conflict(f"volume {volume.name!r} is already Started: start it with force to restart the bricks "
                       "that are not running")
    START.check(access, volume)
    made = begin_start(session, volume, request.force)
    session.commit()
    return made


def stop(session: Session, *, access: Access, volume: Volume) -> list[Task]:
    STOP.check(access, volume)
    VOLUME.move(volume, V.STOPPING)
    made = step(session, volume, bricks_of(session, volume), TaskKind.STOP_BRICK)
    session.commit()
    return made


def delete(session: Session, *, access: Access, volume: Volume, purge: bool = False) -> list[Task]:
    """Delete the bricks' gluster state (and with `purge`, their content); then the volume row."""
    DELETE.check(access, volume)
    VOLUME.move(volume, V.DELETING)
    made = step(session, volume, bricks_of(session, volume), TaskKind.DELETE_BRICK, purge=purge)
    session.commit()
    return made
