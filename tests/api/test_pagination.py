"""Paginated lists (controlplane/services/pages.py): `limit` rows per page and an opaque cursor; the
pages together are the whole list, in order, and hold only what the caller may see."""
from tests.api.volume_helpers import create


def _walk(user, path: str, limit: int, **params) -> tuple[list[str], int]:
    names, pages, cursor = [], 0, None
    while True:
        r = user.get(path, params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["data"]) <= limit
        names += [row.get("name") or f"{row['node']}:{row['path']}" for row in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return names, pages


def test_volume_pages_cover_the_list_in_order_and_only_what_a_user_sees(client, admin, nodes):
    for i in range(7):
        assert create(admin, f"gvol{i}", [f"n1:/e/v{i}"]).status_code == 202
    assert _walk(admin, "/clusters/c1/volumes", 3) == ([f"gvol{i}" for i in range(7)], 3)
    assert _walk(admin, "/clusters/c1/volumes", 7) == ([f"gvol{i}" for i in range(7)], 1)
    viewer = admin.make_user("vera", "viewer", scope="volume", cluster="c1", name="gvol5")
    assert _walk(viewer, "/clusters/c1/volumes", 2) == (["gvol5"], 1)  # hidden rows do not end a page early
    full = admin.get("/clusters/c1/volumes", params={"limit": 100}).json()
    assert [v["brick_count"] for v in full["data"]] == [1] * 7 and full["next_cursor"] is None


def test_node_and_device_pages(client, admin, nodes):
    assert _walk(admin, "/clusters/c1/nodes", 3) == (["n1", "n2", "n3", "n4"], 2)
    assert _walk(admin, "/clusters/c1/devices", 1) == (["n1:/e", "n2:/e", "n3:/e", "n4:/e"], 4)


def test_bad_limits_and_cursors_are_refused_with_the_fix(client, admin, nodes):
    assert admin.get("/clusters/c1/volumes", params={"limit": 0}).status_code == 422
    assert admin.get("/clusters/c1/volumes", params={"limit": 1001}).status_code == 422
    for bad in ("not-a-cursor", "W10", "WzFd"):  # garbage, an empty key, a number instead of a name
        r = admin.get("/clusters/c1/volumes", params={"cursor": bad})
        assert r.status_code == 422 and "next_cursor" in r.json()["detail"], r.text
    assert admin.get("/clusters/c1/devices", params={"cursor": "WyJuMSJd"}).status_code == 422  # one key where two are due
