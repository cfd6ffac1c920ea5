"""Volfiles on a node hold the volume's client credentials: the agent writes them for root only."""
import os
import stat

from nodeagent.gluster.processes import write_atomic


def test_write_atomic_makes_files_only_root_can_read_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        target = tmp_path / "volfiles" / "v" / "brick.vol"
        target.parent.mkdir(parents=True)
        (target.parent / f".brick.vol.{os.getpid()}.tmp").write_text("left by a crash")
        os.chmod(target.parent / f".brick.vol.{os.getpid()}.tmp", 0o666)
        write_atomic(target, "option password secret\n")
    finally:
        os.umask(old)
    assert target.read_text() == "option password secret\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
