from fastapi import APIRouter, status

from controlplane.api import present, schemas
from controlplane.api.deps import CurrentAccess, CurrentToken, SessionDep, SettingsDep
from controlplane.api.errors import errors
from controlplane.services import users

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
def login(body: schemas.LoginRequest, session: SessionDep, settings: SettingsDep):
    user, token, row = users.login(session, body.username, body.password, body.expires_in_days or settings.token_ttl_days)
    return schemas.LoginResponse(token=token, expires_at=row.expires_at, user=present.user(session, user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(auth: CurrentToken, session: SessionDep):
    users.revoke_token(session, auth[1])


@router.get("/me", response_model=schemas.UserPublic)
def read_me(access: CurrentAccess, session: SessionDep):
    return present.user(session, access.user)
