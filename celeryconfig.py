"""Celery settings shared by the control-plane worker/beat and the node agents.

Correctness first (docs/architecture.md, "Celery settings"): JSON only, late acks, prefetch 1,
one set of `unacked*` keys per consumer group so a node's in-flight messages are restored only
into its own queue, a visibility timeout above any task time limit, no result backend (results travel
as messages to the `controlplane` queue).
"""
from kombu import Exchange, Queue

from contracts.broker_url import is_sentinel
from contracts.task_names import CONTROLPLANE_QUEUE, HEARTBEAT, HEARTBEAT_QUEUE, node_queue

TASK_TIME_LIMIT = 1800  # seconds; a gluster operation that takes longer has failed
VISIBILITY_TIMEOUT = TASK_TIME_LIMIT + 600


def _common(broker_url: str) -> dict:
    return {
        "broker_url": broker_url,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        "result_backend": None,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": TASK_TIME_LIMIT,
        "worker_send_task_events": True,
        "task_send_sent_event": False,
        "worker_hijack_root_logger": False,
        "enable_utc": True,
        "task_default_queue": CONTROLPLANE_QUEUE,
        "task_create_missing_queues": True,
    }


def _transport(prefix: str, broker_url: str, master_name: str | None) -> dict:
    options = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_key": f"{prefix}.unacked",
        "unacked_index_key": f"{prefix}.unacked_index",
        "unacked_mutex_key": f"{prefix}.unacked_mutex",
    }
    if is_sentinel(broker_url):  # kombu asks the sentinels for this master at every (re)connection
        options["master_name"] = master_name
    return options


def controlplane_config(broker_url: str, master_name: str | None = None) -> dict:
    conf = _common(broker_url)
    conf["broker_transport_options"] = _transport("kadalu.controlplane", broker_url, master_name)
    conf["task_routes"] = ROUTES
    return conf


# exact names are matched before patterns: heartbeats have their own queue and worker
ROUTES = {HEARTBEAT: {"queue": HEARTBEAT_QUEUE}, "kadalu.controlplane.*": {"queue": CONTROLPLANE_QUEUE}}


def agent_config(broker_url: str, node_id: str, master_name: str | None = None) -> dict:
    """An agent's broker user may only consume its own queue and push to `controlplane` (see
    controlplane/broker_users.py) and to `controlplane.heartbeats`: it publishes there through the default exchange, without
    declaring the queue (which would need read access to it), and takes no remote-control
    commands (anyone able to publish a broadcast could otherwise stop or reconfigure it)."""
    conf = _common(broker_url)
    conf["broker_transport_options"] = _transport(f"kadalu.{node_queue(node_id)}", broker_url, master_name)
    conf["task_queues"] = [Queue(q, Exchange(""), routing_key=q, no_declare=True) for q in (CONTROLPLANE_QUEUE, HEARTBEAT_QUEUE)]
    conf["task_routes"] = ROUTES
    conf["worker_enable_remote_control"] = False
    return conf
