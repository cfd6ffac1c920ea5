"""Drift: what the database says against what the agents report (contracts.drift.DriftReport).

Each node's last verified report is kept (NodeReport) and compared with the database when it
arrives and on every health check (the database changes too): every difference is a Finding,
raised as an alert (one open alert per condition, resolved when a later report no longer shows
it) with what to do about it, and offered to `kadalu cluster verify --repair`
(services.drift_repair) when repairing it is safe.

Only what can be judged is judged: a node that is not Online or whose report is older than
STALE_AFTER is not checked (its alerts stay as they were), nor is a volume while a request on it
is in progress, while a task on it is active, or when the report predates its last change."""
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import ValidationError
from sqlmodel import Session, col, select

from contracts.drift import REFRESH_SECONDS, BrickObserved, DaemonObserved, DriftReport, volfile_digest
from contracts.states import NodeState, VolumeState
from contracts.task_kinds import TaskKind
from controlplane.db import utcnow
from controlplane.models import Brick, Cluster, Device, Node, NodeReport, Task, Volume
from controlplane.services import alerts, job_runs, volume_specs
from controlplane.services.tasks import ACTIVE
from volgen import brick_volfile, shd_volfile
from volgen.shd import HEALS_VOLUME_TYPES

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=3 * REFRESH_SECONDS)
# Reports are compared when they arrive; beat compares everything again this often, for changes made
# on the database side only (a volume that settled after its nodes last reported).
EVALUATE_EVERY_SECONDS = 10.0
RUN_STATES = frozenset({VolumeState.STARTED})
STILL_STATES = frozenset({VolumeState.CREATED, VolumeState.STOPPED})
KINDS = ("drift_brick_down", "drift_brick_port", "drift_brick_running", "drift_brick_dir", "drift_volume_id",
         "drift_volfile", "drift_shd_down", "drift_shd_volfile", "drift_device_missing")


@dataclass(frozen=True)
class Finding:
    """One difference. `repair`: what `verify --repair` does ("run" the brick with the database's
    volfiles, "stop" it, "restore_volume_id" then run); `refusal`: why it does nothing instead."""

    kind: str
    node_id: str
    thing: str  # the brick, daemon or device id it concerns
    message: str
    severity: str = "warning"
    volume_id: str | None = None
    brick_id: str | None = None
    repair: str = ""
    refusal: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.node_id}:{self.thing}"


@dataclass
class NodeCheck:
    node: Node
    checked: bool
    why_not: str = ""
    report_age_seconds: float | None = None
    findings: list[Finding] = field(default_factory=list)
    checked_volumes: set[str] = field(default_factory=set)


class Refused(ValueError):
    """A report that claims what its node cannot: bricks of another node, volumes of another cluster."""


def store(session: Session, node: Node, report: DriftReport) -> bool:
    """Keep `report` as the node's latest unless a newer one is stored; refuse one naming bricks that
    are not this node's (the caller commits)."""
    _check_claims(session, node, report)
    row = session.get(NodeReport, node.id)
    if row is not None and row.sent_at >= report.sent_at:
        return False
    row = row or NodeReport(node_id=node.id, cluster_id=node.cluster_id)
    row.sent_at, row.received_at, row.digest = report.sent_at, utcnow(), report.digest
    row.metadata_version, row.content = report.metadata_version, report.model_dump(exclude={"node_id", "sent_at"})
    session.add(row)
    return True


def _check_claims(session: Session, node: Node, report: DriftReport) -> None:
    if report.node_id != node.id:
        raise Refused(f"the report names node {report.node_id}, not its signer {node.id}")
    ids = {b.brick_id for b in report.bricks}
    if ids:
        rows = session.exec(select(Brick.id, Brick.node_id, Brick.cluster_id).where(col(Brick.id).in_(list(ids)))).all()
        for brick_id, node_id, cluster_id in rows:
            if cluster_id != node.cluster_id:
                raise Refused(f"brick {brick_id} belongs to a volume of another cluster")
            if node_id != node.id:
                raise Refused(f"brick {brick_id} belongs to another node")
    volumes = {b.volume_id for b in report.bricks} | {d.volume_id for d in report.daemons}
    if volumes:
        for volume_id, cluster_id in session.exec(select(Volume.id, Volume.cluster_id).where(col(Volume.id).in_(list(volumes)))):
            if cluster_id != node.cluster_id:
                raise Refused(f"volume {volume_id} belongs to another cluster")


def load(row: NodeReport) -> DriftReport | None:
    try:
        return DriftReport.model_validate({**row.content, "node_id": row.node_id, "sent_at": row.sent_at})
    except ValidationError:
        return None


def check_node(session: Session, node: Node) -> NodeCheck:
    if node.state != NodeState.ONLINE:
        return NodeCheck(node, False, f"node is {node.state}")
    row = session.get(NodeReport, node.id)
    if row is None:
        return NodeCheck(node, False, "no drift report from this node yet (an agent older than the control plane?)")
    age = utcnow() - row.received_at
    report = load(row)
    if report is None:
        return NodeCheck(node, False, "its stored report does not fit the report contract any more")
    if age > STALE_AFTER:
        return NodeCheck(node, False, f"its last report is {age.total_seconds():.0f} s old", age.total_seconds())
    check = NodeCheck(node, True, report_age_seconds=age.total_seconds())
    cluster = session.get(Cluster, node.cluster_id)
    _check_bricks(session, check, report, cluster.metadata_version if cluster else 0)
    _check_devices(session, check, report)
    return check


def _settled(session: Session, volume: Volume, report: DriftReport) -> bool:
    if volume.state not in RUN_STATES | STILL_STATES:
        return False
    if volume.updated_at.timestamp() >= report.sent_at:
        return False  # the report was made before the volume's last change
    busy = session.exec(select(Task.id).where(col(Task.volume_id) == volume.id, col(Task.phase).in_(ACTIVE),
                                              col(Task.kind) != TaskKind.REPAIR_BRICK.value)).first()
    return busy is None


def _check_bricks(session: Session, check: NodeCheck, report: DriftReport, current_version: int) -> None:
    node = check.node
    seen = {b.brick_id: b for b in report.bricks}
    daemons = {d.volume_id: d for d in report.daemons}
    mine = list(session.exec(select(Brick).where(col(Brick.node_id) == node.id).order_by(col(Brick.volume_id), col(Brick.idx))))
    volumes = {v.id: v for v in session.exec(select(Volume).where(col(Volume.id).in_({b.volume_id for b in mine})))}
    cluster = session.get(Cluster, node.cluster_id)
    cname = cluster.name if cluster else node.cluster_id
    for volume_id, volume in volumes.items():
        if not _settled(session, volume, report):
            continue
        bricks = [b for b in mine if b.volume_id == volume_id]
        if any(b.id not in seen for b in bricks) and report.metadata_version < current_version:
            continue  # the agent has not learned of this volume yet
        check.checked_volumes.add(volume_id)
        vspec = volume_specs.spec(session, volume)
        specs = {b.id: b for b in vspec.bricks}
        for brick in bricks:
            obs = seen.get(brick.id)
            expected = volfile_digest(brick_volfile(vspec, specs[brick.id], node.id))
            check.findings += _brick_findings(session, volume, brick, obs, expected, node, cname)
        if volume.state in RUN_STATES and volume.type in HEALS_VOLUME_TYPES:
            check.findings += _shd_findings(volume, bricks[0], daemons.get(volume_id), volfile_digest(shd_volfile(vspec)),
                                            node, cname)


def _brick_findings(session: Session, volume: Volume, brick: Brick, obs: BrickObserved | None, expected_volfile: str,
                    node: Node, cname: str) -> list[Finding]:
    where = f"brick {node.name}:{brick.path} of volume {volume.name}"
    verify = f"`kadalu cluster verify -c {cname} --repair`"
    f = lambda kind, msg, **kw: Finding(kind, node.id, brick.id, msg, volume_id=volume.id, brick_id=brick.id, **kw)  # noqa: E731
    out: list[Finding] = []
    running = volume.state in RUN_STATES
    if obs is None:
        if running:
            out.append(f("drift_brick_down", f"{where} is not reported by its node's agent (its metadata copy lacks "
                         f"it): {verify} sends it the brick", repair="run"))
        return out
    if obs.directory != "ok":
        what = {"missing": "is missing", "not_a_directory": "is not a directory",
                "unreadable": "cannot be read (or lies outside the node's devices)"}[obs.directory]
        out.append(f("drift_brick_dir", f"the directory of {where} {what}: check that its device is mounted, then "
                     f"restart the brick with {verify}", severity="critical",
                     refusal="kadalu does not recreate a brick directory: the data it held would be gone"))
    elif obs.volume_id_xattr != volume.id:
        out.append(_volume_id_finding(session, volume, brick, obs, where, verify, f))
    if not running:
        if obs.pid:
            out.append(f("drift_brick_running", f"{where} runs (pid {obs.pid}) but the volume is {volume.state}: "
                         f"{verify} stops it, or start the volume", repair="stop"))
        return out
    if not obs.pid or not obs.listening:
        state = "is not running" if not obs.pid else f"runs (pid {obs.pid}) but does not accept connections"
        out.append(f("drift_brick_down", f"{where} {state}: {verify} restarts it", repair="run"))
    if obs.pid and obs.port and obs.port != brick.port:
        out.append(f("drift_brick_port", f"{where} runs on port {obs.port}, the database says {brick.port} (clients "
                     f"connect there): {verify} restarts it on {brick.port}", repair="run"))
    if obs.volfile_sha256 != expected_volfile:
        state = "is missing" if not obs.volfile_sha256 else "differs from what the database generates"
        out.append(f("drift_volfile", f"the volfile of {where} {state}: {verify} rewrites it (a running brick keeps "
                     "the graph it started with; a brick restart applies it)", repair="run"))
    return out


def _volume_id_finding(session: Session, volume: Volume, brick: Brick, obs: BrickObserved, where: str, verify: str,
                       f) -> Finding:
    held = obs.volume_id_xattr
    if not held:
        if obs.has_glusterfs_dir:
            return f("drift_volume_id", f"{where} lost its volume-id xattr (trusted.glusterfs.volume-id): the brick "
                     f"cannot start without it; {verify} writes it back (.glusterfs shows the directory is this "
                     "brick's)", severity="critical", repair="restore_volume_id")
        return f("drift_volume_id", f"{where} has no volume-id xattr and no .glusterfs: an empty directory where the "
                 "brick was (is its device mounted?)", severity="critical",
                 refusal="the directory does not look like this brick's: mount its device, then verify again")
    other = session.get(Volume, held) if not held.startswith(("?", "!")) else None
    if held.startswith("!"):
        whose = f"cannot be read ({held[1:]})"
    elif other is not None and other.cluster_id == volume.cluster_id:
        whose = f"holds the id of volume {other.name}"
    else:
        whose = f"holds {held.lstrip('?')}, an id this cluster does not know"
    return f("drift_volume_id", f"the volume-id xattr of {where} {whose}: find out whose data is in {brick.path}; "
             "glusterfsd refuses to start on it", severity="critical",
             refusal="kadalu never overwrites a volume id that is not this volume's: it may mark another volume's data")


def _shd_findings(volume: Volume, first: Brick, obs: DaemonObserved | None, expected: str, node: Node,
                  cname: str) -> list[Finding]:
    verify = f"`kadalu cluster verify -c {cname} --repair`"
    f = lambda kind, msg: Finding(kind, node.id, f"shd-{volume.id}", msg, volume_id=volume.id, brick_id=first.id,  # noqa: E731
                                  repair="run")
    if obs is None or not obs.pid:
        return [f("drift_shd_down", f"the self-heal daemon of volume {volume.name} on node {node.name} is not running: "
                  f"files changed while a brick was down are not healed; {verify} starts it")]
    if obs.volfile_sha256 != expected:
        return [f("drift_shd_volfile", f"the self-heal daemon volfile of volume {volume.name} on node {node.name} "
                  f"{'is missing' if not obs.volfile_sha256 else 'differs from the database'}: {verify} rewrites it "
                  "(and restarts the daemon)")]
    return []


def _check_devices(session: Session, check: NodeCheck, report: DriftReport) -> None:
    node = check.node
    seen = {d.device_id: d for d in report.devices}
    for dev in session.exec(select(Device).where(col(Device.node_id) == node.id, col(Device.state) == "Ready")):
        if dev.created_at.timestamp() >= report.sent_at:
            continue
        obs = seen.get(dev.id)
        if obs is not None and obs.present:
            continue
        what = "is not in its agent's device registry" if obs is None else "is missing or not what was registered"
        check.findings.append(Finding(
            "drift_device_missing", node.id, dev.id, f"device {node.name}:{dev.path} {what}: mount it again (or "
            "re-create the directory); bricks on it cannot run", severity="critical",
            refusal="a device is the operator's to mount: kadalu does not recreate it"))


def check_cluster(session: Session, cluster_id: str) -> list[NodeCheck]:
    nodes = session.exec(select(Node).where(col(Node.cluster_id) == cluster_id).order_by(col(Node.name)))
    return [check_node(session, n) for n in nodes]


def raise_alerts(session: Session, checks: list[NodeCheck]) -> int:
    """Raise every finding of the nodes checked and resolve their drift alerts that no longer hold,
    within what was checked (a skipped volume keeps its alerts). The caller commits."""
    raised = 0
    for check in checks:
        if not check.checked:
            continue
        node = check.node
        holding = set()
        for finding in check.findings:
            alerts.record(session, node.cluster_id, finding.kind[:32], finding.message, finding.severity,
                          node_id=node.id, volume_id=finding.volume_id, key=finding.key)
            holding.add(finding.key)
            raised += 1
        for (cluster_id, key), alert in alerts.open_keys(session, "drift_").items():
            if cluster_id != node.cluster_id or alert.node_id != node.id or key in holding or alert.kind not in KINDS:
                continue
            if alert.volume_id is None or alert.volume_id in check.checked_volumes:
                alerts.resolve(session, cluster_id, key)
    return raised


def evaluate_all(session: Session, every_seconds: float = EVALUATE_EVERY_SECONDS) -> int:
    """Beat's part: compare every cluster again (the database changes too), at most every
    `every_seconds` however often the health check runs; commits. Returns the findings raised."""
    last = job_runs.last_runs(session).get("drift_check")
    if last is not None and time.time() - last < every_seconds:
        return 0
    raised = 0
    for cluster_id in session.exec(select(Cluster.id)).all():
        raised += raise_alerts(session, check_cluster(session, cluster_id))
    session.commit()
    job_runs.finished(session, "drift_check")
    return raised


def receive(session: Session, node: Node, report: DriftReport) -> bool:
    """A verified report arrived: store it, compare the node, raise and resolve; commits."""
    try:
        stored = store(session, node, report)
    except Refused as exc:
        session.rollback()
        log.warning("refused a drift report from node %s: %s", node.name, exc)
        alerts.record(session, node.cluster_id, "drift_report_refused", f"node {node.name} sent a drift report that "
                      f"claims what it cannot ({exc}): a forged or corrupted agent; check the node",
                      severity="critical", node_id=node.id, key=f"drift_report_refused:{node.id}")
        session.commit()
        return False
    if stored:
        session.flush()
        raise_alerts(session, [check_node(session, node)])
    session.commit()
    return stored
