from fastapi import APIRouter, status

from controlplane.api import present, schemas
from controlplane.api.client_address import ClientAddress
from controlplane.api.deps import CurrentAccess, CurrentToken, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import users
from controlplane.services.login_throttle import Limits

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get("/bootstrap", response_model=schemas.Bootstrap)
def read_bootstrap(session: SessionDep):
    """Whether no user exists yet (then the first user can be created without auth)."""
    return schemas.Bootstrap(needs_first_user=users.user_count(session) == 0)


@router.post("/first-user", response_model=schemas.UserPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409))
def create_first_user(body: schemas.Credentials, session: SessionDep):
    """Create the first user, who becomes admin of everything. Refused once any user exists."""
    return present.user(session, users.create_first_user(session, body.username, body.password))


@router.post("/login", response_model=schemas.LoginResponse, responses=errors(401, 429))
def login(body: schemas.LoginRequest, session: SessionDep, settings: SettingsDep, address: ClientAddress):
    """A token for the user. Failed logins are throttled per user name and per client address (429 with Retry-After)."""
    days = users.token_days(body.expires_in_days, settings.token_ttl_days)
    user, token, row = users.login(session, Limits.from_settings(settings), address, body.username, body.password, days)
    return schemas.LoginResponse(token=token, expires_at=row.expires_at, user=present.user(session, user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(auth: CurrentToken, session: SessionDep):
    users.revoke_token(session, auth[1])


@router.post("/revoke-sessions", response_model=schemas.SessionsRevoked)
def revoke_my_sessions(auth: CurrentToken, session: SessionDep):
    """Log out everywhere: revoke every token of the caller, this one included."""
    return schemas.SessionsRevoked(revoked=users.revoke_sessions(session, auth[0].user))


@router.post("/password", response_model=schemas.SessionsRevoked, responses=errors(403, 429))
def change_my_password(body: schemas.PasswordChange, auth: CurrentToken, session: SessionDep, settings: SettingsDep,
                       address: ClientAddress):
    """Change the caller's password (the current one is needed too); the caller's other tokens are revoked."""
    access, token_row = auth
    revoked = users.change_own_password(session, Limits.from_settings(settings), address, access.user, token_row,
                                        body.current_password, body.new_password)
    return schemas.SessionsRevoked(revoked=revoked)


@router.get("/me", response_model=schemas.UserPublic)
def read_me(access: CurrentAccess, session: SessionDep):
    return present.user(session, access.user)
