"""HTTP calls from the agent to the control plane (the control plane never calls a node)."""
import json

import httpx

from contracts import metadata_signing
from nodeagent import __version__


class RegistrationRefused(Exception):
    """The control plane answered with a 4xx: retrying will not help."""


RETRY_ELSEWHERE = {502, 503, 504}  # a replica (or the proxy in front of it) that cannot answer now


class ControlPlaneClient:
    """KADALU_URL may list several API replicas, comma-separated: a request goes to the replica
    that answered last, and on a connection error or a 502/503/504 to the next one."""

    def __init__(self, url: str, timeout: float = 15.0):
        self.urls = [u.strip().rstrip("/") for u in url.split(",") if u.strip()]
        if not self.urls:
            raise ValueError("no control plane URL: set KADALU_URL (several API replicas: comma-separated)")
        self.timeout = timeout
        self._current = 0

    @property
    def url(self) -> str:
        return self.urls[self._current]

    def _request(self, method: str, path: str, **kw) -> httpx.Response:
        last: Exception | None = None
        for step in range(len(self.urls)):
            i = (self._current + step) % len(self.urls)
            try:
                r = httpx.request(method, f"{self.urls[i]}{path}", timeout=self.timeout, **kw)
            except httpx.TransportError as exc:
                last = exc
                continue
            if r.status_code in RETRY_ELSEWHERE and step < len(self.urls) - 1:
                last = httpx.HTTPStatusError(f"{r.status_code} from {self.urls[i]}", request=r.request, response=r)
                continue
            self._current = i
            return r
        assert last is not None
        raise last

    def register(self, join_token: str | None, name: str, address: str, hostname: str, glusterfs_version: str,
                 zone: str | None = None, node_id: str | None = None, node_secret: str | None = None) -> dict:
        """Register; a node registered before proves it is that node with its saved credentials (the
        control plane then rotates them), so a join-token holder cannot take its name over."""
        body = {"name": name, "address": address, "hostname": hostname,
                "glusterfs_version": glusterfs_version, "agent_version": __version__}
        if join_token:
            body["join_token"] = join_token
        if zone:
            body["zone"] = zone
        if node_id and node_secret:
            body["node_id"], body["node_secret"] = node_id, node_secret
        r = self._request("POST", "/api/v1/agent/register", json=body)
        if 400 <= r.status_code < 500:
            raise RegistrationRefused(_detail(r))
        r.raise_for_status()
        return r.json()

    def metadata(self, node_id: str, secret: str, since: int | None = None) -> dict | None:
        """The complete copy ({"version", "content"}); with `since`, None when nothing changed after it,
        or the changes after it ({"version", "changes"}), or the complete copy when those are gone.
        Format: contracts/metadata_delta.py. Compressed on the wire (httpx asks for gzip)."""
        r = self._request("GET", "/api/v1/agent/metadata", headers={"Authorization": f"Node {node_id}:{secret}"},
                          params={} if since is None else {"since": since})
        r.raise_for_status()
        if r.status_code == 204:
            return None
        md = r.json()
        header = r.headers.get(metadata_signing.HEADER)
        if isinstance(md, dict) and header:
            try:
                md["signature"] = json.loads(header)
            except ValueError:
                pass  # kept unsigned: a restore will not choose this copy
        return md


def _detail(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = r.text
    return f"{r.status_code}: {detail}"
