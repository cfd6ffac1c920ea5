"""HTTP access to the control plane: base URL + /api/v1, bearer token, error mapping.

Tests (and any embedding code) can reroute every request by giving `KadaluClient(transport=...)`
or by setting the module attribute `transport_override` (e.g. to an `httpx.MockTransport`);
`connect()` builds clients that pick it up.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from cli import config
from cli.errors import LOGIN_HINT, ApiError, CliError, NotLoggedIn, ServerUnreachable

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0
VALIDATION_LOCATIONS = {"body", "query", "path", "header", "cookie"}

# When set, every KadaluClient created without an explicit transport uses this one.
transport_override: httpx.BaseTransport | None = None


def seg(value: object) -> str:
    """Quote one path segment (a name or id) so it can't change the URL's shape."""
    return quote(str(value), safe="")


def format_detail(detail: Any) -> str:
    """Turn an error body's `detail` (or its `errors` list) into text; lists become one `field: msg` per line."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if not isinstance(item, dict):
                lines.append(str(item))
                continue
            loc = [str(part) for part in item.get("loc") or []]
            if len(loc) > 1 and loc[0] in VALIDATION_LOCATIONS:
                loc = loc[1:]
            field = ".".join(loc) or "request"
            lines.append(f"{field}: {item.get('msg', item)}")
        return "\n".join(lines)
    return str(detail)


class KadaluClient:
    """A thin httpx wrapper; methods return the decoded JSON body (None for empty answers)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = config.normalize_url(base_url)
        if not self.base_url.startswith(("http://", "https://")):
            raise CliError(
                f"invalid server URL {base_url!r}: it must start with http:// or https://"
                " (check --url / KADALU_URL)"
            )
        self.timeout = timeout
        headers = {"Accept": "application/json", "User-Agent": "kadalu-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self._http = httpx.Client(
                base_url=self.base_url + API_PREFIX,
                headers=headers,
                timeout=timeout,
                transport=transport or transport_override,
            )
        except httpx.InvalidURL as exc:
            raise CliError(f"invalid server URL {base_url!r}: {exc}") from None

    def __enter__(self) -> KadaluClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; transport failures and HTTP error statuses become CliErrors."""
        if params:
            params = {key: value for key, value in params.items() if value is not None}
        try:
            response = self._http.request(method, path, json=json, params=params or None,
                                          headers=headers)
        except httpx.TimeoutException:
            raise ServerUnreachable(self.base_url, f"no answer within {self.timeout:g}s") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.base_url, str(exc) or type(exc).__name__) from None
        except httpx.InvalidURL as exc:
            raise CliError(f"invalid request URL: {exc}") from None
        if response.status_code >= 400:
            raise self._api_error(response)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """The decoded JSON body (None for an empty answer)."""
        response = self._send(method, path, json=json, params=params)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"the server at {self.base_url} answered HTTP {response.status_code} with a body"
                " that is not JSON; is --url pointing at a kadalu control plane?"
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def get_all(self, path: str, **params: Any) -> dict[str, Any]:
        """Every page of a paginated list (`{data, count, next_cursor}`), following `next_cursor`,
        as one `{data, count}`."""
        rows: list[Any] = []
        cursor = None
        while True:
            answer = self.get(path, **params, limit=1000, **({"cursor": cursor} if cursor else {})) or {}
            rows.extend(answer.get("data", []))
            cursor = answer.get("next_cursor")
            if not cursor:
                return {"data": rows, "count": len(rows)}

    def get_text(self, path: str, **params: Any) -> str:
        """GET an endpoint that answers text/plain (e.g. a volfile) and return the text."""
        response = self._send("GET", path, params=params,
                              headers={"Accept": "text/plain, application/json;q=0.5"})
        return response.text

    def post(self, path: str, json: Any = None) -> Any:
        return self.request("POST", path, json=json)

    def delete(self, path: str, **params: Any) -> Any:
        return self.request("DELETE", path, params=params)

    def _api_error(self, response: httpx.Response) -> ApiError:
        """The server's explanation: `errors` (one `field: msg` per line) when it lists fields,
        else `detail`, else the status line and the start of the body."""
        try:
            body = response.json()
            detail = body.get("errors") or body.get("detail")
        except (ValueError, AttributeError):
            detail = None
        if detail is None or detail == "" or detail == []:
            text = response.text.strip()[:200]
            message = f"HTTP {response.status_code} {response.reason_phrase} from {self.base_url}"
            if text:
                message += f": {text}"
        else:
            message = format_detail(detail)
        if response.status_code == 401:
            message += f" ({LOGIN_HINT.format(url=self.base_url)})"
        return ApiError(response.status_code, message)


def connect(url_option: str | None = None, *, login_required: bool = True) -> KadaluClient:
    """A client for the resolved server URL, carrying the saved token when one is needed.

    The saved token is only sent to the server it was issued by.
    """
    if not login_required:
        return KadaluClient(config.resolve_url(url_option))
    session = config.load_session()
    url = config.resolve_url(url_option, session)
    if session is None:
        raise NotLoggedIn(url)
    if config.normalize_url(session.url) != url:
        raise NotLoggedIn(url, f"the saved login is for {session.url}")
    return KadaluClient(url, session.token)
