"""Who may do what with a geo-replication session: grants on the master volume decide, and creating
one also needs write access to the remote volume (its nodes are prepared)."""
from tests.api.georep_helpers import GEO, create, started_session, two_clusters


def test_viewer_of_the_master_volume_reads_but_changes_nothing(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    vera = admin.make_user("vera", "viewer", scope="volume", cluster="c1", name="mv")
    assert vera.get(f"{GEO}/{geo['id']}").status_code == 200
    assert [g["id"] for g in vera.get(GEO).json()["data"]] == [geo["id"]]
    assert vera.get(f"{GEO}/{geo['id']}/config").status_code == 200
    for verb in ("stop", "pause", "checkpoint"):
        r = vera.post(f"{GEO}/{geo['id']}/{verb}", {})
        assert r.status_code == 403 and "maintainer" in r.json()["detail"], verb
    assert vera.post(f"{GEO}/{geo['id']}/config", {"name": "sync-jobs", "value": "4"}).status_code == 403
    assert admin.get(f"{GEO}/{geo['id']}").json()["state"] == "Started"


def test_a_user_without_a_grant_on_the_master_volume_does_not_see_the_session(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    assert admin.post("/clusters/c1/volumes", {"name": "other", "bricks": ["n4:/e/o"]}).status_code == 202
    olga = admin.make_user("olga", "maintainer", scope="volume", cluster="c1", name="other")
    assert olga.get(f"{GEO}/{geo['id']}").status_code == 404
    assert olga.get(GEO).json()["data"] == []
    assert olga.post(f"{GEO}/{geo['id']}/stop", {}).status_code == 404


def test_create_needs_write_on_the_remote_volume_too(client, admin, nodes):
    two_clusters(client, admin, nodes)
    mia = admin.make_user("mia", "maintainer", scope="volume", cluster="c1", name="mv")
    r = create(mia)
    assert r.status_code == 404  # c2 is not visible to her at all
    admin.post("/users/mia/grants", {"role": "viewer", "scope": "volume", "cluster": "c2", "name": "rv"})
    r = create(mia)
    assert r.status_code == 403 and "prepare remote volume 'rv'" in r.json()["detail"]
    admin.post("/users/mia/grants", {"role": "maintainer", "scope": "volume", "cluster": "c2", "name": "rv"})
    assert create(mia).status_code == 202
