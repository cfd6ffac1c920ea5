"""Applying a new graph to this node's running bricks and self-heal daemons, in place.

Every daemon the agent starts fetches its volfile from the agent's local volfile server (a
root-only unix socket, see nodeagent/gluster/processes.py), which serves each key's "served
volfile" from the state directory. To change a running daemon's graph the agent rewrites that
file and sends FETCHSPEC to the daemon's connection: glusterfsd fetches it and, when the shape
(translators and their order, volgen.topology) is the same, reconfigures each translator in place;
no restart, no client loses its brick. The agent confirms it by seeing the daemon fetch exactly
the new text (`confirm`).

A change of shape is never served to a running brick (a brick cannot build a new graph live):
its served volfile keeps the old graph, and `apply` says "restart"; the control plane then
restarts the volume's bricks in rolling waves (RESTART_BRICK), which write the new file. A
daemon started from a local file (before this agent version, or by `--recover-only` while no
volfile server ran) cannot follow a change either: "restart" too (`on_local_file`).

Self-heal daemons follow their agent the same way (processes.shd_argv) and take a change of
options in place. A self-heal daemon serves no client, so the agent restarts it itself where it
cannot: a change of shape, a daemon on a local file (moved to the volfile server the first time
its agent syncs it: at agent start, or at the next change), or one that did not fetch its new
graph in time.

The served volfiles are also the node's record of the latest graph of each daemon: an agent
that restarts serves them again, and a daemon started while no volfile server runs reads them."""
import logging
from pathlib import Path
from typing import Literal

from contracts.volume_spec import BrickSpec, VolumeSpec
from nodeagent.context import AgentContext
from nodeagent.gluster.pids import running_pid, stop_pid
from nodeagent.gluster.processes import (
    ProcessLayout,
    brick_volfile_id,
    brick_volfile_text,
    follows_volfile_server,
    shd_volfile_id,
    start_shd,
    unix_socket_answers,
    write_atomic,
)
from volgen import client_volfile, shd_volfile
from volgen.shd import HEALS_VOLUME_TYPES
from volgen.topology import same_shape

log = logging.getLogger(__name__)
Applied = Literal["unchanged", "written", "live", "restart"]
CONFIRM_SECONDS = 20.0  # a daemon reconnecting after an agent restart retries every 3 s
SHD_CONFIRM_SECONDS = 7.0  # past that a self-heal daemon is restarted instead (two reconnect tries)


def layout_of(ctx: AgentContext) -> ProcessLayout:
    server = ctx.local_volfile_server
    return ProcessLayout(Path(ctx.state.root), server.unix_path if server is not None else None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def apply(ctx: AgentContext, key: str, volfile: Path, text: str, pid: int | None) -> Applied:
    """Make `text` the graph of the daemon fetching `key` (running as `pid`, or not running).
    "unchanged": it is already the served file; "written": no daemon runs, the next start reads
    it; "live": written and the daemon told to fetch it; "restart": the running daemon cannot take
    it in place, the served file is left as it was."""
    old = _read(volfile)
    if old == text:
        return "unchanged"
    if pid is None:
        write_atomic(volfile, text)
        return "written"
    if old is None or not follows_volfile_server(pid) or not same_shape(old, text):
        return "restart"
    write_atomic(volfile, text)
    if ctx.local_volfile_server is not None:
        ctx.local_volfile_server.notify_change([key])
    return "live"


def confirm(ctx: AgentContext, key: str, text: str, timeout: float = CONFIRM_SECONDS) -> bool:
    """Whether the daemon of `key` fetched `text` (it then runs it) within `timeout`."""
    server = ctx.local_volfile_server
    return server is not None and server.wait_fetched(key, text, timeout)


def confirm_clients(ctx: AgentContext, spec: VolumeSpec, timeout: float = 3.0) -> bool | None:
    """Whether the mounts connected to this agent's TCP volfile server fetched the volume's current
    client volfile (the agent notified them when its metadata changed); None when none is connected.
    Best effort: a mount switches graphs at its next file operation, and a hung one must not hold
    up the change."""
    server = ctx.volfile_server
    if server is None or not server.holders(spec.name):
        return None
    return bool(server.wait_fetched(spec.name, client_volfile(spec), timeout))


def apply_brick(ctx: AgentContext, spec: VolumeSpec, brick: BrickSpec) -> tuple[Applied, str, str]:
    """apply() for one brick of this node: (how, key, text). Call under the volume's lock."""
    layout = layout_of(ctx)
    key, text = brick_volfile_id(spec, brick), brick_volfile_text(spec, brick, ctx.node_id)
    pid = running_pid(layout.brick_pidfile(brick), "glusterfsd")
    return apply(ctx, key, layout.brick_volfile(spec, brick), text, pid), key, text


def on_local_file(layout: ProcessLayout, pid: int) -> bool:
    """Whether the running daemon `pid` reads its graph from a local file although the agent's
    volfile server answers: it can follow no change until it is restarted from the server."""
    return not follows_volfile_server(pid) and unix_socket_answers(layout.volfile_socket)


def sync_shd(ctx: AgentContext, spec: VolumeSpec) -> int | None:
    """Start this node's self-heal daemon of `spec`, or bring a running one to the current graph:
    in place when it can (confirmed by its fetch), else by restarting it. Call under the volume's lock."""
    if spec.type not in HEALS_VOLUME_TYPES:
        return None
    layout = layout_of(ctx)
    pidfile = layout.shd_pidfile(spec)
    pid = running_pid(pidfile, "glusterfs")
    if pid is not None:
        key, text = shd_volfile_id(spec), shd_volfile(spec)
        how = apply(ctx, key, layout.shd_volfile(spec), text, pid)
        if how == "unchanged" and on_local_file(layout, pid):
            how = "restart"  # started from a file (an older agent, --recover-only): move it to the server
        elif how == "live" and not confirm(ctx, key, text, SHD_CONFIRM_SECONDS):
            log.warning("self-heal daemon of volume %s did not fetch its new graph: restarting it", spec.name)
            how = "restart"
        if how == "restart":
            log.info("self-heal daemon of volume %s restarts to take its new graph", spec.name)
            stop_pid(pidfile)
    return start_shd(layout, spec, ctx.node_id, ctx.runner)
