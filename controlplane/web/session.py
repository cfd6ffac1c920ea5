"""Browser sessions: the login token (the same ApiToken rows, throttling and revocation as the API)
kept in an HttpOnly, SameSite=Strict cookie, never in a page or URL; and CSRF protection for
every request that changes something.

A mutating request must carry X-CSRF-Token (or a csrf_token form field): an HMAC of the session's
token row id under the server key, so it is worthless without the cookie and differs per login.
On top, a request whose Origin header names another site is refused outright."""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import Request
from sqlmodel import Session

from controlplane.models import ApiToken
from controlplane.services import users
from controlplane.services.access import Access, load_access
from controlplane.services.errors import Forbidden, Unauthorized
from controlplane.settings import Settings

COOKIE = "kadalu_session"
CSRF_HEADER = "x-csrf-token"


@dataclass
class WebUser:
    access: Access
    token_row: ApiToken
    csrf: str


def csrf_token(secret_key: str, token_row_id: str) -> str:
    return hmac.new(secret_key.encode(), f"web-csrf:{token_row_id}".encode(), hashlib.sha256).hexdigest()


def current(request: Request, session: Session, settings: Settings) -> WebUser:
    """The logged-in browser user, or Unauthorized (no cookie, or a revoked or expired token)."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("not logged in")
    user, row = users.user_for_token(session, token)
    return WebUser(load_access(session, user), row, csrf_token(settings.effective_secret_key, row.id))


def check_origin(request: Request) -> None:
    """A browser names the page's origin on every POST; another site's is a forgery."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("this request comes from another site (Origin header): refused")


def check_csrf(request: Request, web_user: WebUser, form: dict[str, str]) -> None:
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER) or form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, web_user.csrf):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def login(session: Session, settings: Settings, limits, address: str, username: str, password: str) -> str:
    """users.login with a browser-sized lifetime; returns the token for the cookie."""
    days = max(1, -(-settings.web_session_hours // 24))
    _user, token, row = users.login(session, limits, address, username, password, min(days, settings.token_ttl_days))
    row.expires_at = min(row.expires_at, row.created_at + timedelta(hours=settings.web_session_hours))
    session.add(row)
    session.commit()
    return token


def set_cookie(response, request: Request, settings: Settings, token: str) -> None:
    secure = settings.web_secure_cookie if settings.web_secure_cookie is not None else request.url.scheme == "https"
    response.set_cookie(COOKIE, token, max_age=settings.web_session_hours * 3600, httponly=True, samesite="strict",
                        secure=secure, path="/")


def clear_cookie(response) -> None:
    response.delete_cookie(COOKIE, path="/")
