"""HTTP calls from the agent to the control plane (the control plane never calls a node)."""
import httpx

from nodeagent import __version__


class RegistrationRefused(Exception):
    """The control plane answered with a 4xx: retrying will not help."""


class ControlPlaneClient:
    def __init__(self, url: str, timeout: float = 15.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def register(self, join_token: str, name: str, address: str, hostname: str, glusterfs_version: str,
                 zone: str | None = None) -> dict:
        body = {"join_token": join_token, "name": name, "address": address, "hostname": hostname,
                "glusterfs_version": glusterfs_version, "agent_version": __version__}
        if zone:
            body["zone"] = zone
        r = httpx.post(f"{self.url}/api/v1/agent/register", json=body, timeout=self.timeout)
        if 400 <= r.status_code < 500:
            raise RegistrationRefused(_detail(r))
        r.raise_for_status()
        return r.json()

    def metadata(self, node_id: str, secret: str) -> dict:
        r = httpx.get(f"{self.url}/api/v1/agent/metadata", headers={"Authorization": f"Node {node_id}:{secret}"},
                      timeout=self.timeout)
        r.raise_for_status()
        return r.json()


def _detail(r: httpx.Response) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        detail = r.text
    return f"{r.status_code}: {detail}"
