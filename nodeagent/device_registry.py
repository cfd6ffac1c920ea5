"""The devices this agent accepted (ADD_DEVICE), in a JSON file of its state directory.

The agent acts only inside these: a brick task whose path is not inside a directory device
listed here is refused, whatever the control plane says. Entries are keyed by device id:
{"path": as registered, "real_path": the path with symlinks resolved at add time, "kind"}.
Written atomically; a per-file lock serialises the read-modify-write of concurrent tasks."""
import threading
from pathlib import Path

from contracts.checks import under
from contracts.device_paths import nested
from nodeagent.state_files import read_json, write_json

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class DeviceRegistry:
    FILE = "devices.json"
    LEGACY_BLOCK_FILE = "block_devices.json"  # before this registry: block devices only, {dev: id}

    def __init__(self, state_dir: Path):
        self.file = Path(state_dir) / self.FILE
        self.legacy_block_file = Path(state_dir) / self.LEGACY_BLOCK_FILE

    @property
    def lock(self) -> threading.Lock:
        key = self.file.resolve()
        with _locks_guard:
            return _locks.setdefault(key, threading.Lock())

    def exists(self) -> bool:
        return self.file.exists()

    def entries(self) -> dict[str, dict]:
        data = read_json(self.file, {}) or {}
        devices = data.get("devices", {}) if isinstance(data, dict) else {}
        return {k: v for k, v in devices.items() if isinstance(v, dict) and {"path", "real_path", "kind"} <= set(v)}

    def get(self, device_id: str) -> dict | None:
        return self.entries().get(device_id)

    def overlapping(self, real_path: str, device_id: str) -> tuple[str, dict] | None:
        """Another device whose real path is, contains or lies inside `real_path`."""
        for other_id, entry in self.entries().items():
            if other_id != device_id and nested(entry["real_path"], real_path):
                return other_id, entry
        return None

    def directory_holding(self, real_path: str) -> tuple[str, dict] | None:
        """The directory device that `real_path` lies strictly inside (a brick's home)."""
        for device_id, entry in self.entries().items():
            if entry["kind"] == "directory" and real_path != entry["real_path"] and under(real_path, entry["real_path"]):
                return device_id, entry
        return None

    def put(self, device_id: str, path: str, real_path: str, kind: str) -> None:
        with self.lock:
            devices = self.entries()
            devices[device_id] = {"path": path, "real_path": real_path, "kind": kind}
            write_json(self.file, {"devices": devices})

    def drop(self, device_id: str) -> None:
        with self.lock:
            devices = self.entries()
            if devices.pop(device_id, None) is not None or not self.exists():
                write_json(self.file, {"devices": devices})

    def adopt(self, found: dict[str, dict]) -> None:
        """Write the registry for the first time (an agent upgraded from before it kept one), with the
        devices it had accepted then; later calls change nothing."""
        with self.lock:
            if not self.exists():
                write_json(self.file, {"devices": found})

    def legacy_blocks(self) -> dict[str, str]:
        data = read_json(self.legacy_block_file, {}) or {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}
