"""Brick directories own their data only through the volume-id xattr: CREATE_BRICK does not take over a
directory holding files it did not mark (unless forced), and a purge removes content only from a
directory marked for the volume being deleted, never following a symbolic link out of it.
Real directories and trusted xattrs under a tmp dir (needs root)."""
import errno
import os
import uuid

import pytest

from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR, cleanup_brick, prepare_brick
from tests.nodeagent.agent_factory import NOT_ROOT

pytestmark = pytest.mark.skipif(NOT_ROOT, reason="trusted.* xattrs need root")


def vid() -> str:
    return str(uuid.uuid4())


def volume_id_on(path) -> str | None:
    try:
        return str(uuid.UUID(bytes=os.getxattr(path, VOLUME_ID_XATTR)))
    except OSError as exc:
        assert exc.errno == errno.ENODATA
        return None


def with_data(path):
    path.mkdir(parents=True, exist_ok=True)
    (path / "precious.txt").write_text("keep me")
    (path / "sub").mkdir(exist_ok=True)
    (path / "sub" / "deep.txt").write_text("me too")
    return path


def test_prepare_refuses_a_directory_holding_files_it_does_not_own(tmp_path):
    brick = with_data(tmp_path / "b")
    with pytest.raises(AgentError) as exc:
        prepare_brick(str(brick), vid())
    assert exc.value.code == "not_empty" and "--force" in exc.value.hint
    assert volume_id_on(brick) is None and not (brick / ".glusterfs").exists()
    assert sorted(os.listdir(brick)) == ["precious.txt", "sub"]


def test_prepare_with_force_takes_the_directory_as_it_is(tmp_path):
    brick = with_data(tmp_path / "b")
    volume = vid()
    prepare_brick(str(brick), volume, force=True)
    assert volume_id_on(brick) == volume and (brick / "precious.txt").read_text() == "keep me"
    prepare_brick(str(brick), volume)  # now ours: a redelivered task needs no force
    assert (brick / ".glusterfs" / "indices").is_dir()


def test_prepare_accepts_a_new_or_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "empty", tmp_path / "new"):
        volume = vid()
        prepare_brick(str(path), volume)
        assert volume_id_on(path) == volume


def test_prepare_refuses_a_brick_path_that_is_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(AgentError) as exc:
        prepare_brick(str(tmp_path / "link"), vid())
    assert exc.value.code == "symlink" and volume_id_on(tmp_path / "real") is None


def test_purge_refuses_a_directory_without_this_volumes_id(tmp_path):
    brick = with_data(tmp_path / "b")
    with pytest.raises(AgentError) as exc:  # the finding: a missing xattr let purge proceed
        cleanup_brick(str(brick), vid(), purge=True)
    assert exc.value.code == "purge_refused" and "nothing was removed" in exc.value.hint
    assert (brick / "precious.txt").exists() and (brick / "sub" / "deep.txt").exists()
    other = vid()
    prepare_brick(str(brick), other, force=True)
    with pytest.raises(AgentError) as exc:
        cleanup_brick(str(brick), vid(), purge=True)
    assert exc.value.code == "brick_in_use"
    assert (brick / "precious.txt").exists() and volume_id_on(brick) == other


def test_delete_without_purge_of_an_unmarked_directory_touches_nothing(tmp_path):
    brick = with_data(tmp_path / "b")
    (brick / ".glusterfs").mkdir()
    cleanup_brick(str(brick), vid(), purge=False)
    assert sorted(os.listdir(brick)) == [".glusterfs", "precious.txt", "sub"]


def test_purge_of_our_brick_removes_content_but_never_follows_a_link_out(tmp_path):
    outside = with_data(tmp_path / "outside")
    brick = tmp_path / "b"
    volume = vid()
    prepare_brick(str(brick), volume)
    (brick / "file").write_text("x")
    (brick / "dir" / "nested").mkdir(parents=True)
    (brick / "dir" / "to-outside").symlink_to(outside)  # a link inside a subdirectory
    (brick / "to-outside").symlink_to(outside)  # a link at the top
    (brick / "to-file").symlink_to(outside / "precious.txt")
    cleanup_brick(str(brick), volume, purge=True)
    assert os.listdir(brick) == [] and volume_id_on(brick) is None
    assert sorted(os.listdir(outside)) == ["precious.txt", "sub"]
    assert (outside / "sub" / "deep.txt").read_text() == "me too"
    cleanup_brick(str(brick), volume, purge=True)  # redelivered: already clear, nothing to refuse


def test_cleanup_refuses_a_brick_path_that_is_a_symlink(tmp_path):
    target = tmp_path / "real"
    volume = vid()
    prepare_brick(str(target), volume)
    (target / "data").write_text("x")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(AgentError) as exc:
        cleanup_brick(str(tmp_path / "link"), volume, purge=True)
    assert exc.value.code == "symlink"
    assert (target / "data").exists() and volume_id_on(target) == volume


def test_an_interrupted_purge_finishes_on_redelivery(tmp_path, monkeypatch):
    import nodeagent.gluster.bricks as bricks

    brick = tmp_path / "b"
    volume = vid()
    prepare_brick(str(brick), volume)
    for name in ("a", "b", "c"):
        (brick / name).write_text("x")
    real_remove, calls = bricks._remove_entry, []

    def crash_on_second(dir_fd, name):  # the agent dies half-way through the purge
        calls.append(name)
        if len(calls) == 2:
            raise OSError(errno.EIO, "simulated crash")
        real_remove(dir_fd, name)

    monkeypatch.setattr(bricks, "_remove_entry", crash_on_second)
    with pytest.raises(OSError):
        cleanup_brick(str(brick), volume, purge=True)
    monkeypatch.setattr(bricks, "_remove_entry", real_remove)
    # the id goes last: the half-purged brick is still marked, so the redelivered task may finish it
    assert volume_id_on(brick) == volume and len(os.listdir(brick)) == 3  # two files and .glusterfs
    cleanup_brick(str(brick), volume, purge=True)
    assert os.listdir(brick) == [] and volume_id_on(brick) is None
