"""Every brick task (and restart recovery) checks, before touching anything, that the brick lies
strictly inside a directory device this agent accepted and inside its roots, symlinks resolved.
Real directories and xattrs under a tmp dir (needs root); refusals come before any glusterfsd."""
import os
import uuid

import pytest

from contracts.volume_spec import VolumeSpec
from nodeagent import handlers, recovery
from nodeagent.brick_handlers import layout_of
from nodeagent.errors import AgentError
from nodeagent.gluster.bricks import VOLUME_ID_XATTR
from tests.nodeagent.agent_factory import NOT_ROOT, add_device, agent

pytestmark = pytest.mark.skipif(NOT_ROOT, reason="trusted.* xattrs need root")
KINDS = ["CREATE_BRICK", "START_BRICK", "STOP_BRICK", "RESTART_BRICK", "DELETE_BRICK"]


@pytest.fixture
def world(tmp_path):
    allowed = tmp_path / "allowed"
    device = allowed / "dev1"
    notdev = allowed / "notdev"  # under the roots, but never registered as a device
    outside = tmp_path / "outside"
    for d in (device, notdev, outside):
        d.mkdir(parents=True)
    ctx = agent(tmp_path, (str(allowed),))
    add_device(ctx, device)
    return ctx, device, notdev, outside


def volume(ctx, path) -> VolumeSpec:
    return VolumeSpec(id=str(uuid.uuid4()), name="v1", type="distribute", bricks=[
        {"id": str(uuid.uuid4()), "node_id": ctx.node_id, "node_name": ctx.node_name, "address": ctx.address,
         "port": 49999, "path": str(path)}])


def run(ctx, kind, spec, **flags):
    return handlers.handle(ctx, kind, {"volume": spec.model_dump(), "brick_id": spec.bricks[0].id, **flags})


def refused(ctx, kind, spec, **flags) -> AgentError:
    with pytest.raises(AgentError) as exc:
        run(ctx, kind, spec, **flags)
    assert exc.value.hint
    return exc.value


def existing_data(path):
    """A directory that holds someone's data (the finding: create + delete --purge emptied it)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "precious.txt").write_text("keep me")
    return path


def untouched(path):
    assert (path / "precious.txt").read_text() == "keep me"
    assert not (path / ".glusterfs").exists()
    assert VOLUME_ID_XATTR not in os.listxattr(path)


@pytest.mark.parametrize("kind", KINDS)
def test_a_brick_outside_every_accepted_device_is_refused_untouched(world, kind):
    ctx, _, notdev, outside = world
    for path in (existing_data(notdev / "b"), existing_data(outside / "b")):
        spec = volume(ctx, path)
        err = refused(ctx, kind, spec, purge=True, force=True)
        assert err.code == "outside_devices" and str(path) in err.message and "kadalu device add" in err.hint
        untouched(path)
        assert not layout_of(ctx).brick_volfile(spec, spec.bricks[0]).exists()


@pytest.mark.parametrize("kind", KINDS)
def test_the_device_directory_itself_is_not_a_brick(world, kind):
    ctx, device, _, _ = world
    existing_data(device)
    assert refused(ctx, kind, volume(ctx, device), purge=True).code == "outside_devices"
    untouched(device)


@pytest.mark.parametrize("kind", KINDS)
def test_a_symlink_out_of_the_device_is_refused(world, kind):
    ctx, device, _, outside = world
    existing_data(outside / "b")
    (device / "escape").symlink_to(outside)  # a parent component that leaves the device
    err = refused(ctx, kind, volume(ctx, device / "escape" / "b"), purge=True)
    assert err.code == "outside_devices" and f"resolves to {outside / 'b'}" in err.message
    (device / "link").symlink_to(outside / "b")  # the brick path itself is a link
    assert refused(ctx, kind, volume(ctx, device / "link"), purge=True).code == "symlink"
    untouched(outside / "b")


def test_a_brick_inside_an_accepted_device_is_created(world):
    ctx, device, _, _ = world
    spec = volume(ctx, device / "b1")
    assert run(ctx, "CREATE_BRICK", spec) == {}
    assert (device / "b1" / ".glusterfs" / "indices").is_dir()


def test_narrowed_roots_refuse_bricks_of_a_device_accepted_before(world, tmp_path):
    ctx, device, _, _ = world
    spec = volume(ctx, device / "b1")
    run(ctx, "CREATE_BRICK", spec)
    ctx.device_roots = (str(tmp_path / "elsewhere"),)  # the agent restarted with other --device-root
    assert refused(ctx, "DELETE_BRICK", spec, purge=True).code == "outside_devices"
    assert (device / "b1" / ".glusterfs").is_dir()


def test_a_removed_device_no_longer_holds_bricks(world):
    ctx, device, _, _ = world
    (device_id, entry), = ctx.devices.entries().items()
    handlers.handle(ctx, "REMOVE_DEVICE", {"device_id": device_id, "path": entry["path"], "kind": "directory"})
    assert refused(ctx, "CREATE_BRICK", volume(ctx, device / "b1")).code == "outside_devices"
    assert not (device / "b1").exists()


def test_recovery_does_not_start_a_brick_outside_the_devices(world):
    ctx, _, notdev, _ = world
    spec = volume(ctx, existing_data(notdev / "b"))
    ctx.state.save_metadata(7, {"volumes": [{"spec": spec.model_dump(), "state": "Started"}]})
    summary = recovery.recover(ctx)
    assert summary["started"] == [] and summary["running"] == []
    (brick_id, message), = summary["failed"]
    assert brick_id == spec.bricks[0].id and "not inside a device" in message
    untouched(notdev / "b")
    assert not layout_of(ctx).brick_volfile(spec, spec.bricks[0]).exists()
