"""The master side of geo-replication on a node: the gsyncd config file and the Passive locks."""
import configparser
import fcntl
import multiprocessing
import os

import pytest
from pydantic import ValidationError

from contracts.georep_specs import GeoRepSessionSpec
from nodeagent.georep import locks, paths
from nodeagent.georep.gsyncd_config import render

SID = "11111111-2222-4333-8444-555555555555"


def spec(**kw) -> GeoRepSessionSpec:
    bricks = [{"id": f"0000000{i}-0000-4000-8000-000000000000", "node_id": f"1000000{i}-0000-4000-8000-000000000000",
               "node_name": f"m{i}", "address": f"127.0.50.{i + 1}", "path": f"/exports/m{i}/mv", "port": 24000 + i}
              for i in range(3)]
    master = {"id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "name": "mv", "type": "replicate", "replica_count": 3,
              "bricks": bricks}
    return GeoRepSessionSpec.model_validate({
        "session_id": SID, "master": master, "remote_user": "root", "remote_host": "127.0.50.11", "remote_volume": "rv",
        "remote_volume_id": "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee", "ssh_port": 2222, **kw})


def test_config_holds_kadalus_paths_and_the_users_keys(tmp_path):
    cp = configparser.RawConfigParser()
    cp.read_string(render(tmp_path, spec(config={"sync-jobs": "5", "ignore-deletes": "yes"}), "127.0.50.1"))
    v = dict(cp.items("vars"))
    assert v["sync-jobs"] == "5" and v["ignore-deletes"] == "true"
    assert v["primary-disperse-count"] == "0" and v["primary-replica-count"] == "3"
    assert v["secondary-access-mount"] == "true" and v["use-meta-volume"] == "true"
    assert v["meta-volume-mnt"] == str(paths.meta_mount(tmp_path, SID))
    assert v["ssh-port"] == "2222" and v["ssh-command"] == "/usr/bin/ssh"
    assert f"-i {paths.key_file(tmp_path, SID)}" in v["ssh-options"]
    assert v["gluster-params"] == "aux-gfid-mount acl volfile-server=127.0.50.1"
    assert v["primary-bricks"].split(",")[0] == "10000000-0000-4000-8000-000000000000:127.0.50.1:/exports/m0/mv"


@pytest.mark.parametrize("config", [{"ssh-command": "/bin/sh"}, {"rsync-options": "--rsh=sh"}, {"nope": "1"},
                                    {"sync-jobs": "1\nssh-command = /bin/sh"}])
def test_a_spec_carrying_a_key_users_may_not_set_is_refused(config):
    with pytest.raises(ValidationError):
        spec(config=config)


def _try_lock(path: str, out) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out.put("took it")
    except OSError:
        out.put("busy")


def other_process_gets(path) -> str:
    """What a gsyncd worker (another process) finds when it tries the lock."""
    q: multiprocessing.Queue = multiprocessing.Queue()
    p = multiprocessing.get_context("fork").Process(target=_try_lock, args=(str(path), q))
    p.start()
    p.join(10)
    return q.get(timeout=5)


def test_the_agent_holds_exactly_the_passive_subvolumes(tmp_path):
    s = spec(passive_subvols=[1, 2])
    (paths.meta_mount(tmp_path, SID) / "geo-rep").mkdir(parents=True)
    table: dict = {}
    assert locks.hold(table, tmp_path, s) == []
    one = paths.lock_file(tmp_path, SID, s.master.id, s.remote_volume_id, 1)
    two = paths.lock_file(tmp_path, SID, s.master.id, s.remote_volume_id, 2)
    assert other_process_gets(one) == "busy" and other_process_gets(two) == "busy"
    locks.hold(table, tmp_path, spec(passive_subvols=[2]))  # subvol 1 turned Active here
    assert other_process_gets(one) == "took it" and other_process_gets(two) == "busy"
    locks.release_all(table, SID)
    assert other_process_gets(two) == "took it" and table == {}
