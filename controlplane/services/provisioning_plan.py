"""What the brick planner (`provisioning_planner`) takes and gives: the candidate devices, the plan,
and the error that says why a volume cannot be placed. Plain dataclasses, no database."""
from __future__ import annotations

from dataclasses import dataclass, field

from contracts.sizes import format_size
from controlplane.services.errors import ServiceError


@dataclass(frozen=True)
class DeviceCandidate:
    device_id: str
    node_id: str
    node_name: str
    zone: str | None
    path: str
    free_bytes: int
    reserved_bytes: int  # already promised to planned bricks (of other volumes)

    @property
    def usable_bytes(self) -> int:
        return max(0, self.free_bytes - self.reserved_bytes)


@dataclass(frozen=True)
class PlannedBrick:
    device_id: str
    node_id: str
    node_name: str
    path: str
    size_bytes: int
    set_index: int
    arbiter: bool


@dataclass(frozen=True)
class Plan:
    bricks: list[PlannedBrick]
    brick_size: int
    set_size: int
    set_count: int
    arbiter_size: int | None
    redundancy: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Raw space the plan takes from the devices."""
        return sum(b.size_bytes for b in self.bricks)

    def reservations(self) -> dict[str, int]:
        """Bytes to reserve on each device (device_id -> bytes), in the transaction that plans."""
        out: dict[str, int] = {}
        for b in self.bricks:
            out[b.device_id] = out.get(b.device_id, 0) + b.size_bytes
        return out

    def describe(self) -> list[str]:
        """Human-readable lines for `--dry-run`."""
        lines = [
            f"{self.set_count} set(s) of {self.set_size} brick(s), data bricks of {format_size(self.brick_size)}"
            + (f", arbiter bricks of {format_size(self.arbiter_size)}" if self.arbiter_size is not None else "")
            + f"; {format_size(self.total_bytes)} of raw space"
        ]
        for b in self.bricks:
            kind = " (arbiter)" if b.arbiter else ""
            lines.append(f"  set {b.set_index}: {b.node_name}:{b.path}  {format_size(b.size_bytes)}{kind}")
        lines.extend(f"note: {n}" for n in self.notes)
        return lines


class PlacementError(ServiceError):
    """The volume cannot be placed on the candidate devices.

    ``summary`` is the headline, ``reasons`` say what is missing, ``hint`` what would fix it;
    ``message`` (and ``str()``) joins them, so the API's error handler shows everything."""

    status = 409

    def __init__(self, summary: str, reasons: list[str], hint: str):
        self.summary = summary
        self.reasons = list(reasons)
        self.hint = hint
        text = summary
        if self.reasons:
            text += ": " + "; ".join(self.reasons)
        if hint:
            text += ". Fix: " + hint
        super().__init__(text)


@dataclass
class CandidateNode:
    node_id: str
    name: str
    zone: str | None
    devices: list[DeviceCandidate]


class SetDidNotFit(Exception):
    def __init__(self, set_index: int, remaining: dict[str, int], placed: int):
        super().__init__(set_index)
        self.set_index = set_index
        self.remaining = remaining  # usable bytes per device before this set was tried
        self.placed = placed  # sets placed before this one
