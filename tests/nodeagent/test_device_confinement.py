"""ADD_DEVICE / REMOVE_DEVICE on a real agent context: a device only under the agent's roots, never in
a system directory or its own state, symlinks resolved first; accepted devices kept in the agent's
own registry. Real directories and trusted xattrs under a tmp dir (needs root)."""
import errno
import json
import os
import uuid

import pytest

from nodeagent import handlers, heartbeat
from nodeagent.devices import MARKER
from nodeagent.errors import AgentError
from nodeagent.settings import AgentSettings
from tests.nodeagent.agent_factory import NOT_ROOT, add_device, agent

pytestmark = pytest.mark.skipif(NOT_ROOT, reason="trusted.* xattrs need root")


@pytest.fixture
def world(tmp_path):
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "precious").write_text("not yours")
    ctx = agent(tmp_path, (str(allowed), "/dev"))
    return ctx, allowed, outside


def refused(ctx, path, kind="directory") -> AgentError:
    with pytest.raises(AgentError) as exc:
        add_device(ctx, path, kind)
    assert exc.value.hint
    return exc.value


def marker(path) -> str | None:
    try:
        return os.getxattr(path, MARKER).decode()
    except OSError as exc:
        assert exc.errno == errno.ENODATA
        return None


def test_a_directory_under_a_root_is_accepted_and_recorded(world):
    ctx, allowed, _ = world
    dev = allowed / "d1"
    dev.mkdir()
    device_id = str(uuid.uuid4())
    data = add_device(ctx, dev, device_id=device_id)
    assert data["size_bytes"] > 0
    assert marker(dev) == device_id
    on_disk = json.loads((ctx.state.root / "devices.json").read_text())
    assert on_disk == {"devices": {device_id: {"path": str(dev), "real_path": str(dev), "kind": "directory"}}}
    assert oct((ctx.state.root / "devices.json").stat().st_mode & 0o777) == "0o600"
    assert add_device(ctx, dev, device_id=device_id)["size_bytes"] > 0  # redelivered: accepted again
    assert list(ctx.devices.entries()) == [device_id]
    handlers.handle(ctx, "REMOVE_DEVICE", {"device_id": device_id, "path": str(dev), "kind": "directory"})
    assert marker(dev) is None and ctx.devices.entries() == {}


def test_a_directory_outside_the_roots_is_refused_untouched(world):
    ctx, _, outside = world
    err = refused(ctx, outside)
    assert err.code == "outside_roots" and "--device-root" in err.hint and str(outside) in err.message
    assert marker(outside) is None and ctx.devices.entries() == {}


@pytest.mark.parametrize("path", ["/etc", "/etc/ssh", "/proc/1", "/sys/kernel", "/root/.ssh", "/boot", "/usr/lib",
                                  "/dev/null", "/dev/shm", "/run"])
def test_system_directories_are_refused_whatever_the_roots(tmp_path, path):
    ctx = agent(tmp_path, ("/srv", "/dev"))
    err = refused(ctx, path)
    assert err.code == "denied_path", err.message
    assert ctx.devices.entries() == {}


def test_a_symlink_inside_a_root_pointing_at_etc_is_refused(world):
    ctx, allowed, outside = world
    (allowed / "to-etc").symlink_to("/etc")
    err = refused(ctx, allowed / "to-etc")
    assert err.code == "denied_path" and "resolves to /etc" in err.message
    (allowed / "to-outside").symlink_to(outside)
    err = refused(ctx, allowed / "to-outside")
    assert err.code == "outside_roots" and f"resolves to {outside}" in err.message
    assert marker(outside) is None and marker("/etc") is None and ctx.devices.entries() == {}


def test_the_agents_own_state_directory_is_never_a_device(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path),))
    ctx.state.root.mkdir(parents=True)
    for path in (ctx.state.root, ctx.state.root.parent):  # the state dir, and a directory containing it
        err = refused(ctx, path)
        assert err.code == "denied_path"


def test_block_devices_only_as_block_nodes_under_dev_and_only_when_dev_is_a_root(world, tmp_path):
    ctx, allowed, _ = world
    err = refused(ctx, "/dev/null", "block")  # under /dev, but a character device
    assert err.code == "not_a_block_device"
    err = refused(ctx, "/etc/passwd", "block")
    assert err.code == "denied_path" and "not under /dev" in err.message
    (allowed / "blk").symlink_to("/etc/passwd")
    assert refused(ctx, allowed / "blk", "block").code == "denied_path"
    no_dev = agent(tmp_path, (str(allowed),), name="n2")
    assert refused(no_dev, "/dev/loop0", "block").code == "outside_roots"


def test_overlapping_devices_are_refused(world):
    ctx, allowed, _ = world
    (allowed / "d1" / "inner").mkdir(parents=True)
    add_device(ctx, allowed / "d1")
    assert refused(ctx, allowed / "d1" / "inner").code == "in_use"
    assert refused(ctx, allowed).code == "in_use"


@pytest.mark.parametrize("spec", [
    {"device_id": "x", "path": "/exports/d", "kind": "directory"},
    {"device_id": str(uuid.uuid4()), "path": "/exports/d\noption x y", "kind": "directory"},
    {"device_id": str(uuid.uuid4()), "path": "/exports/../etc", "kind": "directory"},
    {"device_id": str(uuid.uuid4()), "path": "/exports/d", "kind": "tape"},
    {"device_id": str(uuid.uuid4()), "path": "/exports/d", "kind": "directory", "extra": 1},
    {"device_id": str(uuid.uuid4()), "kind": "directory"},
])
def test_a_bad_device_spec_is_refused(world, spec):
    ctx, _, _ = world
    for kind in ("ADD_DEVICE", "REMOVE_DEVICE"):
        with pytest.raises(AgentError) as exc:
            handlers.handle(ctx, kind, spec)
        assert exc.value.code == "bad_spec"


def test_remove_touches_only_a_device_this_agent_accepted(world):
    ctx, allowed, outside = world
    os.setxattr(outside, MARKER, b"some-id")  # someone else's marker
    handlers.handle(ctx, "REMOVE_DEVICE", {"device_id": str(uuid.uuid4()), "path": str(outside), "kind": "directory"})
    assert marker(outside) == "some-id"


def test_an_agent_from_before_the_registry_adopts_only_devices_it_had_marked(tmp_path):
    ctx = agent(tmp_path, (str(tmp_path / "allowed"),))
    marked, unmarked, elsewhere = (tmp_path / "allowed" / "m"), (tmp_path / "allowed" / "u"), (tmp_path / "else")
    for d in (marked, unmarked, elsewhere):
        d.mkdir(parents=True)
    ids = {d: str(uuid.uuid4()) for d in (marked, unmarked, elsewhere)}
    os.setxattr(marked, MARKER, ids[marked].encode())
    os.setxattr(elsewhere, MARKER, ids[elsewhere].encode())
    devices = [{"id": ids[d], "node_id": ctx.node_id, "path": str(d), "kind": "directory", "state": "Ready"} for d in ids]
    devices.append({"id": str(uuid.uuid4()), "node_id": str(uuid.uuid4()), "path": str(marked), "kind": "directory",
                    "state": "Ready"})  # another node's
    ctx.state.save_metadata(3, {"devices": devices})
    assert set(ctx.devices.entries()) == {ids[marked]}
    os.setxattr(unmarked, MARKER, ids[unmarked].encode())
    assert set(ctx.devices.entries()) == {ids[marked]}  # adoption happens once, when the registry is first written


def test_heartbeat_reports_only_devices_the_agent_accepted(world):
    ctx, allowed, outside = world
    dev = allowed / "d1"
    dev.mkdir()
    device_id = str(uuid.uuid4())
    add_device(ctx, dev, device_id=device_id)
    # the metadata names another path (a control plane's word is not enough to open it)
    ctx.state.save_metadata(2, {"devices": [{"id": str(uuid.uuid4()), "node_id": ctx.node_id, "path": str(outside),
                                             "kind": "directory", "state": "Ready"}]})
    assert [(d.device_id, d.path) for d in heartbeat.device_usage(ctx)] == [(device_id, str(dev))]


def test_settings_take_roots_from_the_environment_and_refuse_system_directories(monkeypatch):
    monkeypatch.setenv("KADALU_DEVICE_ROOTS", "/exports, /data/,/dev")
    assert AgentSettings().device_roots == ("/exports", "/data", "/dev")
    monkeypatch.delenv("KADALU_DEVICE_ROOTS")
    assert AgentSettings().device_roots == ("/exports", "/bricks", "/data", "/srv", "/mnt", "/dev")
    for bad in (["/etc/x"], ["/"], ["relative"], [], ["/a b"]):
        with pytest.raises(ValueError):
            AgentSettings(device_roots=bad)


def test_the_device_root_flag_is_repeatable():
    from nodeagent.main import parse_args, settings_from

    args = parse_args(["--device-root", "/srv/a", "--device-root", "/srv/b"])
    assert settings_from(args).device_roots == ("/srv/a", "/srv/b")
