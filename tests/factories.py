"""Factories: small helpers that make one thing through the public API."""
from dataclasses import dataclass

from fastapi.testclient import TestClient

API = "/api/v1"


@dataclass
class ApiUser:
    client: TestClient
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw):
        return self.client.get(API + path, headers=self.headers, **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(API + path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, **kw):
        return self.client.delete(API + path, headers=self.headers, **kw)

    @classmethod
    def login(cls, client: TestClient, username: str, password: str = "password-123") -> "ApiUser":
        r = client.post(f"{API}/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return cls(client, username, r.json()["token"])

    @classmethod
    def first_admin(cls, client: TestClient) -> "ApiUser":
        r = client.post(f"{API}/auth/first-user", json={"username": "admin", "password": "password-123"})
        assert r.status_code == 201, r.text
        return cls.login(client, "admin")

    def make_user(self, username: str, role: str | None = None, scope: str = "all", cluster: str | None = None,
                  name: str | None = None) -> "ApiUser":
        r = self.post("/users", {"username": username, "password": "password-123"})
        assert r.status_code == 201, r.text
        if role:
            body = {"role": role, "scope": scope, "cluster": cluster, "name": name}
            r = self.post(f"/users/{username}/grants", {k: v for k, v in body.items() if v is not None})
            assert r.status_code == 201, r.text
        return ApiUser.login(self.client, username)

    def make_cluster(self, name: str) -> str:
        r = self.post("/clusters", {"name": name})
        assert r.status_code == 201, r.text
        return r.json()["join_token"]


def register_node(client: TestClient, join_token: str | None, name: str, address: str, proof: dict | None = None) -> dict:
    """Register as an agent does; `proof`: the answer of the node's previous registration (its credentials)."""
    body = {"name": name, "address": address}
    if join_token:
        body["join_token"] = join_token
    if proof:
        body.update(node_id=proof["node_id"], node_secret=proof["node_secret"])
    r = client.post(f"{API}/agent/register", json=body)
    assert r.status_code == 200, r.text
    return r.json()
