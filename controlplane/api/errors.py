"""One error body for every non-2xx answer, the handlers that produce it, and its OpenAPI entries.

Every error is `{"detail": "<what is wrong and how to fix it>"}`; a request that fails validation
adds `errors`, one entry per field (at most MAX_ERRORS, each message cut to MAX_MESSAGE characters),
and never echoes the values it was sent: a hostile body can't make the answer bigger than itself.
"""
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException

from controlplane.services.errors import ServiceError, Unauthorized

log = logging.getLogger(__name__)
MAX_ERRORS = 20
MAX_MESSAGE = 200
MAX_LOC_PART = 64
SECURITY_REFUSALS = frozenset({401, 403, 429})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: 'body', 'query', 'path' or 'header', then the field")
    msg: str = Field(description="what is wrong with it")
    type: str = Field(description="a stable code for the kind of problem, e.g. 'missing'")


class ErrorBody(BaseModel):
    detail: str = Field(description="what is wrong and how to fix it, in one sentence")
    errors: list[FieldError] | None = Field(
        default=None, description=f"for invalid requests: the fields at fault (at most {MAX_ERRORS})")


DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8 text, or not in the declared encoding).",
    401: "Not authenticated: no credentials, or unknown, revoked or expired ones.",
    403: "Authenticated, but the caller's role does not allow this.",
    404: "A resource named in the path or query does not exist (or is not visible to the caller).",
    405: "The path exists but does not take this method.",
    409: "The request conflicts with the current state (already exists, in use, or busy).",
    413: "The request body is larger than the server accepts (KADALU_MAX_REQUEST_BYTES).",
    422: "The request is invalid: `errors` lists the fields at fault, or `detail` says what to change.",
    429: "Too many failed attempts: wait the number of seconds in Retry-After.",
    503: "The database is unavailable or busy: retry shortly.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "the scheme to authenticate with", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}},
}


DATABASE_RETRY_AFTER = 2  # seconds: a restarting database is usually back within a few


def disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100) or ENOSPC while writing."""
    orig = getattr(exc, "orig", None)
    text = f"{exc} {orig}".lower()
    return getattr(orig, "sqlstate", None) == "53100" or "disk is full" in text or "no space left on device" in text


def error_response_doc(code: int) -> dict:
    """The OpenAPI response object of one error code (ErrorBody is added to the components)."""
    doc: dict[str, object] = {"description": DESCRIPTIONS[code],
           "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    if code in HEADERS:
        doc["headers"] = HEADERS[code]
    return doc


def errors(*codes: int) -> dict[int | str, dict]:
    """`responses=` for a route: the error codes its services can answer, besides the ones
    controlplane.api.openapi adds to every route that can meet them (400, 401, 413, 422, 503)."""
    return {code: error_response_doc(code) for code in codes}


def error_content(detail: str, field_errors: list[dict] | None = None) -> dict:
    body: dict = {"detail": detail}
    if field_errors is not None:
        body["errors"] = field_errors
    return body


def error_response(status: int, detail: str, headers: dict | None = None,
                   field_errors: list[dict] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_content(detail, field_errors), headers=headers)


def error_bytes(detail: str) -> bytes:
    return json.dumps(error_content(detail)).encode()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _loc(parts) -> list[str | int]:
    return [p if isinstance(p, int) else _cut(str(p), MAX_LOC_PART) for p in parts]


def field_errors(raw: Sequence[Any]) -> list[dict]:
    """The first MAX_ERRORS of pydantic's errors as loc/msg/type, without `input` or `ctx`."""
    return [{"loc": _loc(e.get("loc", ())), "msg": _cut(str(e.get("msg", "")), MAX_MESSAGE),
             "type": _cut(str(e.get("type", "")), MAX_LOC_PART)} for e in raw[:MAX_ERRORS]]


def validation_detail(listed: list[dict], total: int) -> str:
    if not listed:
        return "the request is invalid: check it against the API description at /docs"
    first = listed[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    more = f" ({total} problems in all, the first {len(listed)} listed in `errors`)" if total > 1 else ""
    return f"invalid request: {where}: {first['msg']}{more}; fix the request and send it again"


def allowed_methods(request: Request) -> str:
    """For `Allow`: the methods of the most specific documented path that matches (Starlette would
    name only those of the first route it tried)."""
    matches = []
    for template, path_item in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), request.url.path):
            matches.append((template.count("{"), sorted(m.upper() for m in path_item if m in METHODS)))
    return ", ".join(min(matches)[1]) if matches else ""


def install(app: FastAPI) -> None:
    """Register the handlers: every error the app answers goes through one of them."""

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError):
        if exc.status in SECURITY_REFUSALS:  # failed logins, bad tokens, missing roles: for the operator's log
            log.warning("refused %s %s from %s: %d %s", request.method, _cut(request.url.path, 200),
                        request.client.host if request.client else "-", exc.status, _cut(exc.message, 200))
        # a service error may carry headers of its own (e.g. Retry-After with a 429)
        headers = {**({"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else {}),
                   **({"Retry-After": str(DATABASE_RETRY_AFTER)} if exc.status == 503 else {}),
                   **(getattr(exc, "headers", None) or {})}
        return error_response(exc.status, exc.message, headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError):
        raw = exc.errors()
        listed = field_errors(raw)
        return error_response(422, validation_detail(listed, len(raw)), field_errors=listed)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and "parsing the body" in detail:
            detail = "the request body could not be read: send UTF-8 JSON with Content-Type: application/json"
        elif exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {_cut(request.url.path, 200)} (the API is described at /docs)"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed here: use one of {headers['Allow']}"
        return error_response(exc.status_code, _cut(detail, 500), headers or None)

    @app.exception_handler(DataError)
    async def unstorable_value(_request: Request, exc: DataError):
        # the database refused a value the request carried (PostgreSQL text can't hold NUL)
        log.warning("database refused a request value: %s", exc.orig)
        return error_response(422, "a value in the request can't be stored or looked up: text must not contain "
                                   "NUL characters and numbers must fit their field; fix the request and send it again")

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Request, exc: SQLAlchemyError):
        log.exception("database error", exc_info=exc)
        retry = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if disk_full(exc):
            return error_response(503, "the database's disk is full, nothing was changed: free space where the "
                                       "database lives (KADALU_STATE_DIR for SQLite, the PostgreSQL data directory), "
                                       "then retry", retry)
        return error_response(503, "the database is unavailable or busy: retry shortly", retry)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception):
        # Starlette logs the traceback and re-raises after this answer
        return error_response(500, "internal server error: the server log has the details; please report it")
