"""What a running agent knows about itself, built once at start-up and held by its Celery app."""
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery

from contracts import metadata_delta, metadata_signing, signing
from contracts.device_paths import DEFAULT_DEVICE_ROOTS
from contracts.task_names import controlplane_queue
from nodeagent import devices, message_guard
from nodeagent.confinement import Confinement
from nodeagent.controlplane_client import ControlPlaneClient
from nodeagent.device_registry import DeviceRegistry
from nodeagent.runner import Runner
from nodeagent.state_files import AgentState

log = logging.getLogger(__name__)


@dataclass
class AgentContext:
    node_id: str
    node_name: str
    address: str
    secret: str
    state: AgentState
    client: ControlPlaneClient
    key_generation: int = 1  # which generation of the node secret `secret` is (from registration)
    runner: Runner = field(default_factory=Runner)
    volfile_server: Any = None  # nodeagent.volfile_server.VolfileServer, when it runs
    # the same on a root-only unix socket: this node's bricks and daemons fetch their graphs from it
    local_volfile_server: Any = None
    # called (no lock held) after a newer metadata copy was saved: running daemons take their new graphs
    on_metadata_changed: Callable[[], Any] | None = None
    device_roots: tuple[str, ...] = DEFAULT_DEVICE_ROOTS  # AgentSettings.device_roots
    # geo-replication: session id -> {subvol: fd holding its Passive lock} (nodeagent/georep/locks.py)
    georep_locks: dict = field(default_factory=dict)
    _metadata_lock: threading.Lock = field(default_factory=threading.Lock)
    _asked_for_signed_copy: bool = False  # an unsigned local copy was replaced by a signed one (once per run)

    @property
    def keys(self) -> "message_guard.Keys":
        return message_guard.Keys(self.node_id, self.secret, self.key_generation)

    @property
    def confinement(self) -> Confinement:
        """Where this agent may act: its device roots, minus system directories and its own state."""
        return Confinement(self.device_roots, self.state.root, f"node {self.node_name}")

    @property
    def devices(self) -> DeviceRegistry:
        """The devices this agent accepted: bricks may only be inside these."""
        return devices.registry_for(self.state.root, self.confinement, self.node_id, self.state.load_metadata)

    def signed(self, payload: dict[str, Any]) -> dict[str, Any]:
        return signing.sign(self.node_id, self.secret, payload)

    def send(self, app: Celery, task_name: str, payload: dict[str, Any]) -> None:
        app.send_task(task_name, args=[self.signed(payload)], queue=controlplane_queue(task_name))

    def refresh_metadata(self, wanted_version: int) -> None:
        """Bring the local copy up to `wanted_version` (a task message says ours is behind)."""
        with self._metadata_lock:
            changed = self.state.load_metadata().get("version", 0) < wanted_version and self._sync_metadata()
        self._after_change(changed)

    def sync_metadata(self) -> None:
        """Ask whether the metadata changed since our version (heartbeat loop): nothing comes back
        when it did not, the changes after our version when it did."""
        with self._metadata_lock:
            changed = self._sync_metadata()
        self._after_change(changed)

    def _after_change(self, changed: bool) -> None:
        if changed and self.on_metadata_changed is not None:
            try:
                self.on_metadata_changed()
            except Exception:  # a daemon that cannot follow now will at the next change or task
                log.exception("applying the new metadata to running daemons failed")

    def _sync_metadata(self) -> bool:
        """Whether the local copy moved to a new version."""
        held = self.state.load_metadata()
        version = int(held.get("version", 0) or 0)
        since: int | None = version
        if version and not _signed_at(held, version) and not self._asked_for_signed_copy:
            since = None  # a copy from before signed copies: the complete copy once, with its signature
            self._asked_for_signed_copy = True
        try:
            md = self.client.metadata(self.node_id, self.secret, since=since)
            if md is not None and "changes" in md:
                try:
                    new_version, content = metadata_delta.apply(held.get("content") or {}, version, md["changes"])
                    md = {"version": new_version, "content": content, "signature": md.get("signature")}
                except (metadata_delta.BadChange, KeyError, TypeError) as exc:
                    log.warning("metadata changes after version %s do not apply (%s): fetching the complete copy",
                                version, exc)
                    md = self.client.metadata(self.node_id, self.secret)
            if md is not None and md.get("signature") is not None and not _signed_at(md, md["version"]):
                log.warning("metadata version %s differs from the one the control plane signed: fetching the complete "
                            "copy", md["version"])
                md = self.client.metadata(self.node_id, self.secret)
        except Exception as exc:  # the control plane may be down; local metadata stays usable
            log.warning("could not refresh metadata (holding version %s): %s", version, exc)
            return False
        if md is None:
            return False
        signature = md.get("signature") if _signed_at(md, md["version"]) else None
        try:
            self.state.save_metadata(md["version"], md["content"], replace=True, signature=signature)
        except OSError as exc:  # the state disk is full: the copy on disk stays the last whole one
            log.error("could not save metadata version %s in %s: %s", md["version"], self.state.root, exc)
            return False
        changed = md["version"] != version
        if changed and self.volfile_server is not None:
            self.volfile_server.notify_change()  # mounted clients refetch; unchanged graphs stay
        return changed


def _signed_at(copy: dict[str, Any], version: int) -> bool:
    """Whether `copy` carries the control plane's signature of exactly its content at `version`
    (the digest only: the agent has no reason to doubt its own control plane; a restore checks the
    signature itself with the key the operator trusts)."""
    sig = copy.get("signature")
    return (isinstance(sig, dict) and sig.get("version") == version and isinstance(copy.get("content"), dict)
            and sig.get("digest") == metadata_signing.content_digest(copy["content"]))
