"""Where a session's files live on a node: all under the agent's state directory, named by ids the
spec checked (canonical UUIDs), never by anything else a message carries."""
from pathlib import Path

from contracts.checks import check_name, check_uuid

GSYNCD = "/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd"  # glusterd's own forced-command wrapper and launcher
GSYNCD_PY = "/usr/lib/x86_64-linux-gnu/glusterfs/python/syncdaemon/gsyncd.py"
SSH = "/usr/bin/ssh"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
GLUSTERFS = "/usr/sbin/glusterfs"


def root(state_root: Path | str) -> Path:
    return Path(state_root) / "georep"


def session_dir(state_root: Path | str, session_id: str) -> Path:
    """Master side: key, config, logs, gsyncd's working directories, the lock mount."""
    return root(state_root) / "sessions" / check_uuid(session_id)


def key_file(state_root: Path | str, session_id: str) -> Path:
    return session_dir(state_root, session_id) / "secret.pem"


def config_file(state_root: Path | str, session_id: str) -> Path:
    return session_dir(state_root, session_id) / "gsyncd.conf"


def pid_file(state_root: Path | str, session_id: str) -> Path:
    return session_dir(state_root, session_id) / "monitor.pid"


def meta_mount(state_root: Path | str, session_id: str) -> Path:
    """A small tmpfs per session: the lock files that make a worker Passive (gsyncd's meta-volume-mnt)."""
    return session_dir(state_root, session_id) / "meta"


def lock_file(state_root: Path | str, session_id: str, master_id: str, remote_id: str, subvol: int) -> Path:
    name = f"{check_uuid(master_id)}_{check_uuid(remote_id)}_subvol_{int(subvol)}.lock"
    return meta_mount(state_root, session_id) / "geo-rep" / name


def remote_dir(state_root: Path | str, session_id: str) -> Path:
    """Remote side: the forced command's helper directory for one session."""
    return root(state_root) / "remote" / check_uuid(session_id)


def shim_dir(state_root: Path | str, session_id: str) -> Path:
    """gsyncd's secondary-gluster-command-dir on this node: `gluster` (our answer) and `glusterfs`."""
    return remote_dir(state_root, session_id) / "bin"


def authorized_keys(state_root: Path | str, user: str) -> Path:
    """The keys sshd accepts for `user` from geo-replication masters (sshd_config:
    `AuthorizedKeysFile .ssh/authorized_keys <state>/georep/authorized_keys/%u`)."""
    return root(state_root) / "authorized_keys" / check_name(user)
