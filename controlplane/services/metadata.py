"""Versioned cluster metadata: what every node agent keeps a copy of.

Services say that a cluster changed (`changed`); the version is bumped once, when the transaction
commits, however many changes it made, and only the last versions are kept (`configure`'s
keep_versions, KADALU_METADATA_KEEP_VERSIONS). Every change agents act on marks its cluster:
nodes, devices (their states too), volumes and their bricks, options and states."""
from typing import Any

from sqlalchemy import delete, event, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from contracts.states import VOLUME_PASSING
from controlplane.db import rowcount
from controlplane.models import Cluster, Device, MetadataVersion, Node, Volume
from controlplane.services.outbox import KEEP_VERSIONS
from controlplane.services.volume_specs import spec

CHANGED = "kadalu.metadata_changed"
DEFAULT_KEEP_VERSIONS = 100


def changed(session: Session, cluster_id: str) -> None:
    """`cluster_id`'s metadata changes with this transaction: one new version when it commits."""
    session.info.setdefault(CHANGED, set()).add(cluster_id)


def build_content(session: Session, cluster: Cluster) -> dict[str, Any]:
    nodes = session.exec(select(Node).where(col(Node.cluster_id) == cluster.id).order_by(col(Node.name)))
    devices = session.exec(select(Device).where(col(Device.cluster_id) == cluster.id).order_by(col(Device.path)))
    return {
        "cluster": {"id": cluster.id, "name": cluster.name},
        "nodes": [{"id": n.id, "name": n.name, "address": n.address} for n in nodes],
        "devices": [
            {"id": d.id, "node_id": d.node_id, "path": d.path, "kind": d.kind, "state": d.state} for d in devices
        ],
        "volumes": _volumes(session, cluster),
    }


def _volumes(session: Session, cluster: Cluster) -> list[dict[str, Any]]:
    vols = session.exec(select(Volume).where(col(Volume.cluster_id) == cluster.id).order_by(col(Volume.name)))
    # agents act on the state the bricks should be in: during an expand or an option change, where it returns to
    return [{"spec": spec(session, v).model_dump(), "state": v.resume_state if v.state in VOLUME_PASSING else v.state}
            for v in vols]


def bump(session: Session, cluster_id: str, keep: int = DEFAULT_KEEP_VERSIONS) -> int | None:
    """Write a new metadata version in the caller's transaction (the row update serialises bumps) and
    drop versions older than the last `keep`. None when the cluster is gone."""
    session.flush()
    done = session.execute(
        update(Cluster).where(col(Cluster.id) == cluster_id).values(metadata_version=Cluster.metadata_version + 1)
    )
    if rowcount(done) != 1:
        return None
    cluster = session.get(Cluster, cluster_id)
    assert cluster is not None  # its row was just updated
    session.refresh(cluster, ["metadata_version"])
    version = cluster.metadata_version
    content = build_content(session, cluster)
    content["version"] = version
    session.add(MetadataVersion(cluster_id=cluster.id, version=version, content=content))
    session.execute(delete(MetadataVersion).where(col(MetadataVersion.cluster_id) == cluster.id,
                                                  col(MetadataVersion.version) <= version - max(1, keep)))
    return version


@event.listens_for(OrmSession, "before_commit")
def _bump_changed(session: Any) -> None:
    keep = session.info.get(KEEP_VERSIONS, DEFAULT_KEEP_VERSIONS)
    for cluster_id in sorted(session.info.pop(CHANGED, ())):
        bump(session, cluster_id, keep)


@event.listens_for(OrmSession, "after_rollback")
def _forget_changes(session: Any) -> None:
    session.info.pop(CHANGED, None)


def current(session: Session, cluster_id: str) -> MetadataVersion | None:
    stmt = (
        select(MetadataVersion)
        .where(col(MetadataVersion.cluster_id) == cluster_id)
        .order_by(col(MetadataVersion.version).desc())
        .limit(1)
    )
    return session.exec(stmt).first()
