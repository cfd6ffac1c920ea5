"""`volume create --size`: choose bricks from registered devices, reserving their space in the
transaction that plans, so concurrent requests never over-commit a device."""
from sqlmodel import Session, col, select

from contracts.sizes import SizeError, parse_size
from contracts.states import DeviceState, NodeState
from controlplane.models import Brick, Cluster, Device, Node
from controlplane.services import volume_plan
from controlplane.services.errors import Invalid
from controlplane.services.provisioning_plan import DeviceCandidate, Plan
from controlplane.services.provisioning_planner import plan_volume


def size_of(text: str) -> int:
    """`--size` in bytes (GiB = 2^30, GB = 10^9; see contracts.sizes)."""
    try:
        return parse_size(text)
    except SizeError as exc:
        raise Invalid(str(exc)) from None


def candidates(session: Session, cluster: Cluster) -> list[DeviceCandidate]:
    """Ready directory devices on Online nodes (a node that is down cannot create a brick now)."""
    rows = session.exec(
        select(Device, Node).join(Node, col(Node.id) == Device.node_id)
        .where(col(Device.cluster_id) == cluster.id, col(Device.state) == DeviceState.READY,
               col(Device.kind) == "directory", col(Node.state) == NodeState.ONLINE)
    )
    return [DeviceCandidate(device_id=d.id, node_id=n.id, node_name=n.name, zone=n.zone or None, path=d.path,
                            free_bytes=d.free_bytes, reserved_bytes=d.reserved_bytes) for d, n in rows]


def plan(session: Session, cluster: Cluster, name: str, size: str, lay: volume_plan.Layout,
         distribute: int | None) -> Plan:
    volume_plan.lock_nodes(session, set(session.exec(select(Node.id).where(col(Node.cluster_id) == cluster.id))))
    return plan_volume(name, size_of(size), lay.set_size, lay.type == "arbiter", candidates(session, cluster),
                       distribute_count=distribute, redundancy=lay.redundancy_count)


def reserve(session: Session, the_plan: Plan, bricks: list[Brick]) -> None:
    """Record which device holds each planned brick and promise its space (same transaction)."""
    for planned, brick in zip(the_plan.bricks, bricks, strict=True):
        brick.device_id, brick.reserved_bytes = planned.device_id, planned.size_bytes
        session.add(brick)
    for device_id, amount in the_plan.reservations().items():
        device = session.get(Device, device_id)
        assert device is not None  # planned from the rows read in this transaction
        device.reserved_bytes += amount
        session.add(device)


def release(session: Session, bricks: list[Brick]) -> None:
    for brick in bricks:
        if brick.device_id and brick.reserved_bytes:
            device = session.get(Device, brick.device_id)
            if device is not None:
                device.reserved_bytes = max(0, device.reserved_bytes - brick.reserved_bytes)
                session.add(device)
