"""The remote side of geo-replication on a node: what the forced command lets a master run, the
authorized_keys lines it writes and removes, and the volume info answer gsyncd parses."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from contracts.georep_specs import GeoRepRemoteSpec
from contracts.volume_spec import VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.georep import forced_command, paths, remote
from nodeagent.georep.volinfo import volume_info_xml

SID = "11111111-2222-4333-8444-555555555555"
KEY = "ssh-ed25519 " + "A" * 68
SHIM = "/state/georep/remote/x/bin"
TMP = "/tmp"


def volume(n=2, type_="distribute", replica=1) -> VolumeSpec:
    return VolumeSpec.model_validate({
        "id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "name": "rv", "type": type_, "replica_count": replica,
        "bricks": [{"id": f"0000000{i}-0000-4000-8000-000000000000", "node_id": f"1000000{i}-0000-4000-8000-000000000000",
                    "node_name": f"r{i}", "address": f"127.0.50.{11 + i}", "path": f"/exports/r{i}/rv", "port": 24100 + i}
                   for i in range(n)]})


def test_gsyncd_secondary_runs_with_this_nodes_shim_dir():
    argv = forced_command.plan("/nonexistent/gsyncd secondary mv root@h::rv --secondary-gluster-command-dir "
                               "/kadalu-georep-shim --secondary-timeout 120", SHIM, TMP)
    assert argv == [forced_command.GSYNCD, "secondary", "mv", "root@h::rv", "--secondary-timeout", "120",
                    "--secondary-gluster-command-dir", SHIM]


def test_gluster_goes_to_the_session_shim_and_rsync_only_into_an_aux_mount():
    assert forced_command.plan("/kadalu-georep-shim/gluster --xml --remote-host=localhost volume info rv", SHIM, TMP) == \
        [f"{SHIM}/gluster", "--xml", "--remote-host=localhost", "volume", "info", "rv"]
    ok = "rsync --server -logDtpAXRre.iLsfxC --inplace . /tmp/gsyncd-aux-mount-abc12"
    assert forced_command.plan(ok, SHIM, TMP) == [forced_command.RSYNC] + ok.split()[1:]


@pytest.mark.parametrize("command", [
    "", "sh -c id", "/bin/bash", "gsyncd monitor mv x::y", "gsyncd", "rsync --server . /etc",
    "rsync --server . /tmp/gsyncd-aux-mount-x/../../etc", "rsync --sender --server . /tmp/other",
    "rsync . /tmp/gsyncd-aux-mount-x", "gsyncd secondary 'unterminated", "tar xf - -C /tmp/gsyncd-aux-mount-1",
])
def test_anything_else_is_refused(command):
    assert forced_command.plan(command, SHIM, TMP) is None


def test_the_forced_command_refuses_without_running_anything(tmp_path):
    env = {"SSH_ORIGINAL_COMMAND": f"touch {tmp_path}/owned", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-I", forced_command.__file__, SHIM], env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and "runs gsyncd only" in proc.stderr
    assert not (tmp_path / "owned").exists()


def test_prepare_and_cleanup_touch_only_the_sessions_lines(tmp_path):
    state = tmp_path / "state"
    keys = paths.authorized_keys(state, "root")
    keys.parent.mkdir(parents=True)
    keys.write_text("ssh-ed25519 BBBB someone-else\n")
    vol = volume()
    spec = GeoRepRemoteSpec(session_id=SID, remote_user="root", volume=vol, master_volume="mv", public_keys=[KEY],
                            force=True)
    remote.prepare(state, vol.bricks[0].node_id, spec, lambda p: p)
    remote.prepare(state, vol.bricks[0].node_id, spec, lambda p: p)  # redelivered: still one line
    lines = keys.read_text().splitlines()
    assert lines[0] == "ssh-ed25519 BBBB someone-else" and len(lines) == 2
    assert lines[1].startswith(f'command="/usr/bin/python3 -I {forced_command.__file__} ') and KEY in lines[1]
    assert "no-port-forwarding" in lines[1] and "no-pty" in lines[1]
    assert os.access(paths.shim_dir(state, SID) / "gluster", os.X_OK)
    remote.cleanup(state, spec)
    assert keys.read_text().splitlines() == ["ssh-ed25519 BBBB someone-else"]
    assert not paths.remote_dir(state, SID).exists()


def test_a_remote_brick_with_files_is_refused_unless_forced(tmp_path):
    vol = volume(1)
    brick = tmp_path / "b"
    (brick / ".glusterfs").mkdir(parents=True)
    spec = GeoRepRemoteSpec(session_id=SID, remote_user="root", volume=vol, master_volume="mv", public_keys=[KEY])
    remote.prepare(tmp_path / "s", vol.bricks[0].node_id, spec, lambda p: str(brick))  # only gluster's own dirs
    (brick / "data").write_text("x")
    with pytest.raises(AgentError) as err:
        remote.prepare(tmp_path / "s", vol.bricks[0].node_id, spec, lambda p: str(brick))
    assert err.value.code == "not_empty" and "--force" in err.value.hint


def test_volume_info_answer_has_what_gsyncd_reads():
    vol = volume(6, "replicate", 3)
    tree = ET.fromstring(volume_info_xml(vol))
    assert tree.find("opRet").text == "0"
    assert [i.text for i in tree.findall(".//id")] == [vol.id]
    bricks = [(b.find("name").text, b.find("hostUuid").text) for b in tree.findall(".//brick")]
    assert bricks == [(f"{b.address}:{b.path}", b.node_id) for b in vol.bricks]
    assert tree.find(".//replicaCount").text == "3" and tree.find(".//disperseCount").text == "0"
    assert tree.find(".//typeStr").text == "Replicate"


def test_the_gluster_shim_prints_the_answer_and_nothing_else(tmp_path):
    from nodeagent.georep.volinfo import write_shim
    vol = volume()
    write_shim(tmp_path / "bin", vol, "/usr/sbin/glusterfs")
    ok = subprocess.run([str(tmp_path / "bin" / "gluster"), "--xml", "--remote-host=localhost", "volume", "info", "rv"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ET.fromstring(ok.stdout).find(".//name").text == "rv"
    bad = subprocess.run([str(tmp_path / "bin" / "gluster"), "volume", "stop", "rv"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout == ""
    assert os.readlink(tmp_path / "bin" / "glusterfs") == "/usr/sbin/glusterfs"
