"""A volume as agents and volgen read it (contracts.volume_spec.VolumeSpec), built from its rows.

Cost: one volume's bricks and the nodes holding them, never the whole cluster (issue #14)."""
from collections.abc import Mapping

from sqlmodel import Session, col, select

from contracts.volume_spec import BrickSpec, VolumeSpec
from controlplane.models import Brick, Node, Volume


def refs(volume: Volume) -> tuple[tuple[str, str], ...]:
    """What grants on the volume are checked against (controlplane/services/access.py)."""
    return (("volume", volume.id),)


def bricks_of(session: Session, volume: Volume) -> list[Brick]:
    return list(session.exec(select(Brick).where(col(Brick.volume_id) == volume.id).order_by(col(Brick.idx))))


def nodes_of(session: Session, bricks: list[Brick]) -> dict[str, Node]:
    """The nodes holding these bricks, by id."""
    ids = sorted({b.node_id for b in bricks})
    return {n.id: n for n in session.exec(select(Node).where(col(Node.id).in_(ids)))} if ids else {}


def spec(session: Session, volume: Volume, bricks: list[Brick] | None = None) -> VolumeSpec:
    bricks = bricks if bricks is not None else bricks_of(session, volume)
    return spec_from(volume, bricks, nodes_of(session, bricks))


def spec_from(volume: Volume, bricks: list[Brick], nodes: Mapping[str, Node]) -> VolumeSpec:
    """The spec from rows already loaded (`nodes` holds at least the bricks' nodes)."""
    return VolumeSpec(
        id=volume.id, name=volume.name, type=volume.type, replica_count=volume.replica_count,
        arbiter_count=volume.arbiter_count, disperse_count=volume.disperse_count,
        redundancy_count=volume.redundancy_count, options={k: str(v) for k, v in volume.options.items()},
        auth_username=volume.auth_username, auth_password=volume.auth_password,
        bricks=[BrickSpec(id=b.id, node_id=b.node_id, node_name=nodes[b.node_id].name, address=nodes[b.node_id].address,
                          path=b.path, port=b.port) for b in bricks],
    )
