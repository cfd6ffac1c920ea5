"""Role grants: a role on everything, a cluster, or one node / device / volume in a cluster."""
from sqlmodel import Session, col, select

from controlplane.models import Cluster, Device, Grant, Node, Volume
from controlplane.services.access import ROLES, SCOPES
from controlplane.services.errors import Invalid, NotFound
from controlplane.services.last_admin import ensure_admin_remains, lock_admins
from controlplane.services.users import get_user


def _resolve_scope(session: Session, scope: str, cluster: str | None, name: str | None) -> tuple[str | None, str | None]:
    if scope == "all":
        if cluster or name:
            raise Invalid("scope 'all' takes no cluster or name: leave them out")
        return None, None
    if not cluster:
        raise Invalid(f"scope {scope!r} needs a cluster: add -c CLUSTER")
    c = session.exec(select(Cluster).where(col(Cluster.name) == cluster)).first()
    if c is None:
        raise NotFound(f"cluster {cluster!r} not found: `kadalu cluster list` shows the clusters")
    if scope == "cluster":
        if name:
            raise Invalid("scope 'cluster' takes no `name`: leave it out")
        return c.id, None
    if not name:
        raise Invalid(f"scope {scope!r} needs the {scope}'s name in `name`")
    if scope == "node":
        node = session.exec(select(Node).where(col(Node.cluster_id) == c.id, col(Node.name) == name)).first()
        if node is None:
            raise NotFound(f"node {name!r} not found in cluster {cluster!r}")
        return c.id, node.id
    if scope == "device":
        node_name, _, path = name.partition(":")
        node = session.exec(select(Node).where(col(Node.cluster_id) == c.id, col(Node.name) == node_name)).first()
        dev = node and session.exec(select(Device).where(col(Device.node_id) == node.id, col(Device.path) == path)).first()
        if not dev:
            raise NotFound(f"device {name!r} not found in cluster {cluster!r}: name it NODE:PATH")
        return c.id, dev.id
    vol = session.exec(select(Volume).where(col(Volume.cluster_id) == c.id, col(Volume.name) == name)).first()
    if vol is None:
        raise NotFound(f"volume {name!r} not found in cluster {cluster!r}")
    return c.id, vol.id


def add_grant(session: Session, username: str, role: str, scope: str, cluster: str | None, name: str | None) -> Grant:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if scope not in SCOPES:
        raise Invalid(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    lock_admins(session)  # first: on SQLite a read before the write lock could not be upgraded later
    user = get_user(session, username)
    cluster_id, resource_id = _resolve_scope(session, scope, cluster, name)
    if scope == "all" and role != "admin":  # replaces the user's scope-all grant, maybe an admin one
        ensure_admin_remains(session, {user.id}, f"making {username!r} {role} of everything")
    same = select(Grant).where(
        col(Grant.user_id) == user.id, col(Grant.scope) == scope, col(Grant.cluster_id) == cluster_id,
        col(Grant.resource_id) == resource_id
    )
    for old in session.exec(same):
        session.delete(old)  # one role per user and scope: the new grant replaces the old
    grant = Grant(user_id=user.id, role=role, scope=scope, cluster_id=cluster_id, resource_id=resource_id)
    session.add(grant)
    session.commit()
    return grant


def remove_grant(session: Session, username: str, grant_id: str) -> None:
    lock_admins(session)  # first: on SQLite a read before the write lock could not be upgraded later
    user = get_user(session, username)
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound(f"grant {grant_id!r} not found for user {username!r}: `kadalu user list --json` shows grant ids")
    if grant.role == "admin" and grant.scope == "all":
        ensure_admin_remains(session, {user.id}, f"removing the admin grant of {username!r}")
    session.delete(grant)
    session.commit()
