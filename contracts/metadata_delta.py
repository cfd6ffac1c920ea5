"""The cluster metadata every node keeps, and the changes that bring a copy up to date.

The complete copy (each agent's metadata.json holds {"version": V, "content": <complete copy>};
`GET /api/v1/agent/metadata` returns the same; the recovery path restores a control plane from it):

    {"cluster": {"id": str, "name": str},
     "nodes":   [{"id", "name", "address", "zone", "secret_generation"}, ...]    sorted by name
     "devices": [{"id", "node_id", "path", "kind", "state"}, ...]               sorted by (path, id)
     "volumes": [{"spec": VolumeSpec as dict, "state": str,                     sorted by spec.name
                  "placement": {brick id: {"device_id", "reserved_bytes"}},  (provisioned bricks)
                  "start_after_create": bool,
                  "quota_limits": [{"path", "hard_bytes", "soft_percent", "hard_objects"}, ...]
                                   (only when the volume has quota limits; sorted by path)}, ...]
     "georep_sessions": [{"id", "master_volume_id", "remote_cluster_id", "remote_volume_id", "remote_volume",
                          "remote_host", "remote_user", "ssh_port", "state", "config"}, ...]   sorted by id
     "snapshots": [{"id", "name", "volume_id", "state",                sorted by name
                    "bricks": [{"brick_id", "node_id", "backend", "path"}, ...]}, ...]}

Everything a restore needs is here (controlplane/services/restore*.py rebuilds the database from it);
a section added later is listed in SECTIONS and gets its own restorer.

One change per version (the control plane's append-only log, `GET /api/v1/agent/metadata?since=V`):

    {"version": int,
     "cluster": {"id", "name"}                          (only when the cluster itself changed)
     "nodes":   {node id: entry, or null when removed}    (only the nodes that changed)
     "devices": {device id: entry or null}, "volumes": {volume id: entry or null},
     "georep_sessions": {session id: entry or null}
     "snapshots": {snapshot id: entry or null}}

Applying the changes after version V, in order, to the complete copy at V gives the complete copy
at the last change's version (`apply`): a change carries whole entries, never parts of one.
"""
from typing import Any

SECTIONS = ("nodes", "devices", "volumes", "georep_sessions", "snapshots")


def entry_id(section: str, entry: dict[str, Any]) -> str:
    return str(entry["spec"]["id"] if section == "volumes" else entry["id"])


def _sort_key(section: str):
    if section == "nodes":
        return lambda e: e["name"]
    if section == "devices":
        return lambda e: (e["path"], e["id"])
    if section == "georep_sessions":
        return lambda e: e["id"]
    if section == "snapshots":
        return lambda e: e["name"]
    return lambda e: e["spec"]["name"]


def sort_section(section: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=_sort_key(section))


class BadChange(ValueError):
    """A change that does not fit the format above, or does not follow the copy's version."""


def apply(content: dict[str, Any], version: int, changes: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The complete copy after `changes` (consecutive versions from version + 1), as a new dict."""
    by_id = {s: {entry_id(s, e): e for e in content.get(s, []) or []} for s in SECTIONS}
    cluster = content.get("cluster")
    for change in changes:
        if not isinstance(change, dict) or change.get("version") != version + 1:
            raise BadChange(f"metadata change for version {version + 1} expected, got "
                            f"{change.get('version') if isinstance(change, dict) else type(change).__name__}")
        version += 1
        if "cluster" in change:
            if not isinstance(change["cluster"], dict):
                raise BadChange(f"version {version}: `cluster` must be an object")
            cluster = change["cluster"]
        for section in SECTIONS:
            entries = change.get(section, {})
            if not isinstance(entries, dict):
                raise BadChange(f"version {version}: `{section}` must map ids to entries")
            for key, entry in entries.items():
                if entry is None:
                    by_id[section].pop(key, None)
                elif isinstance(entry, dict) and entry_id(section, entry) == key:
                    by_id[section][key] = entry
                else:
                    raise BadChange(f"version {version}: {section} entry {key!r} is not an entry with that id")
    out: dict[str, Any] = {} if cluster is None else {"cluster": cluster}
    for section in SECTIONS:
        out[section] = sort_section(section, list(by_id[section].values()))
    return version, out
