"""Refuse request bodies over a size limit before anything reads or parses them (HTTP 413).

A pure ASGI middleware: a Content-Length over the limit is answered at once, without reading a
byte of the body and without running the route (so no authentication, JSON parsing or database
work is spent on it); a body sent without a length (chunked) is counted as it arrives and stopped
as soon as it passes the limit. Either way the server closes the connection after the answer.
"""
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controlplane.api.errors import error_bytes


def too_large_detail(limit: int) -> str:
    return (f"the request body is larger than {limit} bytes: send less (the server's limit is "
            "KADALU_MAX_REQUEST_BYTES)")


class BodyTooLarge(HTTPException):
    """Raised from receive(); FastAPI passes HTTPExceptions from body reading to the error handler."""

    def __init__(self, limit: int):
        super().__init__(status_code=413, detail=too_large_detail(limit))


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            # read outside FastAPI's body parsing (which answers it through the error handler)
            if started:
                raise
            await _refuse(send, self.max_bytes)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = error_bytes(too_large_detail(limit))
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
