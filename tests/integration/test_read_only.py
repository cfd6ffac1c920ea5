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
        for attempt in (lambda: open(mnt / "before", "a"), lambda: (mnt / "dir" / "sub").mkdir(),
                        lambda: (mnt / "before").unlink(), lambda: os.rename(mnt / "before", mnt / "moved"),
                        lambda: os.chmod(mnt / "before", 0o600)):
            with pytest.raises(OSError) as failed:
                attempt()
            assert failed.value.errno == errno.EROFS
        assert volume(cp, "rov")["options"] == {"features.read-only": "on"}

        kadalu(cp, "volume", "set", "-c", "mycluster", "rov", "features.read-only", "off", "--wait")
        wait_for(lambda: _write_error(mnt / "after") is None, SETTLE, "writes to work again", cp.procs.tails)
        with open(mnt / "before", "a") as f:
            f.write("appended\n")
        assert (mnt / "before").read_text() == "kept\nappended\n"
        (mnt / "dir" / "sub").mkdir()
        for brick in volume(cp, "rov")["bricks"]:
            assert os.path.exists(os.path.join(brick["path"], "after"))
    finally:
        kadalu(cp, "umount", str(mnt), ok=False)
