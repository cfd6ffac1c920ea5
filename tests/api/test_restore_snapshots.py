"""`kadalu-server restore` brings snapshots back from the nodes' copies: each brick's backend copy
and the origin volume as it was, so the restored snapshot can be activated, restored or cloned."""
from sqlmodel import Session, create_engine, select

from controlplane.models import Cluster, Snapshot
from controlplane.services.metadata_content import build_content
from tests.api.restore_helpers import agent_copy, run_restore, write
from tests.api.snapshot_helpers import started_volume, take
from tests.api.volume_helpers import R3


def test_a_snapshot_comes_back_with_its_bricks_and_origin(client, admin, nodes, fresh, tmp_path):
    started_volume(client, admin, "sv", R3)
    snap = take(client, admin, "sv", "s1")
    copy = agent_copy(client, nodes["n1"])
    [entry] = copy["content"]["snapshots"]
    assert entry["origin"]["name"] == "sv" and all(b["path"] for b in entry["bricks"])
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={write(tmp_path, 'n1.json', copy)}")
    assert r.exit_code == 0, r.output
    engine = create_engine(fresh.url)
    with Session(engine) as s:
        row = s.get(Snapshot, snap["id"])
        assert row is not None and (row.name, row.state) == ("s1", "Created")
        assert all(b["taken"] for b in row.bricks) and row.origin == entry["origin"]
        c1 = s.exec(select(Cluster).where(Cluster.name == "c1")).one()
        assert build_content(s, c1) == copy["content"]  # nothing the copy holds is lost
    engine.dispose()
