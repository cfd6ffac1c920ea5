"""GEOREP_PREPARE_REMOTE / GEOREP_CLEANUP_REMOTE on a node of the remote volume: the session's keys
in the user's authorized_keys file under the agent's state dir (sshd reads it through its
AuthorizedKeysFile), each with the forced command, and the session's gluster shim."""
import errno
import os
import threading
from pathlib import Path

from contracts.georep_specs import GeoRepRemoteSpec, safe_key_comment
from nodeagent.errors import AgentError
from nodeagent.georep import forced_command, paths
from nodeagent.georep.volinfo import write_shim
from nodeagent.gluster.processes import write_atomic

_LOCK = threading.Lock()  # one writer of authorized_keys files at a time
OPTIONS = "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty"
IGNORED = {".glusterfs", ".trashcan", "lost+found"}
SECONDARY_LOGS = "/var/log/glusterfs/geo-replication-secondaries"


def key_line(state_root, session_id: str, public_key: str) -> str:
    shim = paths.shim_dir(state_root, session_id)
    command = f"/usr/bin/python3 -I {forced_command.__file__} {shim}"
    if any(c in command for c in '"\\\n'):
        raise AgentError("bad_path", "the agent's install or state path holds a quote or newline",
                         "install kadalu and its state directory under plain paths", errno.EINVAL)
    return f'command="{command}",{OPTIONS} {public_key} {safe_key_comment(session_id)}'


def _rewrite(path: Path, keep, add: list[str]) -> None:
    lines = path.read_text().splitlines() if path.exists() else []
    out = [ln for ln in lines if keep(ln)] + add
    if out:
        write_atomic(path, "\n".join(out) + "\n")
    else:
        path.unlink(missing_ok=True)


def holds_files(brick_path: str) -> bool:
    try:
        return any(name not in IGNORED for name in os.listdir(brick_path))
    except FileNotFoundError:
        return False


def prepare(state_root, node_id: str, spec: GeoRepRemoteSpec, confine, address: str | None = None) -> dict:
    """Keys and shim for the session; refuses a remote brick on this node that holds files (unless force)."""
    local = [b for b in spec.volume.bricks if b.node_id == node_id]
    if not spec.force:
        for brick in local:
            real = confine(brick.path)
            if holds_files(real):
                raise AgentError("not_empty", f"brick {brick.path} of remote volume {spec.volume.name} holds files",
                                 "give an empty remote volume, or create the session with --force", errno.ENOTEMPTY)
    write_shim(paths.shim_dir(state_root, spec.session_id), spec.volume, paths.GLUSTERFS, address)
    # gsyncd's remote side logs there (its config is not read on this side) and creates only the last directory
    os.makedirs(SECONDARY_LOGS, exist_ok=True)
    comment = safe_key_comment(spec.session_id)
    lines = [key_line(state_root, spec.session_id, k) for k in spec.public_keys]
    with _LOCK:
        _rewrite(paths.authorized_keys(state_root, spec.remote_user), lambda ln: not ln.endswith(" " + comment), lines)
    return {}


def cleanup(state_root, spec: GeoRepRemoteSpec) -> dict:
    comment = safe_key_comment(spec.session_id)
    with _LOCK:
        _rewrite(paths.authorized_keys(state_root, spec.remote_user), lambda ln: not ln.endswith(" " + comment), [])
    d = paths.remote_dir(state_root, spec.session_id)
    for f in sorted(d.rglob("*"), reverse=True) if d.exists() else []:
        f.rmdir() if f.is_dir() and not f.is_symlink() else f.unlink()
    if d.exists():
        d.rmdir()
    return {}
