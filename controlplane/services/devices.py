"""Devices: a directory or a block device on a node, validated by the node's agent."""
from sqlmodel import Session, col, select

from contracts.device_paths import denied_problem
from contracts.states import DeviceState
from contracts.task_kinds import TaskKind
from controlplane.models import Brick, Cluster, Device, Node, Task
from controlplane.services import metadata, pages, tasks
from controlplane.services.access import READ, WRITE, Access
from controlplane.services.errors import Conflict, Invalid, NotFound
from controlplane.services.names import check_abs_path
from controlplane.services.transitions import DEVICE


def refs(device: Device) -> tuple[tuple[str, str], ...]:
    return (("node", device.node_id), ("device", device.id))


def _nested(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def add(session: Session, *, access: Access, cluster: Cluster, node: Node, path: str | None = None,
        device: str | None = None) -> tuple[Device, Task]:
    access.require(WRITE, cluster.id, f"add a device to node {node.name!r}", (("node", node.id),))
    if (path is None) == (device is None):
        raise Invalid("give exactly one of 'path' (a directory) or 'device' (a block device such as /dev/vdc)")
    kind = "directory" if path is not None else "block"
    wanted = check_abs_path("device path" if path is not None else "block device", path or device or "")
    # Defence in depth: the node's agent checks its own allowed roots and has the last word.
    problem = denied_problem(wanted, kind)
    if problem:
        raise Invalid(f"{'device path' if kind == 'directory' else 'block device'} {wanted!r} {problem}")
    existing = list(session.exec(select(Device).where(col(Device.node_id) == node.id)))
    retry = None
    for dev in existing:
        if dev.path == wanted and dev.state == DeviceState.FAILED:
            retry = dev  # adding a failed device again retries it
        elif _nested(dev.path, wanted):
            raise Conflict(
                f"{wanted} overlaps device {dev.path} already registered on node {node.name!r} ({dev.state}): "
                "a device cannot be inside another; pick a separate directory or remove the old device"
            )
    if retry is not None:
        dev = retry
        DEVICE.move(dev, DeviceState.ADDING, "")
    else:
        dev = Device(cluster_id=cluster.id, node_id=node.id, path=wanted, kind=kind, state=DeviceState.ADDING)
    dev.kind = kind
    session.add(dev)
    session.flush()
    task = tasks.new_task(session, node, TaskKind.ADD_DEVICE, {"device_id": dev.id, "path": wanted, "kind": kind})
    dev.task_id = task.id
    metadata.changed(session, cluster.id, device_id=dev.id)
    session.commit()
    return dev, task


def added(session: Session, task: Task, data: dict) -> None:
    dev = session.get(Device, task.spec["device_id"])
    if dev is None or not DEVICE.can(dev.state, DeviceState.READY):
        return
    DEVICE.move(dev, DeviceState.READY, "")
    dev.size_bytes = int(data.get("size_bytes", 0))
    dev.free_bytes = int(data.get("free_bytes", 0))
    session.add(dev)
    metadata.changed(session, dev.cluster_id, device_id=dev.id)


def add_failed(session: Session, task: Task) -> None:
    dev = session.get(Device, task.spec["device_id"])
    if dev is not None and DEVICE.can(dev.state, DeviceState.FAILED):
        DEVICE.move(dev, DeviceState.FAILED, task.reason)
        session.add(dev)
        metadata.changed(session, dev.cluster_id, device_id=dev.id)


def get(session: Session, access: Access, cluster: Cluster, device_id: str) -> Device:
    dev = session.get(Device, device_id)
    if dev is None or dev.cluster_id != cluster.id or not access.sees_resource(cluster.id, refs(dev)):
        raise NotFound(f"device {device_id!r} not found in cluster {cluster.name!r}: `kadalu device list -c {cluster.name}`")
    return dev


def list_visible(session: Session, access: Access, cluster: Cluster, node: Node | None) -> list[Device]:
    stmt = select(Device).where(col(Device.cluster_id) == cluster.id)
    if node is not None:
        stmt = stmt.where(col(Device.node_id) == node.id)
    devs = session.exec(stmt.join(Node, col(Node.id) == Device.node_id).order_by(col(Node.name), col(Device.path)))
    return [d for d in devs if access.resource_rank(cluster.id, refs(d)) >= READ]


def page_visible(session: Session, access: Access, cluster: Cluster, node: Node | None, limit: int,
                 cursor: str | None) -> tuple[list[Device], str | None]:
    """One page of `list_visible` (controlplane/services/pages.py)."""
    stmt = select(Device, Node.name).join(Node, col(Node.id) == Device.node_id).where(col(Device.cluster_id) == cluster.id)
    if node is not None:
        stmt = stmt.where(col(Device.node_id) == node.id)
    rows: list[tuple[Device, str]]
    rows, after = pages.page(session, stmt, (col(Node.name), col(Device.path)), lambda r: (r[1], r[0].path), limit, cursor,
                             lambda r: access.resource_rank(cluster.id, refs(r[0])) >= READ)
    return [r[0] for r in rows], after


def remove(session: Session, *, access: Access, cluster: Cluster, dev: Device, force: bool = False) -> Task | None:
    access.require(WRITE, cluster.id, f"remove device {dev.path}", refs(dev))
    holding = session.exec(select(Brick).where(col(Brick.node_id) == dev.node_id)).all()
    inside = [b.path for b in holding if b.device_id == dev.id or _nested(b.path, dev.path)]
    if inside:
        raise Conflict(f"device {dev.path} holds bricks ({', '.join(inside[:3])}): delete their volumes first")
    if force or dev.state == DeviceState.FAILED:
        session.delete(dev)
        metadata.changed(session, cluster.id, device_id=dev.id)
        session.commit()
        return None
    if dev.state in DEVICE.in_progress:
        raise Conflict(
            f"device {dev.path} is {dev.state.lower()} (task {dev.task_id}): wait for it, or remove it with `force` "
            "to drop the registration without asking the agent"
        )
    DEVICE.move(dev, DeviceState.REMOVING)
    node = session.get(Node, dev.node_id)
    assert node is not None  # a device row goes with its node (ON DELETE CASCADE)
    task = tasks.new_task(session, node, TaskKind.REMOVE_DEVICE, {"device_id": dev.id, "path": dev.path, "kind": dev.kind})
    dev.task_id = task.id
    session.add(dev)
    metadata.changed(session, cluster.id, device_id=dev.id)
    session.commit()
    return task


def removed(session: Session, task: Task, data: dict) -> None:
    dev = session.get(Device, task.spec["device_id"])
    if dev is not None:
        metadata.changed(session, dev.cluster_id, device_id=dev.id)
        session.delete(dev)


def remove_failed(session: Session, task: Task) -> None:
    dev = session.get(Device, task.spec["device_id"])
    if dev is not None and DEVICE.can(dev.state, DeviceState.READY):
        DEVICE.move(dev, DeviceState.READY, f"remove failed: {task.reason}")
        session.add(dev)
        metadata.changed(session, dev.cluster_id, device_id=dev.id)
