"""Why a volume does not fit the devices, in words: the reasons and the hint of a PlacementError
when a set finds no room (`provisioning_planner.plan_volume`)."""
from __future__ import annotations

from collections import defaultdict

from contracts.sizes import format_size
from controlplane.services.provisioning_plan import CandidateNode, DeviceCandidate, SetDidNotFit

LIST_LIMIT = 6  # nodes listed by name in a failure reason before "and N more"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def names(items: list[str]) -> str:
    if len(items) <= LIST_LIMIT:
        return ", ".join(items)
    return ", ".join(items[:LIST_LIMIT]) + f" and {len(items) - LIST_LIMIT} more"


def _node_best(node: CandidateNode, remaining: dict[str, int]) -> tuple[int, DeviceCandidate]:
    best = max(node.devices, key=lambda d: (remaining[d.device_id], d.path))
    return remaining[best.device_id], best


def _node_label(node: CandidateNode, remaining: dict[str, int], with_zone: bool) -> str:
    free, dev = _node_best(node, remaining)
    text = f"{node.name} {format_size(free)}"
    extra = []
    if with_zone:
        extra.append(f"zone {node.zone}" if node.zone else "no zone")
    if dev.reserved_bytes > 0:
        extra.append(f"{format_size(dev.reserved_bytes)} of {format_size(dev.free_bytes)} already reserved")
    if extra:
        text += " (" + ", ".join(extra) + ")"
    return text


def space_failure(f: SetDidNotFit, nodes: dict[str, CandidateNode], set_size: int, set_count: int, brick: int,
                   arbiter_size: int | None, strict_zones: bool,
                   smaller: str = "ask for a smaller size") -> tuple[list[str], str]:
    """Reasons and hint for a set that does not fit in the space left; `smaller` is the last way out
    the hint offers (an expand adds sets of a fixed brick size: "add fewer sets")."""
    rem = f.remaining
    n_data = set_size - (1 if arbiter_size is not None else 0)
    ordered = sorted(nodes.values(), key=lambda n: (-_node_best(n, rem)[0], n.name))
    data_ok = [n for n in ordered if _node_best(n, rem)[0] >= brick]
    others = [n for n in ordered if _node_best(n, rem)[0] < brick]
    where = "free on one device"
    after = ""
    reasons: list[str] = []
    if f.placed:
        reasons.append(f"{f.placed} of {set_count} sets fit, set {f.set_index} does not fit in the space left")
        after = " left"
    found = ", ".join(_node_label(n, rem, strict_zones) for n in data_ok[:LIST_LIMIT])
    if len(data_ok) > LIST_LIMIT:
        found += f" and {len(data_ok) - LIST_LIMIT} more"
    short = "; too little on " + names([_node_label(n, rem, strict_zones) for n in others]) if others else ""
    need_brick = format_size(brick, round_up=True)
    hint_size = need_brick
    if len(data_ok) < n_data:
        reasons.append(
            f"need {plural(n_data, 'node')} with >= {need_brick}{after} {where}{' each' if n_data > 1 else ''}, "
            f"found {len(data_ok)}"
            + (f" ({found})" if data_ok else "") + short
        )
        missing = n_data - len(data_ok)
    elif arbiter_size is not None and sum(1 for n in ordered if _node_best(n, rem)[0] >= arbiter_size) < set_size:
        arb_ok = [n for n in ordered if _node_best(n, rem)[0] >= arbiter_size]
        reasons.append(
            f"need a third node with >= {format_size(arbiter_size, round_up=True)}{after} {where} for the arbiter brick, "
            f"found only {names([n.name for n in arb_ok])} with enough space{short}"
        )
        missing, hint_size = 1, format_size(arbiter_size, round_up=True)
    else:
        missing = 0
    if strict_zones and not missing:
        zones: dict[str, list[str]] = defaultdict(list)
        for n in ordered:
            if _node_best(n, rem)[0] >= (arbiter_size if arbiter_size is not None else brick):
                zones[n.zone or ""].append(n.name)
        data_zones = {n.zone for n in data_ok}
        listing = "; ".join(f"{z}: {names(sorted(ns))}" for z, ns in sorted(zones.items()))
        reasons.append(
            f"zone constraint: a set needs its {set_size} bricks in {set_size} distinct zones, but nodes with "
            f"enough space{after} are in {len(zones)} zone(s) ({listing})"
            + (f", {len(data_zones)} of them with room for a {need_brick} data brick" if arbiter_size is not None else "")
        )
        hint = (
            f"register a device with at least {need_brick} free on a node in another zone (`kadalu device add`), "
            f"or free space on nodes in {set_size} distinct zones"
        )
        return reasons, hint
    if not reasons or (f.placed and len(reasons) == 1):
        reasons.append(f"no placement of {set_size} bricks of {need_brick} on distinct nodes fits")
    target = "another node" if missing == 1 else f"{missing} more nodes" if missing > 1 else "more nodes"
    hint = (
        f"register a device with at least {hint_size} free on {target} (`kadalu device add`), "
        f"free space on the listed devices, or {smaller}"
    )
    return reasons, hint
