"""Versioned cluster metadata: what every node agent keeps a copy of."""
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from controlplane.models import Cluster, Device, MetadataVersion, Node, Volume


def build_content(session: Session, cluster: Cluster) -> dict[str, Any]:
    nodes = session.exec(select(Node).where(Node.cluster_id == cluster.id).order_by(Node.name))
    devices = session.exec(select(Device).where(Device.cluster_id == cluster.id).order_by(Device.path))
    return {
        "cluster": {"id": cluster.id, "name": cluster.name},
        "nodes": [{"id": n.id, "name": n.name, "address": n.address} for n in nodes],
        "devices": [
            {"id": d.id, "node_id": d.node_id, "path": d.path, "kind": d.kind, "state": d.state} for d in devices
        ],
        "volumes": _volumes(session, cluster),
    }


def _volumes(session: Session, cluster: Cluster) -> list[dict[str, Any]]:
    from controlplane.services.volumes import spec  # volumes imports this module

    vols = session.exec(select(Volume).where(Volume.cluster_id == cluster.id).order_by(Volume.name))
    # agents act on the state the bricks should be in: during an expand or an option change, where it returns to
    return [{"spec": spec(session, v).model_dump(), "state": v.resume_state if v.state in _PASSING else v.state}
            for v in vols]


_PASSING = frozenset({"Expanding", "Reconfiguring"})


def bump(session: Session, cluster: Cluster) -> int:
    """Write a new metadata version in the caller's transaction (the row update serialises bumps)."""
    session.flush()
    session.execute(
        update(Cluster).where(Cluster.id == cluster.id).values(metadata_version=Cluster.metadata_version + 1)
    )
    version = session.exec(select(Cluster.metadata_version).where(Cluster.id == cluster.id)).one()
    cluster.metadata_version = version
    content = build_content(session, cluster)
    content["version"] = version
    session.add(MetadataVersion(cluster_id=cluster.id, version=version, content=content))
    return version


def current(session: Session, cluster_id: str) -> MetadataVersion | None:
    stmt = (
        select(MetadataVersion)
        .where(MetadataVersion.cluster_id == cluster_id)
        .order_by(MetadataVersion.version.desc())
        .limit(1)
    )
    return session.exec(stmt).first()
