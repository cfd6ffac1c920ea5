"""`kadalu-server restore`: a new, empty control plane rebuilt from the node copies (docs/recovery.md).

Per cluster, the newest valid copy (restore_copies) becomes the cluster's rows (restore_sections) and
its metadata snapshot at the copy's version, in one transaction: the agents already hold that version,
so they fetch nothing, and the next change is the version after it. What a node copy never holds is
made anew: a join token per cluster (printed once); users and grants stay as they are in this
database (the first admin is made with the usual bootstrap, `kadalu user create`). Nodes start
Unreachable and turn Online with their first heartbeat; their credentials stay valid when this
control plane has the server key that signed the copies (the key is derived from it)."""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from contracts.checks import check_name
from controlplane import security
from controlplane.db import utcnow
from controlplane.models import Cluster, Device, MetadataSnapshot, Node, Volume
from controlplane.services import metadata, restore_georep
from controlplane.services.clusters import DEFAULT_CLUSTER, ensure_default_cluster
from controlplane.services.restore_copies import Chosen
from controlplane.services.restore_sections import BadSection, restore_all


class NotEmpty(Exception):
    """The database already holds clusters with nodes, devices or volumes."""


@dataclass
class Restored:
    cluster_name: str
    cluster_id: str
    version: int
    source: str
    join_token: str
    counts: dict[str, int] = field(default_factory=dict)


def held_data(session: Session) -> list[str]:
    """What this database holds that a restore would replace (empty: nothing but an empty default cluster)."""
    held = []
    for model, what in ((Node, "node"), (Device, "device"), (Volume, "volume")):
        n = session.exec(select(func.count()).select_from(model)).one()
        if n:
            held.append(f"{n} {what}(s)")
    others = session.exec(select(Cluster.name).where(col(Cluster.name) != DEFAULT_CLUSTER)).all()
    if others:
        held.append(f"cluster(s) {', '.join(sorted(others))}")
    return held


def restore(session: Session, chosen: list[Chosen], *, force: bool = False,
            rejoin_minutes: int = 0) -> list[Restored]:
    """Write every chosen copy as its cluster; commits once, or nothing (NotEmpty, BadSection)."""
    held = held_data(session)
    if held and not force:
        raise NotEmpty(f"this database is not empty ({'; '.join(held)}): restore into a new database, or pass "
                       "--force to delete every cluster in it first")
    names = [c.cluster_name for c in chosen]
    if len(set(names)) != len(names):
        raise BadSection(f"two different clusters are both named {sorted(n for n in names if names.count(n) > 1)[0]!r}: "
                         "give the copies of one of them only")
    session.info.pop(restore_georep.DEFERRED, None)
    session.execute(delete(Cluster))  # cascades; without --force only an empty default cluster is here
    session.flush()
    done = []
    for c in chosen:
        try:
            name = check_name(c.cluster_name, "cluster name")
        except ValueError as exc:
            raise BadSection(f"{c.source}: {exc}") from None
        token = security.new_token(security.JOIN_TOKEN_PREFIX)
        cluster = Cluster(id=c.cluster_id, name=name, join_token_hash=security.token_hash(token), metadata_version=c.version)
        session.add(cluster)
        session.flush()
        try:
            counts = restore_all(session, cluster, c.content)
        except BadSection as exc:
            session.rollback()
            raise BadSection(f"{c.source}: {exc}") from None
        if rejoin_minutes > 0:
            until = utcnow() + timedelta(minutes=rejoin_minutes)
            for node in session.exec(select(Node).where(col(Node.cluster_id) == cluster.id)):
                node.rejoin_allowed_until = until
                session.add(node)
        data, size = metadata.pack(c.version, c.content)
        session.add(MetadataSnapshot(cluster_id=cluster.id, version=c.version, data=data, size_bytes=size))
        done.append(Restored(name, cluster.id, c.version, c.source, token, counts))
    try:
        restore_georep.write_deferred(session)  # sessions may name a cluster restored after theirs
    except ValueError as exc:
        session.rollback()
        raise BadSection(str(exc)) from None
    session.commit()
    ensure_default_cluster(session)
    return done
