"""features.read-only on a real replica-3 volume through `kadalu volume set`: writes on a FUSE mount
fail with EROFS while reads keep working, and `off` makes them work again. The brick graph always
has features/read-only (as glusterd's does): the option is a value, not a new translator."""
import errno
import os

import pytest

from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import brick_dirs, gcp, kadalu, mount, volume  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration
SETTLE = 60  # bound for polling while the bricks take the new graph, not a timing assertion


def _write_error(path) -> int | None:
    """The errno of creating `path` and writing to it, or None when that worked."""
    try:
        with open(path, "w") as f:
            f.write("x\n")
        return None
    except OSError as exc:
        return exc.errno


def _append(path) -> None:
    """Open, write and close: open-behind and write-behind on the client let the open (and the
    write) return before the brick answers; the brick's refusal comes back by close at the latest."""
    with open(path, "a") as f:
        f.write("more\n")


def test_read_only_on_makes_writes_fail_with_erofs_and_off_lets_them_through(gcp):  # noqa: F811
    cp = gcp
    kadalu(cp, "volume", "create", "-c", "mycluster", "rov", "--replica", "3", *brick_dirs(cp, "rov"), "--wait")
    wait_for(lambda: volume(cp, "rov")["health"] == "Up", 30, "health Up", cp.procs.tails)
    mnt = mount(cp, "rov")
    try:
        (mnt / "before").write_text("kept\n")
        (mnt / "dir").mkdir()

        kadalu(cp, "volume", "set", "-c", "mycluster", "rov", "features.read-only", "on", "--wait")
        wait_for(lambda: _write_error(mnt / "new") == errno.EROFS, SETTLE,
                 "creating a file to fail with EROFS", cp.procs.tails)
        assert (mnt / "before").read_text() == "kept\n"  # reads still work
        assert not (mnt / "new").exists()  # the refused create left nothing behind
        refused = {}
        for what, attempt in (("append", lambda: _append(mnt / "before")),
                              ("mkdir", lambda: (mnt / "dir" / "sub").mkdir()),
                              ("unlink", lambda: (mnt / "before").unlink()),
                              ("rename", lambda: os.rename(mnt / "before", mnt / "moved")),
                              ("chmod", lambda: os.chmod(mnt / "before", 0o600))):
            try:
                attempt()
                refused[what] = None
            except OSError as exc:
                refused[what] = exc.errno
        assert refused == dict.fromkeys(refused, errno.EROFS)
        assert (mnt / "before").read_text() == "kept\n"
        assert volume(cp, "rov")["options"] == {"features.read-only": "on"}

        kadalu(cp, "volume", "set", "-c", "mycluster", "rov", "features.read-only", "off", "--wait")
        wait_for(lambda: _write_error(mnt / "after") is None, SETTLE, "writes to work again", cp.procs.tails)
        with open(mnt / "before", "a") as f:
            f.write("appended\n")
        assert (mnt / "before").read_text() == "kept\nappended\n"
        (mnt / "dir" / "sub").mkdir()
        # On a quorum of bricks at once (a brick the client has not reconnected to since its restart
        # gets the file from self-heal, tested elsewhere).
        assert sum(os.path.exists(os.path.join(b["path"], "after")) for b in volume(cp, "rov")["bricks"]) >= 2
    finally:
        kadalu(cp, "umount", str(mnt), ok=False)
