"""Users, login tokens and grants."""
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from controlplane import security
from controlplane.db import utcnow
from controlplane.models import ApiToken, Cluster, Device, Grant, Node, User, Volume
from controlplane.services.access import ROLES, SCOPES
from controlplane.services.errors import Conflict, Invalid, NotFound, Unauthorized
from controlplane.services.names import check_name

MIN_PASSWORD, MAX_PASSWORD = 8, 256


def _check_password(password: str) -> None:
    if not (MIN_PASSWORD <= len(password) <= MAX_PASSWORD):
        raise Invalid(f"password must be {MIN_PASSWORD}-{MAX_PASSWORD} characters long")


def user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def create_user(session: Session, username: str, password: str) -> User:
    check_name("user", username)
    _check_password(password)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists: pick another name")
    user = User(username=username, password_hash=security.hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"user {username!r} already exists: pick another name") from None
    return user


def create_first_user(session: Session, username: str, password: str) -> User:
    """Only while no user exists; the first user is admin of everything."""
    if user_count(session) > 0:
        raise Conflict("a user already exists: log in with `kadalu login`, and ask an admin for an account")
    user = create_user(session, username, password)
    session.add(Grant(user_id=user.id, role="admin", scope="all"))
    session.commit()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"user {username!r} not found: `kadalu user list` shows the users")
    return user


def login(session: Session, username: str, password: str, ttl_days: int) -> tuple[User, str, ApiToken]:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        security.verify_password(security.DUMMY_PASSWORD_HASH, password)
        raise Unauthorized("wrong username or password")
    if not security.verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    token = security.new_token(security.USER_TOKEN_PREFIX)
    row = ApiToken(user_id=user.id, token_hash=security.token_hash(token), expires_at=utcnow() + timedelta(days=ttl_days))
    session.add(row)
    session.commit()
    return user, token, row


def user_for_token(session: Session, token: str) -> tuple[User, ApiToken]:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == security.token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the token is not valid (revoked or unknown): log in again with `kadalu login`")
    if row.expires_at <= utcnow():
        raise Unauthorized("the token has expired: log in again with `kadalu login`")
    user = session.get(User, row.user_id)
    if user is None:
        raise Unauthorized("the token's user no longer exists")
    return user, row


def revoke_token(session: Session, token_row: ApiToken) -> None:
    token_row.revoked_at = utcnow()
    session.add(token_row)
    session.commit()


def delete_user(session: Session, username: str, acting: User) -> None:
    user = get_user(session, username)
    if user.id == acting.id:
        raise Conflict("you cannot delete yourself: log in as another admin to do it")
    session.delete(user)
    session.commit()


def _resolve_scope(session: Session, scope: str, cluster: str | None, name: str | None) -> tuple[str | None, str | None]:
    if scope == "all":
        if cluster or name:
            raise Invalid("scope 'all' takes no cluster or name: leave them out")
        return None, None
    if not cluster:
        raise Invalid(f"scope {scope!r} needs a cluster: add -c CLUSTER")
    c = session.exec(select(Cluster).where(Cluster.name == cluster)).first()
    if c is None:
        raise NotFound(f"cluster {cluster!r} not found: `kadalu cluster list` shows the clusters")
    if scope == "cluster":
        if name:
            raise Invalid("scope 'cluster' takes no name: leave --name out")
        return c.id, None
    if not name:
        raise Invalid(f"scope {scope!r} needs the {scope}'s name: add --name")
    if scope == "node":
        node = session.exec(select(Node).where(Node.cluster_id == c.id, Node.name == name)).first()
        if node is None:
            raise NotFound(f"node {name!r} not found in cluster {cluster!r}")
        return c.id, node.id
    if scope == "device":
        node_name, _, path = name.partition(":")
        node = session.exec(select(Node).where(Node.cluster_id == c.id, Node.name == node_name)).first()
        dev = node and session.exec(select(Device).where(Device.node_id == node.id, Device.path == path)).first()
        if not dev:
            raise NotFound(f"device {name!r} not found in cluster {cluster!r}: name it NODE:PATH")
        return c.id, dev.id
    vol = session.exec(select(Volume).where(Volume.cluster_id == c.id, Volume.name == name)).first()
    if vol is None:
        raise NotFound(f"volume {name!r} not found in cluster {cluster!r}")
    return c.id, vol.id


def add_grant(session: Session, username: str, role: str, scope: str, cluster: str | None, name: str | None) -> Grant:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if scope not in SCOPES:
        raise Invalid(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")
    user = get_user(session, username)
    cluster_id, resource_id = _resolve_scope(session, scope, cluster, name)
    same = select(Grant).where(
        Grant.user_id == user.id, Grant.scope == scope, Grant.cluster_id == cluster_id, Grant.resource_id == resource_id
    )
    for old in session.exec(same):
        if old.role != role:
            _keep_an_admin(session, old)
        session.delete(old)  # one role per user and scope: the new grant replaces the old
    grant = Grant(user_id=user.id, role=role, scope=scope, cluster_id=cluster_id, resource_id=resource_id)
    session.add(grant)
    session.commit()
    return grant


def remove_grant(session: Session, username: str, grant_id: str) -> None:
    user = get_user(session, username)
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise NotFound(f"grant {grant_id!r} not found for user {username!r}: `kadalu user list --json` shows grant ids")
    _keep_an_admin(session, grant)
    session.delete(grant)
    session.commit()


def _keep_an_admin(session: Session, leaving: Grant) -> None:
    """Refuse to drop the last admin grant on scope 'all': nobody could manage users or grants again."""
    if leaving.role != "admin" or leaving.scope != "all":
        return
    others = session.exec(select(func.count()).select_from(Grant).where(
        Grant.role == "admin", Grant.scope == "all", Grant.id != leaving.id)).one()
    if not others:
        raise Conflict("this is the last admin grant on scope 'all': first grant admin to another user "
                       "(`kadalu user grant USER admin`)")
