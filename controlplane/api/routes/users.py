from fastapi import APIRouter, status
from sqlmodel import select

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.models import User
from controlplane.services import grants, users
from controlplane.services.access import MANAGE

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=schemas.ListOf[schemas.UserPublic], responses=errors(403))
def read_users(access: CurrentAccess, session: SessionDep):
    access.require_global(MANAGE)
    rows = [present.user(session, u) for u in session.exec(select(User).order_by(User.username))]
    return schemas.ListOf(data=rows, count=len(rows))


@router.post("", response_model=schemas.UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
def create_user(body: schemas.Credentials, access: CurrentAccess, session: SessionDep):
    access.require_global(MANAGE)
    user = users.create_user(session, body.username, body.password)
    session.commit()
    return present.user(session, user)


@router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_user(username: str, access: CurrentAccess, session: SessionDep):
    """Delete a user with their grants and tokens; never the last admin of everything."""
    access.require_global(MANAGE)
    users.delete_user(session, username, access.user)


@router.post("/{username}/password", response_model=schemas.SessionsRevoked, responses=errors(403, 404, 409, 422))
def set_password(username: str, body: schemas.PasswordSet, access: CurrentAccess, session: SessionDep):
    """Set another user's password; all their tokens are revoked and their failed-login lock lifted."""
    access.require_global(MANAGE)
    return schemas.SessionsRevoked(revoked=users.set_password(session, username, body.password, access.user))


@router.post("/{username}/revoke-sessions", response_model=schemas.SessionsRevoked, responses=errors(403, 404))
def revoke_sessions(username: str, access: CurrentAccess, session: SessionDep):
    """Revoke every token of the user (they must log in again)."""
    access.require_global(MANAGE)
    return schemas.SessionsRevoked(revoked=users.revoke_sessions(session, users.get_user(session, username)))


@router.post("/{username}/grants", response_model=schemas.GrantPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(403, 404, 409))
def create_grant(username: str, body: schemas.GrantRequest, access: CurrentAccess, session: SessionDep):
    """Give a role on a scope; it replaces the user's role on the same scope. Never demotes the last admin."""
    access.require_global(MANAGE)
    grant = grants.add_grant(session, username, body.role, body.scope, body.cluster, body.name)
    return present.grant(session, grant)


@router.delete("/{username}/grants/{grant_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_grant(username: str, grant_id: str, access: CurrentAccess, session: SessionDep):
    access.require_global(MANAGE)
    grants.remove_grant(session, username, grant_id)
