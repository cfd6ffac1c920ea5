import pytest

from contracts.device_paths import denied_problem


@pytest.mark.parametrize("path,kind", [
    ("/etc", "directory"), ("/etc/x", "directory"), ("/proc/self", "directory"), ("/sys", "directory"),
    ("/root/.ssh", "directory"), ("/boot/efi", "directory"), ("/usr", "directory"), ("/dev/null", "directory"),
    ("/dev/shm", "directory"), ("/var", "directory"), ("/var/lib/kadalu/agent", "directory"), ("/run/x", "directory"),
    ("/etc/passwd", "block"), ("/dev", "block"), ("/home/disk", "block"),
])
def test_system_directories_are_refused(path, kind):
    assert denied_problem(path, kind)


@pytest.mark.parametrize("path,kind", [
    ("/exports/b1", "directory"), ("/data", "directory"), ("/var/lib/bricks", "directory"), ("/devices", "directory"),
    ("/etcetera", "directory"), ("/dev/sdb", "block"), ("/dev/disk/by-id/x", "block"),
])
def test_data_paths_pass(path, kind):
    assert denied_problem(path, kind) is None


def test_extra_denied_roots_are_refused_either_way():
    assert denied_problem("/srv/agent-state/x", "directory", ("/srv/agent-state",))
    assert denied_problem("/srv", "directory", ("/srv/agent-state",))
    assert denied_problem("/srv/other", "directory", ("/srv/agent-state",)) is None
