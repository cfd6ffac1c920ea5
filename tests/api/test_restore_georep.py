"""`kadalu-server restore` brings geo-replication sessions back from the nodes' copies: a session
whose remote cluster is restored in the same run (given before or after it) comes back whole, and a
session whose remote cluster is not restored is refused, with nothing written."""
import copy as copies
import json

import pytest
from sqlmodel import Session, create_engine, func, select

from controlplane.metadata_keys import signing_key
from controlplane.models import Cluster, GeoRepSession
from controlplane.services.metadata_content import build_content
from tests.api.georep_helpers import online, remote_cluster, started_session, started_volume
from tests.api.restore_helpers import SECRET_KEY, agent_copy, run_restore, write
from tests.api.test_restore_refusals import _resigned


@pytest.fixture
def copies_of_both(client, admin, nodes):
    remote = remote_cluster(client, admin)
    started_volume(client, admin, "c1", "mv", ["n1:/e/m1", "n2:/e/m2", "n3:/e/m3"], replica=3)
    started_volume(client, admin, "c2", "rv", ["r1:/r/s1", "r2:/r/s2"])
    online(client)
    geo = started_session(client, admin)
    return geo, agent_copy(client, nodes["n1"]), agent_copy(client, remote["r1"])


def test_a_session_comes_back_with_its_remote_cluster(copies_of_both, fresh, tmp_path):
    geo, master, remote = copies_of_both
    assert [g["id"] for g in master["content"]["georep_sessions"]] == [geo["id"]]
    files = [write(tmp_path, "n1.json", master), write(tmp_path, "r1.json", remote)]  # the master's cluster first
    r = run_restore(fresh.url, tmp_path / "restored", *[f"--from-file={f}" for f in files], "--json")
    assert r.exit_code == 0, r.output
    engine = create_engine(fresh.url)
    with Session(engine) as s:
        row = s.get(GeoRepSession, geo["id"])
        assert row is not None and (row.state, row.remote_volume, row.remote_user) == ("Started", "rv", geo["remote_user"])
        c1 = s.exec(select(Cluster).where(Cluster.name == "c1")).one()
        assert build_content(s, c1)["georep_sessions"] == master["content"]["georep_sessions"]
    engine.dispose()


def test_a_session_whose_remote_cluster_is_not_restored_is_refused(copies_of_both, fresh, tmp_path):
    _geo, master, _remote = copies_of_both
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={write(tmp_path, 'n1.json', master)}")
    assert r.exit_code == 2 and "remote cluster" in r.stderr, r.output
    engine = create_engine(fresh.url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(GeoRepSession)).one() == 0
        assert s.exec(select(func.count()).select_from(Cluster).where(Cluster.name == "c1")).one() == 0
    engine.dispose()


@pytest.mark.parametrize("field, value", [("remote_user", "root; rm -rf /"), ("ssh_port", 0), ("remote_host", "a b"),
                                          ("master_volume_id", "00000000-0000-0000-0000-000000000000"),
                                          ("config", {"ssh-command": "sh -c evil"}), ("state", "Exploded")])
def test_hostile_sessions_are_refused_even_when_signed(copies_of_both, fresh, tmp_path, field, value):
    _geo, master, remote = copies_of_both
    bad = copies.deepcopy(master)
    bad["content"]["georep_sessions"][0][field] = value
    files = [write(tmp_path, "n1.json", _resigned(bad, signing_key(SECRET_KEY))), write(tmp_path, "r1.json", remote)]
    r = run_restore(fresh.url, tmp_path / "restored", *[f"--from-file={f}" for f in files])
    assert r.exit_code == 2 and "geo-replication" in r.stderr, (r.output, json.dumps(value))
