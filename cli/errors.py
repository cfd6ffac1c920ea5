"""Exceptions the CLI turns into a one-line error on stderr (see cli.main.KadaluGroup)."""

from __future__ import annotations

LOGIN_HINT = "run `kadalu login --url {url}`"


class CliError(Exception):
    """An error meant for the user: printed to stderr as is, process exits with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ServerUnreachable(CliError):
    """No HTTP answer at all (connection refused, DNS failure, timeout, TLS error...)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the server at {url}: {reason}; check --url / KADALU_URL"
        )
        self.url = url


class NotLoggedIn(CliError):
    """No saved token usable for the target server."""

    def __init__(self, url: str, why: str | None = None) -> None:
        prefix = "not logged in" if why is None else f"not logged in at {url} ({why})"
        super().__init__(f"{prefix}: {LOGIN_HINT.format(url=url)}")
        self.url = url


class ApiError(CliError):
    """The server answered with an HTTP error status; `detail` is its explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
