"""Celery task names and queue names: the only strings both sides must agree on."""

CONTROLPLANE_QUEUE = "controlplane"
HEARTBEAT_QUEUE = "controlplane.heartbeats"  # heartbeats only: their own worker, never behind task results

# Handled by the control-plane worker (queue "controlplane"; HEARTBEAT: queue "controlplane.heartbeats").
TASK_PROGRESS = "kadalu.controlplane.task_progress"
TASK_RESULT = "kadalu.controlplane.task_result"
HEARTBEAT = "kadalu.controlplane.heartbeat"
TASK_REJECTED = "kadalu.controlplane.task_rejected"
DRIFT_REPORT = "kadalu.controlplane.drift_report"

# Beat jobs run on the control-plane worker.
HEALTH_CHECK = "kadalu.controlplane.health_check"
REDISPATCH = "kadalu.controlplane.redispatch_lost"
BROKER_USERS_SYNC = "kadalu.controlplane.broker_users_sync"
ALERTS_DELIVER = "kadalu.controlplane.alerts_deliver"
METADATA_COMPACT = "kadalu.controlplane.metadata_compact"
SNAPSHOT_SCHEDULES = "kadalu.controlplane.snapshot_schedules"

# Handled by one node agent (queue "node.<node-id>").
AGENT_RUN = "kadalu.agent.run"


def node_queue(node_id: str) -> str:
    return f"node.{node_id}"


def controlplane_queue(task_name: str) -> str:
    """The queue an agent message goes to."""
    return HEARTBEAT_QUEUE if task_name == HEARTBEAT else CONTROLPLANE_QUEUE
