"""Request dependencies as Annotated aliases: settings, DB session, the caller, the node."""
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from controlplane.models import ApiToken, Node
from controlplane.services import nodes, outbox, users
from controlplane.services.access import Access, load_access
from controlplane.services.errors import Unauthorized
from controlplane.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session whose commits send the tasks they wrote and bump the metadata they changed."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield outbox.configure(session, request.app.state.sender, request.app.state.settings.metadata_keep_versions)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# paginated lists (controlplane/services/pages.py)
Limit = Annotated[int, Query(ge=1, le=1000, description="rows per page (1-1000)")]
Cursor = Annotated[str | None, Query(max_length=1024, description="`next_cursor` of the previous page")]
SessionDep = Annotated[Session, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/login")
# documents the agents' scheme in OpenAPI; get_node reads and checks the header itself
_node_credentials = APIKeyHeader(name="Authorization", scheme_name="NodeCredentials", auto_error=False,
                                 description="'Node <node-id>:<node-secret>', as answered by POST /api/v1/agent/register")


def _authorization(request: Request) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not value:
        raise Unauthorized("not logged in: send 'Authorization: Bearer <token>' (run `kadalu login`)")
    return scheme.lower(), value.strip()


def get_token_row(
    request: Request, session: SessionDep, _c: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> tuple[Access, ApiToken]:
    scheme, value = _authorization(request)
    if scheme != "bearer":
        raise Unauthorized("this endpoint takes a user token: 'Authorization: Bearer <token>' (run `kadalu login`)")
    user, row = users.user_for_token(session, value)
    return load_access(session, user), row


def get_access(auth: Annotated[tuple[Access, ApiToken], Depends(get_token_row)]) -> Access:
    return auth[0]


def get_node(request: Request, session: SessionDep, settings: SettingsDep,
             _c: Annotated[str | None, Depends(_node_credentials)]) -> Node:
    scheme, value = _authorization(request)
    node_id, _, secret = value.partition(":")
    if scheme != "node" or not secret:
        raise Unauthorized("agent endpoints take node credentials: 'Authorization: Node <node-id>:<secret>'")
    return nodes.authenticate(session, settings.effective_secret_key, node_id, secret)


CurrentAccess = Annotated[Access, Depends(get_access)]
CurrentToken = Annotated[tuple[Access, ApiToken], Depends(get_token_row)]
CurrentNode = Annotated[Node, Depends(get_node)]
