"""Users, their passwords and their login tokens (sessions)."""
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from controlplane import security
from controlplane.db import rowcount, utcnow
from controlplane.models import ApiToken, BootstrapClaim, Grant, User
from controlplane.services import login_throttle
from controlplane.services.errors import Conflict, Forbidden, NotFound, Unauthorized
from controlplane.services.last_admin import ensure_admin_remains, lock_admins
from controlplane.services.login_throttle import Limits
from controlplane.services.names import check_name
from controlplane.services.passwords import check_password

FIRST_USER_CLAIM = "first-user"
_FIRST_USER_TAKEN = "a user already exists: log in with `kadalu login`, and ask an admin for an account"


def user_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()


def create_user(session: Session, username: str, password: str) -> User:
    check_name("user", username)
    check_password(username, password)
    if session.exec(select(User).where(col(User.username) == username)).first():
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
    """Only while no user exists; the first user is admin of everything. The claim row's primary
    key lets exactly one of any number of racing requests (on any replica) commit."""
    check_name("user", username)
    check_password(username, password)
    if user_count(session) > 0:
        raise Conflict(_FIRST_USER_TAKEN)
    session.add(BootstrapClaim(name=FIRST_USER_CLAIM))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_FIRST_USER_TAKEN) from None
    user = create_user(session, username, password)
    session.add(Grant(user_id=user.id, role="admin", scope="all"))
    session.commit()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None:
        raise NotFound(f"user {username!r} not found: `kadalu user list` shows the users")
    return user


def delete_user(session: Session, username: str, acting: User) -> None:
    """Deleting a user deletes their grants and tokens with them (ON DELETE CASCADE)."""
    lock_admins(session)  # first: on SQLite a read before the write lock could not be upgraded later
    user = get_user(session, username)
    if user.id == acting.id:
        raise Conflict("you cannot delete yourself: log in as another admin to do it")
    ensure_admin_remains(session, {user.id}, f"deleting user {username!r}")
    session.delete(user)
    session.commit()


def token_days(requested: int | None, server_max: int) -> int:
    """A login may ask for a shorter lifetime than the server's, never a longer one."""
    return min(requested or server_max, server_max)


def login(session: Session, limits: Limits, address: str, username: str, password: str,
          ttl_days: int) -> tuple[User, str, ApiToken]:
    login_throttle.begin_attempt(session, limits, username, address)
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None:
        security.verify_password(security.DUMMY_PASSWORD_HASH, password)  # same time as a wrong password
        raise Unauthorized("wrong username or password")
    if not security.verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    login_throttle.attempt_succeeded(session, limits, username, address)
    token = security.new_token(security.USER_TOKEN_PREFIX)
    row = ApiToken(user_id=user.id, token_hash=security.token_hash(token), expires_at=utcnow() + timedelta(days=ttl_days))
    session.add(row)
    session.commit()
    return user, token, row


def user_for_token(session: Session, token: str) -> tuple[User, ApiToken]:
    row = session.exec(select(ApiToken).where(col(ApiToken.token_hash) == security.token_hash(token))).first()
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


def revoke_sessions(session: Session, user: User, keep: ApiToken | None = None) -> int:
    """Revoke every live token of `user` (but `keep`); commits and returns how many."""
    query = update(ApiToken).where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
    if keep is not None:
        query = query.where(col(ApiToken.id) != keep.id)
    count = rowcount(session.execute(query.values(revoked_at=utcnow())))
    session.commit()
    return count


def change_own_password(session: Session, limits: Limits, address: str, user: User, current_token: ApiToken,
                        current_password: str, new_password: str) -> int:
    """The current password is needed too (a stolen token alone must not take the account over);
    wrong guesses count as failed logins. Signs out the user's other sessions; returns how many."""
    check_password(user.username, new_password, "new_password")
    login_throttle.begin_attempt(session, limits, user.username, address)
    if not security.verify_password(user.password_hash, current_password):
        raise Forbidden("current_password is not the password you log in with: type that one "
                        "(forgotten? an admin can set a new one with `kadalu user passwd NAME`)")
    login_throttle.attempt_succeeded(session, limits, user.username, address)
    _store_password(session, user, new_password)
    return revoke_sessions(session, user, keep=current_token)


def set_password(session: Session, username: str, new_password: str, acting: User) -> int:
    """An admin sets another user's password: all that user's sessions end and their failed-login
    lock is lifted. Returns how many sessions were revoked."""
    user = get_user(session, username)
    if user.id == acting.id:
        raise Conflict("to change your own password, give the current one too: POST /auth/password "
                       "(`kadalu user passwd` without a name)")
    check_password(user.username, new_password)
    _store_password(session, user, new_password)
    login_throttle.clear_user(session, user.username)
    return revoke_sessions(session, user)


def _store_password(session: Session, user: User, password: str) -> None:
    user.password_hash = security.hash_password(password)
    session.add(user)
