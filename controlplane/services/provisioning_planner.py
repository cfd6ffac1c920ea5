"""Brick placement for `kadalu volume create --size`: a pure function over plain dataclasses.

The caller (the volume service) loads the cluster's devices, turns them into `DeviceCandidate`s,
calls `plan_volume` and, in the same database transaction, reserves `Plan.reservations()` on each
device. Nothing here touches the database, the models or the network, so the planner is
deterministic: the same candidates (in any order) give the same plan.

Sizing rules
------------
* usable space of a device = ``free_bytes - reserved_bytes`` (never below 0); ``reserved_bytes`` is
  space already promised to planned-but-not-yet-created bricks of other volumes.
* ``size_bytes`` is the usable capacity of the volume.
* Replicate (``set_size`` 2 or 3), arbiter (``set_size`` 3, ``arbiter=True``) and distribute
  (``set_size`` 1): every data brick holds its set's full share, ``brick = ceil(size / sets)``.
* Disperse (``set_size`` = disperse count, ``redundancy`` = r >= 1): a set stores its share on
  ``set_size - r`` data fragments, ``brick = ceil(ceil(size / sets) / (set_size - r))``.
* Number of sets: ``distribute_count`` when given (then ``max_brick_bytes`` is not enforced: the
  caller asked for that layout). Otherwise the smallest count whose bricks are <= ``max_brick_bytes``
  (4 TiB, like heketi); if the bricks do not fit, the count is doubled (like heketi) and placement
  retried, as long as bricks stay >= ``min_brick_bytes``, the volume stays <= ``max_bricks`` bricks
  and smaller bricks can help at all (a node, or a zone when zones are strict, takes at most one
  brick per set, so its usable space counts at most once per brick position).
* Bricks smaller than ``min_brick_bytes`` (1 GiB) are refused.
* Arbiter brick (the last brick of each set, on a third node): ``arbiter_bytes`` when given, else
  heketi's estimate for an average file size of 64 KiB (4 KiB of metadata per file), i.e.
  ``ceil(brick / 16)``, at least ``min_brick_bytes`` and at most the data brick size.

Placement rules
---------------
* The bricks of one set are on distinct nodes.
* Zones: when every candidate node carries a zone label, each set spans as many zones as there
  are (strict): with at least ``set_size`` zones its bricks are in distinct zones; with fewer, no
  zone holds more than ``ceil(set_size / zones)`` of them (replica 3 over 2 zones: 2 + 1). A single
  zone spreads nothing and is ignored (with a note). When only some nodes are labelled, zones are a preference only (and the
  plan says so in ``Plan.notes``).
* Within a set, data bricks are chosen first and the arbiter last. Each brick goes to the eligible
  device (enough usable space left, node and zone not yet used by the set) whose node has the
  fewest bricks of this plan, then whose zone has the fewest, then whose node has the most usable
  space left, then the device with the fewest bricks of this plan and the most space left; ties
  are broken by node name, device path and device id.
* The sum of the bricks planned on a device never exceeds its usable space.
* Brick path: ``<device path>/<volume name>-brick-<set>-<position>`` (both 0-based, matching
  ``PlannedBrick.set_index``), e.g. ``/data/disk1/gvol5-brick-0-2``: directly under the device,
  whose directory the agent validated, so the brick's parent exists.

The data types are in `provisioning_plan`, the words of a failure in `provisioning_failures`, and
the size of a request (`--size 100GiB`) is read by `contracts.sizes.parse_size`: GiB = 2^30,
GB = 10^9, as everywhere in kadalu.
"""
from __future__ import annotations

from collections import defaultdict

from contracts.sizes import GiB, TiB, format_size
from controlplane.services.provisioning_failures import names, plural, space_failure
from controlplane.services.provisioning_plan import (
    CandidateNode,
    DeviceCandidate,
    PlacementError,
    Plan,
    PlannedBrick,
    SetDidNotFit,
)

DEFAULT_MIN_BRICK_BYTES = GiB
DEFAULT_MAX_BRICK_BYTES = 4 * TiB
DEFAULT_MAX_BRICKS = 1024
ARBITER_RATIO = 16  # 4 KiB of metadata per file of 64 KiB on average (heketi's default)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _layout_name(set_size: int, arbiter: bool, redundancy: int) -> str:
    if arbiter:
        return "replica 3 arbiter 1"
    if redundancy:
        return f"disperse {set_size} redundancy {redundancy}"
    if set_size == 1:
        return "distribute"
    return f"replica {set_size}"


def _check_args(volume_name: str, size_bytes: int, set_size: int, arbiter: bool, redundancy: int,
                distribute_count: int | None, min_brick_bytes: int, arbiter_bytes: int | None,
                max_brick_bytes: int, devices: list[DeviceCandidate]) -> None:
    if not volume_name or "/" in volume_name or volume_name in (".", "..") or "\x00" in volume_name:
        raise ValueError(f"invalid volume name {volume_name!r} for a brick directory")
    if not isinstance(size_bytes, int) or size_bytes <= 0:
        raise ValueError(f"the volume size must be a positive number of bytes, got {size_bytes!r}")
    if set_size < 1:
        raise ValueError(f"set_size must be at least 1, got {set_size}")
    if arbiter and set_size != 3:
        raise ValueError("an arbiter volume has sets of 3 bricks (2 data bricks and the arbiter)")
    if arbiter and redundancy:
        raise ValueError("a volume is either arbiter or disperse, not both")
    if redundancy < 0 or (redundancy and (set_size < 3 or 2 * redundancy >= set_size)):
        raise ValueError(f"redundancy {redundancy} is not valid for disperse {set_size}")
    if distribute_count is not None and distribute_count < 1:
        raise ValueError(f"distribute_count must be at least 1, got {distribute_count}")
    if min_brick_bytes < 1 or max_brick_bytes < min_brick_bytes:
        raise ValueError("need 1 <= min_brick_bytes <= max_brick_bytes")
    if arbiter_bytes is not None and arbiter_bytes < 1:
        raise ValueError(f"arbiter_bytes must be positive, got {arbiter_bytes}")
    seen: set[str] = set()
    for d in devices:
        if d.device_id in seen:
            raise ValueError(f"device {d.device_id} is listed twice")
        seen.add(d.device_id)


def _nodes(devices: list[DeviceCandidate]) -> dict[str, CandidateNode]:
    nodes: dict[str, CandidateNode] = {}
    for d in devices:
        zone = d.zone or None
        n = nodes.get(d.node_id)
        if n is None:
            nodes[d.node_id] = CandidateNode(d.node_id, d.node_name, zone, [d])
            continue
        if n.zone != zone:
            raise ValueError(f"node {d.node_name} is listed with two zones ({n.zone!r} and {zone!r})")
        n.devices.append(d)
    return nodes


def _brick_size(size_bytes: int, sets: int, data_per_set: int) -> int:
    return _ceil_div(_ceil_div(size_bytes, sets), data_per_set)


def _arbiter_size(brick: int, arbiter_bytes: int | None, min_brick_bytes: int) -> int:
    if arbiter_bytes is not None:
        return arbiter_bytes
    return min(brick, max(min_brick_bytes, _ceil_div(brick, ARBITER_RATIO)))


def _zone_cap(nodes: dict[str, CandidateNode], set_size: int) -> int:
    """Strict zones: the most bricks of one set a zone may hold, so that every set spans as many
    zones as there are (one each when there are at least `set_size` zones)."""
    zones = {n.zone for n in nodes.values()}
    return _ceil_div(set_size, max(1, len(zones)))


def _check_nodes(summary: str, nodes: dict[str, CandidateNode], set_size: int, layout: str, redundancy: int) -> None:
    """Enough nodes with devices for one set on distinct nodes, or PlacementError."""
    if not nodes:
        raise PlacementError(summary, ["no devices are registered in the cluster"],
                             "register a device on each storage node (`kadalu device add`)")
    node_names = sorted(n.name for n in nodes.values())
    if len(nodes) < set_size:
        raise PlacementError(
            summary,
            [f"need {set_size} nodes (the bricks of a {layout} set go on distinct nodes), found "
             f"{len(nodes)} with registered devices ({names(node_names)})"],
            f"register a device on {plural(set_size - len(nodes), 'more node')} (`kadalu device add`)"
            + (", or use a smaller replica count" if not redundancy and set_size > 1 else ""),
        )


def _zones(nodes: dict[str, CandidateNode], set_size: int) -> tuple[bool, list[str]]:
    """Whether zones are strict for this placement, and the notes saying how they are used."""
    notes: list[str] = []
    zoned = [n for n in nodes.values() if n.zone is not None]
    strict_zones = bool(zoned) and len(zoned) == len(nodes) and set_size > 1
    if zoned and len(zoned) < len(nodes):
        unlabelled = sorted(n.name for n in nodes.values() if n.zone is None)
        notes.append(f"zones are a preference only: {names(unlabelled)} carry no zone label")
    if strict_zones and len({n.zone for n in nodes.values()}) == 1:
        strict_zones = False  # one zone spreads nothing: place as if unlabelled
        notes.append(f"all nodes are in zone {next(iter(nodes.values())).zone}: zones do not spread this volume")
    elif strict_zones and len({n.zone for n in nodes.values()}) < set_size:
        notes.append(f"{len({n.zone for n in nodes.values()})} zones for sets of {set_size}: each set spans every zone, "
                     f"at most {_zone_cap(nodes, set_size)} of its bricks in one zone")
    return strict_zones, notes


def _place(volume_name: str, devices: list[DeviceCandidate], nodes: dict[str, CandidateNode], set_size: int,
           set_count: int, brick: int, arbiter_size: int | None, strict_zones: bool, first_set: int = 0,
           existing: dict[str, int] | None = None) -> list[PlannedBrick]:
    """`first_set`: the index of the first new set (an expand continues the volume's numbering);
    `existing`: bricks the volume already has per node id, counted as bricks of this plan, so new
    sets go to the nodes (and zones) holding fewest of the volume's bricks."""
    cap = _zone_cap(nodes, set_size) if strict_zones else set_size
    remaining = {d.device_id: d.usable_bytes for d in devices}
    node_bricks: dict[str, int] = defaultdict(int)
    zone_bricks: dict[str | None, int] = defaultdict(int)
    for node_id, count in (existing or {}).items():
        if node_id in nodes:
            node_bricks[node_id] += count
            zone_bricks[nodes[node_id].zone] += count
    device_bricks: dict[str, int] = defaultdict(int)
    node_free = {nid: sum(d.usable_bytes for d in n.devices) for nid, n in nodes.items()}
    out: list[PlannedBrick] = []
    for s in range(set_count):
        before = dict(remaining)
        used_nodes: set[str] = set()
        used_zones: dict[str | None, int] = defaultdict(int)  # bricks of this set per zone
        chosen: list[tuple[DeviceCandidate, int, bool]] = []
        for pos in range(set_size):
            is_arbiter = arbiter_size is not None and pos == set_size - 1
            need = arbiter_size if is_arbiter and arbiter_size is not None else brick
            best = None
            best_key = None
            for d in devices:
                zone = nodes[d.node_id].zone
                if remaining[d.device_id] < need or d.node_id in used_nodes:
                    continue
                if strict_zones and used_zones[zone] >= cap:
                    continue
                key = (
                    used_zones[zone] if zone is not None else 0,  # prefer the zones this set uses least
                    node_bricks[d.node_id],
                    zone_bricks[zone],
                    -node_free[d.node_id],
                    device_bricks[d.device_id],
                    -remaining[d.device_id],
                    d.node_name, d.path, d.device_id,
                )
                if best_key is None or key < best_key:
                    best, best_key = d, key
            if best is None:
                raise SetDidNotFit(s, before, s)
            zone = nodes[best.node_id].zone
            used_nodes.add(best.node_id)
            if zone is not None:
                used_zones[zone] += 1
            remaining[best.device_id] -= need
            node_free[best.node_id] -= need
            node_bricks[best.node_id] += 1
            zone_bricks[zone] += 1
            device_bricks[best.device_id] += 1
            chosen.append((best, need, is_arbiter))
        for pos, (d, size, is_arbiter) in enumerate(chosen):
            out.append(PlannedBrick(
                device_id=d.device_id, node_id=d.node_id, node_name=d.node_name,
                path=f"{d.path.rstrip('/') or ''}/{volume_name}-brick-{first_set + s}-{pos}",
                size_bytes=size, set_index=first_set + s, arbiter=is_arbiter,
            ))
    return out


def _split_may_help(nodes: dict[str, CandidateNode], size_bytes: int, set_size: int, data_per_set: int,
                    arbiter: bool, strict_zones: bool) -> bool:
    """A necessary condition for any number of sets to fit: one node (one zone when zones are
    strict) holds at most one brick per set, so it can take at most one brick position's share S
    of the volume; the nodes' usable space, each capped at S, must cover the raw size."""
    share = _ceil_div(size_bytes, data_per_set)
    data_positions = set_size - (1 if arbiter else 0)
    raw = share * data_positions + (_ceil_div(share, ARBITER_RATIO) if arbiter else 0)
    groups: dict[object, int] = defaultdict(int)
    for n in nodes.values():
        groups[n.zone if strict_zones else n.node_id] += sum(d.usable_bytes for d in n.devices)
    per_group = share * (_zone_cap(nodes, set_size) if strict_zones else 1)
    return sum(min(total, per_group) for total in groups.values()) >= raw


def plan_volume(volume_name: str, size_bytes: int, set_size: int, arbiter: bool, devices: list[DeviceCandidate],
                distribute_count: int | None = None, min_brick_bytes: int = DEFAULT_MIN_BRICK_BYTES,
                arbiter_bytes: int | None = None, redundancy: int = 0,
                max_brick_bytes: int = DEFAULT_MAX_BRICK_BYTES, max_bricks: int = DEFAULT_MAX_BRICKS,
                first_set: int = 0, existing: dict[str, int] | None = None) -> Plan:
    """Choose a device for every brick of the volume, or raise PlacementError saying why not.

    set_size: bricks per set (1 distribute, 2/3 replica, 3 with arbiter=True, the disperse count
    with redundancy >= 1). ValueError for inconsistent arguments (a bug in the caller).
    first_set, existing: for sets added to a volume (see `_place`)."""
    _check_args(volume_name, size_bytes, set_size, arbiter, redundancy, distribute_count, min_brick_bytes,
                arbiter_bytes, max_brick_bytes, devices)
    devices = sorted(devices, key=lambda d: (d.node_name, d.path, d.device_id))
    nodes = _nodes(devices)
    # replicate, arbiter, distribute: each data brick holds the whole set share; disperse: 1/(n-r) of it
    data_per_set = set_size - redundancy if redundancy else 1
    layout = _layout_name(set_size, arbiter, redundancy)
    summary = f"cannot place volume {volume_name} ({layout}, {format_size(size_bytes)})"

    _check_nodes(summary, nodes, set_size, layout, redundancy)
    strict_zones, notes = _zones(nodes, set_size)

    explicit = distribute_count is not None
    sets = distribute_count if distribute_count is not None else max(1, _ceil_div(size_bytes, max_brick_bytes * data_per_set))
    brick = _brick_size(size_bytes, sets, data_per_set)
    if brick < min_brick_bytes:
        least = min_brick_bytes * data_per_set * sets
        raise PlacementError(
            summary,
            [f"each brick would be {format_size(brick)}, below the minimum brick size of {format_size(min_brick_bytes)}"],
            f"ask for at least {format_size(least, round_up=True)}"
            + (" or fewer sets" if explicit and sets > 1 else ""),
        )
    if sets * set_size > max_bricks:
        raise PlacementError(
            summary,
            [f"{sets} sets of {set_size} would be {sets * set_size} bricks, more than the limit of {max_bricks}"],
            "use fewer sets (larger bricks)",
        )

    may_split = _split_may_help(nodes, size_bytes, set_size, data_per_set, arbiter, strict_zones)
    first: tuple[SetDidNotFit, int, int, int | None] | None = None
    tried = sets
    while True:
        arb = _arbiter_size(brick, arbiter_bytes, min_brick_bytes) if arbiter else None
        try:
            bricks = _place(volume_name, devices, nodes, set_size, sets, brick, arb, strict_zones, first_set, existing)
        except SetDidNotFit as f:
            if first is None:
                first = (f, sets, brick, arb)
            nxt = sets * 2
            nb = _brick_size(size_bytes, nxt, data_per_set)
            if explicit or nb < min_brick_bytes or nxt * set_size > max_bricks or not may_split:
                break
            sets, brick, tried = nxt, nb, nxt
            continue
        if first is not None:
            notes.append(f"split into {sets} sets of {format_size(brick)} bricks so that they fit the devices")
        return Plan(bricks=bricks, brick_size=brick, set_size=set_size, set_count=sets, arbiter_size=arb,
                    redundancy=redundancy, notes=notes)

    assert first is not None  # the loop ends early only after a set did not fit
    unfit, f_sets, f_brick, f_arb = first
    reasons, hint = space_failure(unfit, nodes, set_size, f_sets, f_brick, f_arb, strict_zones)
    if tried > f_sets:
        reasons.append(f"smaller bricks do not fit either (tried up to {tried} sets of {format_size(brick)})")
    summary = (f"cannot place volume {volume_name} ({layout}, {format_size(size_bytes)} as "
               f"{plural(f_sets, 'set')} of {format_size(f_brick)} bricks)")
    raise PlacementError(summary, reasons, hint)


def plan_sets(volume_name: str, set_count: int, set_size: int, brick_bytes: int, devices: list[DeviceCandidate], *,
              arbiter: bool = False, arbiter_bytes: int | None = None, redundancy: int = 0, first_set: int = 0,
              existing: dict[str, int] | None = None, max_bricks: int = DEFAULT_MAX_BRICKS) -> Plan:
    """Expand: place `set_count` more sets whose data bricks are `brick_bytes` each (the size of the
    volume's sets; the arbiter brick `arbiter_bytes`, else estimated as at create), numbered from
    `first_set`, by the same placement rules as `plan_volume`, or raise PlacementError saying why not."""
    if set_count < 1:
        raise ValueError(f"set_count must be at least 1, got {set_count}")
    _check_args(volume_name, brick_bytes, set_size, arbiter, redundancy, None, 1, arbiter_bytes, brick_bytes, devices)
    if not arbiter and arbiter_bytes is not None:
        raise ValueError("arbiter_bytes goes with arbiter=True")
    if arbiter and arbiter_bytes is None:
        arbiter_bytes = _arbiter_size(brick_bytes, None, DEFAULT_MIN_BRICK_BYTES)
    devices = sorted(devices, key=lambda d: (d.node_name, d.path, d.device_id))
    nodes = _nodes(devices)
    layout = _layout_name(set_size, arbiter, redundancy)
    summary = (f"cannot add {plural(set_count, 'set')} of {set_size} ({layout}, {format_size(brick_bytes)} bricks) "
               f"to volume {volume_name}")
    if set_count * set_size > max_bricks:
        raise PlacementError(summary, [f"{set_count} more sets of {set_size} would take the volume past the limit of "
                                       f"{DEFAULT_MAX_BRICKS} bricks ({max_bricks} more allowed)"], "add fewer sets")
    _check_nodes(summary, nodes, set_size, layout, redundancy)
    strict_zones, notes = _zones(nodes, set_size)
    try:
        bricks = _place(volume_name, devices, nodes, set_size, set_count, brick_bytes, arbiter_bytes, strict_zones,
                        first_set, existing)
    except SetDidNotFit as f:
        reasons, hint = space_failure(f, nodes, set_size, set_count, brick_bytes, arbiter_bytes, strict_zones,
                                      smaller="add fewer sets")
        raise PlacementError(summary, reasons, hint) from None
    return Plan(bricks=bricks, brick_size=brick_bytes, set_size=set_size, set_count=set_count,
                arbiter_size=arbiter_bytes, redundancy=redundancy, notes=notes)
