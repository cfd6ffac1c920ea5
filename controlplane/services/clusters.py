"""Clusters: create, list, status, delete, join tokens."""
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from controlplane import security
from controlplane.models import Cluster, Node
from controlplane.services import metadata, visibility
from controlplane.services.access import MANAGE, Access
from controlplane.services.errors import Conflict, NotFound, Unauthorized
from controlplane.services.names import check_name

DEFAULT_CLUSTER = "default"


def ensure_default_cluster(session: Session) -> None:
    if session.exec(select(Cluster).where(col(Cluster.name) == DEFAULT_CLUSTER)).first():
        return
    try:
        create_cluster(session, DEFAULT_CLUSTER)
    except Conflict:
        session.rollback()  # another process created it first


def create_cluster(session: Session, name: str) -> tuple[Cluster, str]:
    check_name("cluster", name)
    if session.exec(select(Cluster).where(col(Cluster.name) == name)).first():
        raise Conflict(f"cluster {name!r} already exists: pick another name, or use it with `-c {name}`")
    token = security.new_token(security.JOIN_TOKEN_PREFIX)
    cluster = Cluster(name=name, join_token_hash=security.token_hash(token))
    session.add(cluster)
    try:
        metadata.changed(session, cluster.id, cluster=True)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"cluster {name!r} already exists: pick another name") from None
    return cluster, token


def get_visible(session: Session, access: Access, name: str) -> Cluster:
    """The cluster by name, or 404 for clusters the user has no grant in (their existence is not shown)."""
    cluster = session.exec(select(Cluster).where(col(Cluster.name) == name)).first()
    if cluster is None or not access.sees_cluster(cluster.id):
        raise NotFound(f"cluster {name!r} not found: `kadalu cluster list` shows the clusters you can see")
    return cluster


def list_visible(session: Session, access: Access) -> list[Cluster]:
    clusters = session.exec(select(Cluster).order_by(Cluster.name))
    return [c for c in clusters if access.sees_cluster(c.id)]


def node_count(session: Session, cluster_id: str) -> int:
    return session.exec(select(func.count()).select_from(Node).where(col(Node.cluster_id) == cluster_id)).one()


def status(session: Session, access: Access, cluster: Cluster) -> dict:
    """Nodes by state, device and volume counts: of what the user sees (all of it with a cluster grant)."""
    return visibility.counts(session, access, cluster.id)


def rotate_join_token(session: Session, access: Access, cluster: Cluster) -> str:
    access.require(MANAGE, cluster.id, f"rotate the join token of cluster {cluster.name!r}")
    token = security.new_token(security.JOIN_TOKEN_PREFIX)
    cluster.join_token_hash = security.token_hash(token)
    session.add(cluster)
    session.commit()
    return token


def delete_cluster(session: Session, access: Access, cluster: Cluster) -> None:
    access.require(MANAGE, cluster.id, f"delete cluster {cluster.name!r}")
    if cluster.name == DEFAULT_CLUSTER:
        raise Conflict("the default cluster always exists and cannot be deleted")
    if node_count(session, cluster.id):
        raise Conflict(f"cluster {cluster.name!r} still has nodes: remove them first (`kadalu node remove`)")
    session.delete(cluster)
    session.commit()


def get_by_join_token(session: Session, join_token: str) -> Cluster:
    cluster = session.exec(select(Cluster).where(col(Cluster.join_token_hash) == security.token_hash(join_token))).first()
    if cluster is None:
        raise Unauthorized(
            "the join token matches no cluster (mistyped, or rotated): get the current one with "
            "`kadalu cluster rotate-token CLUSTER`"
        )
    return cluster
