"""Volume planning: the layout (type and set size) from the request, brick validation, ports.

Everything here runs in the server (the CLI only parses). Each refusal names the offending
brick and says how to fix it."""
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, col, select

from controlplane.models import Brick, Cluster, Device, Node, Volume
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.names import check_abs_path

MAX_BRICKS = 1024


@dataclass(frozen=True)
class Layout:
    type: str
    replica_count: int = 1
    arbiter_count: int = 0
    disperse_count: int = 0
    redundancy_count: int = 0

    @property
    def set_size(self) -> int:
        if self.type == "disperse":
            return self.disperse_count
        return self.replica_count if self.type in ("replicate", "arbiter") else 1


def layout_of(volume: Volume) -> Layout:
    return Layout(volume.type, volume.replica_count, volume.arbiter_count, volume.disperse_count,
                  volume.redundancy_count)


def set_size(volume: Volume) -> int:
    """Bricks per replica/disperse set (1 for distribute): consecutive bricks form a set."""
    return layout_of(volume).set_size


def layout(replica: int | None, arbiter: int | None, disperse: int | None, redundancy: int | None) -> Layout:
    if replica is not None and disperse is not None:
        raise Invalid("give either `replica` or `disperse`, not both")
    if redundancy is not None and disperse is None:
        raise Invalid("`redundancy` goes with `disperse` (the bricks per set)")
    if arbiter is not None:
        if arbiter != 1 or replica != 3:
            raise Invalid("an arbiter volume is `replica` 3 with `arbiter` 1 (the last brick of each set is the arbiter)")
        return Layout("arbiter", replica_count=3, arbiter_count=1)
    if replica is not None:
        if replica not in (2, 3):
            raise Invalid(f"`replica` {replica} is not supported: use 2 or 3 (or no `replica` for a distribute volume)")
        return Layout("replicate", replica_count=replica)
    if disperse is not None:
        r = 1 if redundancy is None else redundancy
        if disperse < 3:
            raise Invalid(f"`disperse` {disperse} is too small: use 3 or more bricks per set")
        if r < 1 or 2 * r >= disperse:
            raise Invalid(
                f"redundancy {r} is not valid for disperse {disperse}: it must be at least 1 and less than half the "
                f"disperse count (for `disperse` {disperse} use `redundancy` 1..{(disperse - 1) // 2})"
            )
        return Layout("disperse", disperse_count=disperse, redundancy_count=r)
    return Layout("distribute")


def parse_brick(raw: str) -> tuple[str, str]:
    node, sep, path = raw.partition(":")
    if not sep or not node or not path:
        raise Invalid(f"brick {raw!r} is not NODE:/PATH: write each brick as node1:/exports/b1")
    return node, check_abs_path(f"brick {raw!r}: path", path)


def _nested(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


class Placed(NamedTuple):
    """One brick of a plan: its node, its path, and the Ready directory device holding it."""

    node: Node
    path: str
    device_id: str


def device_for(devices: list[Device], cluster: Cluster, node: Node, path: str) -> Device:
    """The Ready directory device (of `devices`, those of `node`) that `path` lies strictly inside.
    A node's agent acts only inside devices it accepted, so a brick anywhere else (an existing
    directory of the node, the device directory itself) is refused here, before any task is sent."""
    brick = f"{node.name}:{path}"
    for dev in devices:
        if path == dev.path:
            raise Invalid(f"brick {brick} is the device directory {dev.path} itself: give a directory inside it, "
                          f"e.g. {node.name}:{dev.path}/<volume-name>")
        if _nested(dev.path, path) and not path.startswith(dev.path + "/"):
            raise Invalid(f"brick {brick} contains device {dev.path}: give a directory inside the device, "
                          f"e.g. {node.name}:{dev.path}/<volume-name>")
        if path.startswith(dev.path + "/"):
            if dev.kind != "directory":
                raise Invalid(f"brick {brick} is inside block device {dev.path}: bricks go in directory devices; "
                              f"add one with `kadalu device add -c {cluster.name} {node.name} --path DIR --wait`")
            if dev.state != "Ready":
                raise Invalid(f"brick {brick} is on device {dev.path}, which is {dev.state}, not Ready: "
                              f"{'wait for it' if dev.state == 'Adding' else 'add it again'} "
                              f"(`kadalu device list -c {cluster.name} --node {node.name}`)")
            return dev
    ready = [d.path for d in devices if d.kind == "directory" and d.state == "Ready"]
    known = f"its Ready devices are {', '.join(ready[:5])}" if ready else "it has no Ready directory device"
    raise Invalid(f"brick {brick} is not inside a registered device of node {node.name} ({known}): register the "
                  f"brick's parent directory with `kadalu device add -c {cluster.name} {node.name} --path DIR --wait`, "
                  "then give bricks below it")


def resolve_bricks(session: Session, cluster: Cluster, raw: list[str], lay: Layout, force: bool) -> list[Placed]:
    if not raw:
        raise Invalid("no bricks given: list them as NODE:/PATH")
    if len(raw) > MAX_BRICKS:
        raise Invalid(f"{len(raw)} bricks is more than the {MAX_BRICKS} a volume may have")
    n = lay.set_size
    if len(raw) % n:
        raise Invalid(
            f"{len(raw)} bricks do not make whole sets of {n} ({lay.type}): give a multiple of {n} bricks"
        )
    nodes = {x.name: x for x in session.exec(select(Node).where(col(Node.cluster_id) == cluster.id))}
    bricks: list[tuple[Node, str]] = []
    for item in raw:
        name, path = parse_brick(item)
        if name not in nodes:
            raise NotFound(f"brick {item}: node {name!r} is not in cluster {cluster.name!r}: "
                           f"`kadalu node list -c {cluster.name}`")
        for other_node, other_path in bricks:
            if other_node.name == name and _nested(other_path, path):
                what = "is given twice" if other_path == path else f"is nested with brick {name}:{other_path}"
                raise Invalid(f"brick {name}:{path} {what}: give each brick its own separate directory")
        bricks.append((nodes[name], path))
    if not force:
        for k in range(0, len(bricks), n):
            seen: dict[str, str] = {}
            for node, path in bricks[k : k + n]:
                if node.name in seen:
                    raise Invalid(
                        f"bricks {node.name}:{seen[node.name]} and {node.name}:{path} are in the same {lay.type} set on one "
                        "node: losing that node loses both; put them on different nodes, or set `force`"
                    )
                seen[node.name] = path
    devices: dict[str, list[Device]] = {}
    for dev in session.exec(select(Device).where(col(Device.cluster_id) == cluster.id)):
        devices.setdefault(dev.node_id, []).append(dev)
    return [Placed(node, path, device_for(devices.get(node.id, []), cluster, node, path).id) for node, path in bricks]


def lock_nodes(session: Session, node_ids: set[str]) -> None:
    """Serialise planners touching the same nodes: row locks taken in one order (node id) on
    PostgreSQL, so two planners can never hold one each and wait for the other's (an UPDATE ... IN
    locks rows in whatever order it finds them); the database write lock on SQLite."""
    ids = sorted(node_ids)
    if session.get_bind().dialect.name != "sqlite":
        # FOR NO KEY UPDATE: planners exclude each other, while a transaction inserting tasks or bricks of
        # these nodes (its foreign key takes KEY SHARE on each, in brick order) goes on; FOR UPDATE would
        # wait for those, and they for it: a deadlock seen under load (bench/load.py)
        session.exec(select(Node.id).where(col(Node.id).in_(ids)).order_by(col(Node.id))
                     .with_for_update(key_share=True)).all()
    session.execute(update(Node).where(col(Node.id).in_(ids)).values(allocation_seq=Node.allocation_seq + 1))


def check_not_used(session: Session, bricks: list[Placed]) -> None:
    by_node: dict[str, list[str]] = {}
    for node, path, _ in bricks:
        by_node.setdefault(node.id, []).append(path)
    rows = session.exec(select(Brick, Volume.name).join(Volume, col(Volume.id) == Brick.volume_id)
                        .where(col(Brick.node_id).in_(list(by_node))))
    for brick, vol_name in rows:
        for path in by_node[brick.node_id]:
            if _nested(brick.path, path):
                node = next(p.node for p in bricks if p.node.id == brick.node_id)
                relation = "is" if brick.path == path else "overlaps"
                raise Conflict(
                    f"brick {node.name}:{path} {relation} brick {brick.path} of volume {vol_name!r}: "
                    "pick a directory outside every other brick"
                )


def allocate_ports(session: Session, bricks: list[Placed], base: int, last: int) -> list[int]:
    """Lowest free ports per node; the unique (node, port) constraint makes a double grant impossible."""
    used: dict[str, set[int]] = {}
    for node, _, _ in bricks:
        if node.id not in used:
            used[node.id] = set(session.exec(select(Brick.port).where(col(Brick.node_id) == node.id)))
    ports = []
    for node, path, _ in bricks:
        port = base
        while port in used[node.id]:
            port += 1
        if port > last:
            raise Conflict(f"node {node.name} has no free brick port in {base}-{last} for {path}: "
                           "raise KADALU_BRICK_PORT_LAST or lower KADALU_BRICK_PORT_BASE")
        used[node.id].add(port)
        ports.append(port)
    return ports
