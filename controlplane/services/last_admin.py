"""There is always one admin of everything: the API has no other way back in (first-user is refused
once any user exists). Every change that can take the role away checks here, under a lock, so two
admins demoting each other at the same moment cannot both succeed."""
from sqlalchemy import update
from sqlmodel import Session, col, select

from controlplane.models import Grant
from controlplane.services.errors import Conflict

_ADMIN_OF_ALL = (col(Grant.role) == "admin", col(Grant.scope) == "all")


def lock_admins(session: Session) -> set[str]:
    """The ids of the users who are admin of everything, locked until the caller commits: row locks
    on PostgreSQL (SELECT ... FOR UPDATE in id order); on SQLite the UPDATE takes the database write
    lock first, as the first statement of the transaction, so the count read after it is current."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Grant).where(*_ADMIN_OF_ALL).values(role=Grant.role))
    query = select(Grant.user_id).where(*_ADMIN_OF_ALL).order_by(col(Grant.id)).with_for_update()
    return set(session.exec(query))


def ensure_admin_remains(session: Session, losing: set[str], what: str) -> None:
    """Refuse `what` if it would leave no admin of everything; `losing` are the user ids whose
    admin-of-everything role the change takes away. Leaves the lock held for the caller's commit."""
    admins = lock_admins(session)
    if admins and admins <= losing:
        session.rollback()
        raise Conflict(
            f"{what} would leave no user with the admin role on scope 'all', and nobody could manage "
            "users any more: first make another user admin (`kadalu user grant NAME admin`)"
        )
