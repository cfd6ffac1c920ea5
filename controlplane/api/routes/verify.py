"""`kadalu cluster verify`: the database compared with what the agents report, and `--repair`."""
from fastapi import APIRouter
from pydantic import BaseModel

from controlplane.api.deps import CurrentAccess, SessionDep
from controlplane.api.errors import errors
from controlplane.services import clusters, drift_repair

router = APIRouter(prefix="/clusters", tags=["clusters"])


class VerifyRequest(BaseModel):
    repair: bool = False  # make the nodes match the database where that is safe (maintainer role)


class DriftFinding(BaseModel):
    kind: str
    key: str
    node: str
    volume_id: str | None
    brick_id: str | None
    severity: str
    message: str
    repair: str  # run | stop | restore_volume_id | "" (nothing kadalu may do by itself)
    refusal: str  # why no automatic repair, when there is none


class NodeVerified(BaseModel):
    node: str
    state: str
    checked: bool
    why_not: str  # when not checked
    report_age_seconds: float | None
    findings: int


class RepairSent(BaseModel):
    brick_id: str
    node: str
    action: str
    restore_volume_id: bool
    task_id: str | None
    kinds: list[str]


class RepairRefused(BaseModel):
    key: str
    kind: str
    node: str
    reason: str


class Verification(BaseModel):
    cluster: str
    in_sync: bool  # every node checked and nothing differs
    nodes: list[NodeVerified]
    findings: list[DriftFinding]
    repairs: list[RepairSent]
    refused: list[RepairRefused]


@router.post("/{cluster}/verify", response_model=Verification, responses=errors(403, 404))
def verify_cluster(cluster: str, body: VerifyRequest, access: CurrentAccess, session: SessionDep):
    """Compare the database with the nodes' last drift reports (at most a heartbeat interval old):
    brick processes and ports, volume-id xattrs, volfiles, self-heal daemons, devices. Every
    difference is also an alert. With `repair`, one REPAIR_BRICK task per brick that can be repaired
    safely; `refused` says what was left alone and why."""
    c = clusters.get_visible(session, access, cluster)
    result = drift_repair.verify(session, access=access, cluster=c, repair=body.repair)
    names = {ch.node.id: ch.node.name for ch in result.checks}
    return Verification(
        cluster=c.name,
        in_sync=all(ch.checked for ch in result.checks) and not result.findings,
        nodes=[NodeVerified(node=ch.node.name, state=ch.node.state, checked=ch.checked, why_not=ch.why_not,
                            report_age_seconds=ch.report_age_seconds, findings=len(ch.findings)) for ch in result.checks],
        findings=[DriftFinding(kind=f.kind, key=f.key, node=names.get(f.node_id, f.node_id), volume_id=f.volume_id,
                               brick_id=f.brick_id, severity=f.severity, message=f.message, repair=f.repair,
                               refusal=f.refusal) for f in result.findings],
        repairs=[RepairSent(**r) for r in result.repairs],
        refused=[RepairRefused(**r) for r in result.refused],
    )
