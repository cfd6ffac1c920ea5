"""HTTP calls from the agent to the control plane (the control plane never calls a node)."""
import httpx

from nodeagent import __version__


class RegistrationRefused(Exception):
    """The control plane answered with a 4xx: retrying will not help."""


class ControlPlaneClient:
    def __init__(self, url: str, timeout: float = 15.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

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
        r = httpx.post(f"{self.url}/api/v1/agent/register", json=body, timeout=self.timeout)
        if 400 <= r.status_code < 500:
            raise RegistrationRefused(_detail(r))
        r.raise_for_status()
        return r.json()

    def metadata(self, node_id: str, secret: str, since: int | None = None) -> dict | None:
        """The complete copy ({"version", "content"}); with `since`, None when nothing changed after it,
        or the changes after it ({"version", "changes"}), or the complete copy when those are gone.
        Format: contracts/metadata_delta.py. Compressed on the wire (httpx asks for gzip)."""
        r = httpx.get(f"{self.url}/api/v1/agent/metadata", headers={"Authorization": f"Node {node_id}:{secret}"},
                      params={} if since is None else {"since": since}, timeout=self.timeout)
        r.raise_for_status()
        return None if r.status_code == 204 else r.json()


def _detail(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = r.text
    return f"{r.status_code}: {detail}"
