"""Files in the agent's state directory, written atomically (temp file, fsync, rename)."""
import json
import os
from pathlib import Path
from typing import Any

from contracts.checks import check_uuid


def write_json(path: Path, data: Any, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
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


class AgentState:
    """Where the agent keeps its credentials, the cluster metadata and task results."""

    def __init__(self, root: Path):
        self.root = Path(root)

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

    def save_metadata(self, version: int, content: dict) -> None:
        current = self.load_metadata()
        if version >= current.get("version", 0):
            write_json(self.metadata_file, {"version": version, "content": content})
