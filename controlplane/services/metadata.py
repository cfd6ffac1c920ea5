"""Versioned cluster metadata: what every node agent keeps a complete copy of.

Format: contracts/metadata_delta.py. Services say what changed (`changed`: the cluster, a node, a
device, a volume); the version is bumped once, when the transaction commits, however many changes
it made, and that version's row in the append-only log (MetadataChange) holds only the entries it
changed, read from the database at that moment: a change to one volume costs that volume's rows,
not the cluster's. `compact` (beat, every minute) folds the log into a snapshot (MetadataSnapshot:
the complete copy at a version, gzip-compressed, in the same format as an agent's metadata.json)
and prunes changes older than both the snapshot and the last `keep` versions. The complete copy at
the current version is the newest snapshot plus the changes after it (`current`); an agent at
version V fetches only the changes after V (`changes_since`), or nothing when V is current.

Storage: one snapshot per cluster plus the log since the older of (snapshot, last `keep` versions):
it grows with the size of the changes, not with cluster size x changes."""
import gzip
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from contracts.metadata_delta import BadChange, apply
from controlplane.db import rowcount
from controlplane.models import Cluster, MetadataChange, MetadataSnapshot
from controlplane.services.metadata_content import Marks, build_content, change_for
from controlplane.services.outbox import KEEP_VERSIONS

log = logging.getLogger(__name__)
CHANGED = "kadalu.metadata_changed"
DEFAULT_KEEP_VERSIONS = 100
SNAPSHOT_EVERY = 1000  # changes after the newest snapshot before `compact` writes a new one

__all__ = ["Copy", "build_content", "bump", "changed", "changes_since", "compact", "current", "snapshot_bytes"]


def changed(session: Session, cluster_id: str, *, cluster: bool = False, volume_id: str | None = None,
            node_id: str | None = None, device_id: str | None = None, georep_id: str | None = None,
            snapshot_id: str | None = None) -> None:
    """What this transaction changed in `cluster_id`'s metadata: one new version when it commits,
    holding exactly the entries named here (as they are at commit)."""
    if not (cluster or volume_id or node_id or device_id or georep_id or snapshot_id):
        raise ValueError("metadata.changed needs what changed: cluster=True, volume_id, node_id, device_id, georep_id "
                         "or snapshot_id")
    marks: Marks = session.info.setdefault(CHANGED, {}).setdefault(cluster_id, Marks())
    marks.cluster |= cluster
    for ids, one in ((marks.volumes, volume_id), (marks.nodes, node_id), (marks.devices, device_id),
                     (marks.georep_sessions, georep_id), (marks.snapshots, snapshot_id)):
        if one:
            ids.add(one)


def bump(session: Session, cluster_id: str, marks: Marks, keep: int = DEFAULT_KEEP_VERSIONS) -> int | None:
    """Write the next version's change in the caller's transaction (the cluster row update serialises
    bumps, so versions commit in order) and prune the log below the snapshot and the last `keep`
    versions. None when the cluster is gone."""
    session.flush()
    done = session.execute(
        update(Cluster).where(col(Cluster.id) == cluster_id).values(metadata_version=Cluster.metadata_version + 1)
    )
    if rowcount(done) != 1:
        return None
    cluster = session.get(Cluster, cluster_id)
    assert cluster is not None  # its row was just updated
    session.refresh(cluster, ["metadata_version"])
    version = cluster.metadata_version
    change = change_for(session, cluster, marks)
    change["version"] = version
    session.add(MetadataChange(cluster_id=cluster_id, version=version, change=change))
    snap = _newest_snapshot_version(session, cluster_id)
    session.execute(delete(MetadataChange).where(col(MetadataChange.cluster_id) == cluster_id,
                                                 col(MetadataChange.version) <= min(snap, version - max(1, keep))))
    return version


@event.listens_for(OrmSession, "before_commit")
def _bump_changed(session: Any) -> None:
    keep = session.info.get(KEEP_VERSIONS, DEFAULT_KEEP_VERSIONS)
    marked: dict[str, Marks] = session.info.pop(CHANGED, {})
    for cluster_id in sorted(marked):
        bump(session, cluster_id, marked[cluster_id], keep)


@event.listens_for(OrmSession, "after_rollback")
def _forget_changes(session: Any) -> None:
    session.info.pop(CHANGED, None)


@dataclass
class Copy:
    version: int
    content: dict[str, Any]


def _newest_snapshot_version(session: Session, cluster_id: str) -> int:
    stmt = (select(MetadataSnapshot.version).where(col(MetadataSnapshot.cluster_id) == cluster_id)
            .order_by(col(MetadataSnapshot.version).desc()).limit(1))
    return session.exec(stmt).first() or 0


def snapshot_bytes(session: Session, cluster_id: str) -> tuple[int, bytes | None]:
    """The newest snapshot: its version and gzip-compressed {"version", "content"} (None: none yet)."""
    stmt = (select(MetadataSnapshot.version, MetadataSnapshot.data).where(col(MetadataSnapshot.cluster_id) == cluster_id)
            .order_by(col(MetadataSnapshot.version).desc()).limit(1))
    row = session.exec(stmt).first()
    return (row[0], row[1]) if row else (0, None)


def _log_after(session: Session, cluster_id: str, version: int, upto: int | None = None) -> list[dict[str, Any]]:
    stmt = (select(MetadataChange.change).where(col(MetadataChange.cluster_id) == cluster_id,
                                                col(MetadataChange.version) > version)
            .order_by(col(MetadataChange.version)))
    if upto is not None:
        stmt = stmt.where(col(MetadataChange.version) <= upto)
    return [dict(c) for c in session.exec(stmt).all()]


def changes_since(session: Session, cluster_id: str, since: int) -> list[dict[str, Any]] | None:
    """The changes after version `since`, oldest first ([] when `since` is current); None when the
    log no longer reaches back to `since` (or `since` is ahead of the cluster): take `current`."""
    newest = session.exec(select(Cluster.metadata_version).where(col(Cluster.id) == cluster_id)).first()
    if newest is None or since > newest:
        return None
    if since == newest:
        return []
    rows = _log_after(session, cluster_id, since)
    if not rows or rows[0].get("version") != since + 1:
        return None
    return rows


def current(session: Session, cluster_id: str, upto: int | None = None) -> Copy:
    """The complete copy at the newest version (or at version `upto`, not older than the newest
    snapshot): the newest snapshot plus the log after it."""
    for _ in range(3):  # a compaction between the two reads may prune what we were about to read
        version, data = snapshot_bytes(session, cluster_id)
        base: dict[str, Any] = json.loads(gzip.decompress(data)) if data else {"version": 0, "content": {}}
        if upto is not None and version > upto:
            raise RuntimeError(f"cluster {cluster_id}: version {upto} is older than the newest snapshot ({version})")
        try:
            got = apply(base["content"], int(base["version"]), _log_after(session, cluster_id, version, upto))
        except BadChange as exc:
            log.info("metadata log moved while reading (%s): reading again", exc)
            continue
        return Copy(*got)
    raise RuntimeError(f"cluster {cluster_id}: its metadata log has a gap after its newest snapshot")


def pack(version: int, content: dict[str, Any]) -> tuple[bytes, int]:
    """gzip-compressed {"version", "content"} (a snapshot; the complete copy an API answer sends)."""
    raw = json.dumps({"version": version, "content": content}, separators=(",", ":")).encode()
    return gzip.compress(raw, 3), len(raw)


def compact(session: Session, cluster_id: str, keep: int = DEFAULT_KEEP_VERSIONS, every: int = SNAPSHOT_EVERY) -> int | None:
    """When `every` changes or more follow the newest snapshot, write the complete copy at the newest
    change as the snapshot, drop older snapshots and the log below it and the last `keep` versions.
    Commits; returns the new snapshot's version (None: nothing to do, or another worker did it)."""
    version, _ = snapshot_bytes(session, cluster_id)
    pending = session.exec(select(MetadataChange.version).where(col(MetadataChange.cluster_id) == cluster_id,
                                                                 col(MetadataChange.version) > version)).all()
    if len(pending) < max(1, every):
        return None
    try:
        copy = current(session, cluster_id)
    except RuntimeError as exc:
        log.warning("metadata compaction skipped: %s", exc)
        return None
    data, size = pack(copy.version, copy.content)
    session.add(MetadataSnapshot(cluster_id=cluster_id, version=copy.version, data=data, size_bytes=size))
    session.execute(delete(MetadataSnapshot).where(col(MetadataSnapshot.cluster_id) == cluster_id,
                                                   col(MetadataSnapshot.version) < copy.version))
    session.execute(delete(MetadataChange).where(col(MetadataChange.cluster_id) == cluster_id,
                                                 col(MetadataChange.version) <= copy.version - max(1, keep)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another control worker wrote this snapshot first
        return None
    return copy.version


def compact_all(session: Session, keep: int = DEFAULT_KEEP_VERSIONS, every: int = SNAPSHOT_EVERY) -> int:
    """Beat's job: compact every cluster that needs it; returns how many snapshots were written."""
    return sum(1 for cid in session.exec(select(Cluster.id)).all() if compact(session, cid, keep, every) is not None)
