"""`volume expand` without bricks: the new sets are chosen from registered devices by the planner
`volume create --size` uses (distinct nodes and zones per set, space reserved in the transaction
that plans), with the volume's own brick size.

How many sets: `sets` (default 1), or `size` (capacity to add, "+100GiB"): as many sets of the
volume's brick size as hold it, rounded up (the plan says so in a note).

A volume made with bricks given by path has no planned brick size to repeat, so its expand without
bricks needs `size`: the new sets are then sized from it as `volume create --size` would size them
(`sets` is then the number of sets, as `--distribute` is at create). Without `size` it is refused,
saying to give bricks or a size."""
from collections import Counter

from sqlmodel import Session, col, select

from contracts.sizes import format_size
from controlplane.models import Cluster, Node, Volume
from controlplane.services import provisioning, volume_plan
from controlplane.services.errors import Invalid
from controlplane.services.provisioning_plan import Plan
from controlplane.services.provisioning_planner import DEFAULT_MAX_BRICKS, plan_sets, plan_volume
from controlplane.services.volume_specs import bricks_of


def added_size(text: str) -> int:
    """`--size +100GiB`: the capacity to add, in bytes (a leading + is optional; shrinking is not a thing)."""
    raw = text.strip()
    if raw.startswith("-"):
        raise Invalid(f"size {text!r}: an expand only adds capacity: give the capacity to add, e.g. +100GiB")
    return provisioning.size_of(raw[1:] if raw.startswith("+") else raw)


def volume_brick_sizes(session: Session, volume: Volume) -> tuple[int, int | None] | None:
    """(data brick size, arbiter brick size) of the volume's planned bricks, or None when no brick of
    it was planned (all given by path: their size is the file system's, nothing to repeat)."""
    lay = volume_plan.layout_of(volume)
    data: list[int] = []
    arbiter: list[int] = []
    for brick in bricks_of(session, volume):
        if brick.reserved_bytes <= 0:
            continue
        is_arbiter = lay.type == "arbiter" and brick.idx % lay.set_size == lay.set_size - 1
        (arbiter if is_arbiter else data).append(brick.reserved_bytes)
    if not data:
        return None
    return max(data), (max(arbiter) if arbiter else None)


def plan(session: Session, cluster: Cluster, volume: Volume, sets: int | None, size: str | None) -> Plan:
    """The new sets, placed on the cluster's Ready devices of Online nodes (never another cluster's).
    Locks every node of the cluster first: planners never over-commit a device (see provisioning)."""
    lay = volume_plan.layout_of(volume)
    if sets is not None and sets < 1:
        raise Invalid(f"`sets` {sets}: add at least 1 set")
    add_bytes = added_size(size) if size is not None else None
    volume_plan.lock_nodes(session, set(session.exec(select(Node.id).where(col(Node.cluster_id) == cluster.id))))
    bricks = bricks_of(session, volume)
    first_set = len(bricks) // lay.set_size
    existing = dict(Counter(b.node_id for b in bricks))
    room = DEFAULT_MAX_BRICKS - len(bricks)
    devices = provisioning.candidates(session, cluster)
    arbiter = lay.type == "arbiter"
    data_per_set = lay.set_size - lay.redundancy_count if lay.redundancy_count else 1
    known = volume_brick_sizes(session, volume)
    if known is None:
        if add_bytes is None:
            raise Invalid(
                f"volume {volume.name!r} was made with bricks given by path, so it has no planned brick size to "
                f"repeat: give the new bricks (`kadalu volume expand -c {cluster.name} {volume.name} NODE:/PATH ...`, "
                f"whole sets of {lay.set_size}), or the capacity to add (`--size +100GiB`), which sizes the new sets")
        return plan_volume(volume.name, add_bytes, lay.set_size, arbiter, devices, distribute_count=sets,
                           redundancy=lay.redundancy_count, max_bricks=room, first_set=first_set, existing=existing)
    brick, arbiter_bytes = known
    notes: list[str] = []
    if add_bytes is not None:
        if sets is not None:
            raise Invalid(f"give either `sets` or `size`, not both: volume {volume.name!r} grows by sets of "
                          f"{format_size(brick)} bricks, so a size decides the number of sets")
        per_set = brick * data_per_set
        sets = -(-add_bytes // per_set)
        if sets * per_set != add_bytes:
            notes.append(f"{format_size(add_bytes)} rounded up to {sets} set(s) of {format_size(per_set)} "
                         f"({format_size(sets * per_set)}): new sets have the volume's brick size")
    the_plan = plan_sets(volume.name, sets or 1, lay.set_size, brick, devices, arbiter=arbiter,
                         arbiter_bytes=arbiter_bytes, redundancy=lay.redundancy_count, first_set=first_set,
                         existing=existing, max_bricks=room)
    the_plan.notes[:0] = notes
    return the_plan
