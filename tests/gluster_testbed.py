"""Helpers shared by the tests that run glusterfsd bricks and FUSE mounts directly (without the
control plane): free ports per loopback "node", and a teardown that never skips a step."""
import socket
import uuid
from pathlib import Path

from contracts.volume_spec import VolumeSpec
from nodeagent.errors import AgentError
from nodeagent.gluster.mount import umount
from nodeagent.gluster.pids import stop_pid
from nodeagent.runner import Runner


def free_port(address: str, taken: set[int]) -> int:
    """A port nothing listens on at `address`, not handed out before in this test."""
    while True:
        with socket.socket() as s:
            s.bind((address, 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def unmount_and_stop(mounts: list[Path], pidfiles: list[Path], runner: Runner) -> None:
    """Unmount, then stop every daemon by its pid file (last started first); one failure skips nothing."""
    errors = []
    for mountpoint in mounts:
        try:
            umount(str(mountpoint), runner)
        except AgentError as exc:
            errors.append(exc.message)
    for pidfile in reversed(pidfiles):
        stop_pid(pidfile, timeout=5)
    assert not errors, errors


def spread_volume(root: Path, nodes: list[dict], ports: set[int], name: str, type_: str, bricks: int,
                   **fields) -> VolumeSpec:
    """A volume of `bricks` bricks spread over the first three `nodes` ({"id", "name", "address"}),
    each brick on a free port of its node, under <root>/<node>/bricks/."""
    listed = []
    for i in range(bricks):
        node = nodes[i % 3]
        listed.append({"id": str(uuid.uuid4()), "node_id": node["id"], "node_name": node["name"],
                       "address": node["address"], "port": free_port(node["address"], ports),
                       "path": str(root / node["name"] / "bricks" / f"{name}-b{i}")})
    return VolumeSpec(id=str(uuid.uuid4()), name=name, type=type_, bricks=listed, **fields)
