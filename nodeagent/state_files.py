"""Files in the agent's state directory, written atomically (temp file, fsync, rename)."""
import json
import os
import stat
from pathlib import Path
from typing import Any

from contracts.checks import check_uuid


def write_json(path: Path, data: Any, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk: the old file stays whole, and no half-written temp file is left
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


def _private(path: Path, mode: int) -> None:
    """chmod a regular file or directory (a symlink is never followed)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)) and stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


class AgentState:
    """Where the agent keeps its credentials, the cluster metadata and task results."""

    # node.json: the node secret; metadata.json and volfiles/: the volumes' client credentials
    PRIVATE_FILES = ("node.json", "metadata.json", "block_devices.json")
    PRIVATE_TREES = ("volfiles", "tasks")

    def __init__(self, root: Path):
        self.root = Path(root)

    def secure(self) -> None:
        """At every start: the state directory 0700, credential files 0600, whatever modes an older
        version or a restore left (one call in main())."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        _private(self.root, 0o700)
        for name in self.PRIVATE_FILES:
            _private(self.root / name, 0o600)
        for name in self.PRIVATE_TREES:
            top = self.root / name
            if top.is_dir() and not top.is_symlink():
                _private(top, 0o700)
                for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
                    for d in dirnames:
                        _private(Path(dirpath) / d, 0o700)
                    for f in filenames:
                        _private(Path(dirpath) / f, 0o600)

    @property
    def credentials_file(self) -> Path:
        return self.root / "node.json"

    @property
    def metadata_file(self) -> Path:
        return self.root / "metadata.json"

    @property
    def tasks_dir(self) -> Path:
        return self.root / "tasks"

    def task_file(self, task_id: str) -> Path:
        return self.tasks_dir / f"{check_uuid(task_id, 'task id')}.json"

    def load_credentials(self) -> dict | None:
        return read_json(self.credentials_file)

    def save_credentials(self, creds: dict) -> None:
        write_json(self.credentials_file, creds)

    def load_metadata(self) -> dict:
        return read_json(self.metadata_file, default={"version": 0, "content": {}})

    def save_metadata(self, version: int, content: dict, replace: bool = False, signature: dict | None = None) -> None:
        """metadata.json: {"version", "content"}, the complete copy (contracts/metadata_delta.py), with
        the control plane's "signature" of it when it sent one (contracts/metadata_signing.py). An
        older version never replaces a newer one, unless `replace` (the control plane's complete copy
        is the truth, even behind ours: restored from a backup, or another cluster)."""
        current = self.load_metadata()
        if replace or version >= current.get("version", 0):
            data: dict = {"version": version, "content": content}
            if signature is not None:
                data["signature"] = signature
            write_json(self.metadata_file, data)
