"""Passive workers: the agent holds gsyncd's lockf on `<meta-volume-mnt>/geo-rep/<master id>_<remote
id>_subvol_<N>.lock` for the subvolumes where the control plane made another node's worker Active.
A worker that cannot take its lock stays Passive; when the agent lets go (the control plane moved
the Active role here) the worker takes it within gsyncd's replica-failover-interval and turns Active.
Held by this process: if the agent dies, its locks go and the workers here turn Active."""
import fcntl
import os
import threading

from contracts.georep_specs import GeoRepSessionSpec
from nodeagent.georep import paths

_GUARD = threading.Lock()


def hold(table: dict, state_root, spec: GeoRepSessionSpec) -> list[int]:
    """Hold exactly the locks of `spec.passive_subvols` for this session; returns the subvols whose
    lock an Active worker of this node holds (the caller restarts the monitor and calls again)."""
    busy = []
    with _GUARD:
        held: dict[int, int] = table.setdefault(spec.session_id, {})
        for subvol in sorted(set(held) - set(spec.passive_subvols)):
            os.close(held.pop(subvol))  # closing the fd releases the lockf
        for subvol in spec.passive_subvols:
            if subvol in held:
                continue
            path = paths.lock_file(state_root, spec.session_id, spec.master.id, spec.remote_volume_id, subvol)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                busy.append(subvol)
                continue
            held[subvol] = fd
        return busy


def release_all(table: dict, session_id: str) -> None:
    with _GUARD:
        for fd in table.pop(session_id, {}).values():
            os.close(fd)
