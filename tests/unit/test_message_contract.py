"""The wire contract between the control plane and the agents, pinned: every Celery task name with
the queue it travels on, and every payload's JSON schema (task messages, one spec per task kind,
results, progress, refusals, heartbeats). A change here is a change of the wire format: regenerate
with `KADALU_WRITE_CONTRACT=1 pytest tests/unit/test_message_contract.py`, and bump
contracts.messages.PROTOCOL_VERSION when an older agent would misread the new messages."""
import json
import os
import time
import uuid
from pathlib import Path

import celeryconfig
from contracts import drift, messages, signing, task_names
from contracts.task_kinds import TaskKind
from contracts.task_specs import SPEC_MODELS
from controlplane.dispatch import CelerySender
from controlplane.security import node_secret

GOLDEN = Path(__file__).parent / "contract" / "messages.json"

ROUTES = {
    task_names.AGENT_RUN: "node.<node-id>",
    task_names.TASK_PROGRESS: task_names.CONTROLPLANE_QUEUE,
    task_names.TASK_RESULT: task_names.CONTROLPLANE_QUEUE,
    task_names.TASK_REJECTED: task_names.CONTROLPLANE_QUEUE,
    task_names.HEARTBEAT: task_names.HEARTBEAT_QUEUE,
    task_names.DRIFT_REPORT: task_names.CONTROLPLANE_QUEUE,
    task_names.HEALTH_CHECK: task_names.CONTROLPLANE_QUEUE,
    task_names.REDISPATCH: task_names.CONTROLPLANE_QUEUE,
    task_names.BROKER_USERS_SYNC: task_names.CONTROLPLANE_QUEUE,
    task_names.ALERTS_DELIVER: task_names.CONTROLPLANE_QUEUE,
    task_names.METADATA_COMPACT: task_names.CONTROLPLANE_QUEUE,
    task_names.SNAPSHOT_SCHEDULES: task_names.CONTROLPLANE_QUEUE,
}
PAYLOADS = {
    task_names.AGENT_RUN: messages.TaskMessage,
    task_names.TASK_PROGRESS: messages.TaskProgress,
    task_names.TASK_RESULT: messages.TaskResult,
    task_names.TASK_REJECTED: messages.TaskRejected,
    task_names.HEARTBEAT: messages.Heartbeat,
    task_names.DRIFT_REPORT: drift.DriftReport,
}


def current_contract() -> dict:
    return {
        "protocol": messages.PROTOCOL_VERSION,
        "envelope": ["body", "generation (task messages only)", "node_id", "sig"],
        "routes": ROUTES,
        "payloads": {name: model.model_json_schema() for name, model in PAYLOADS.items()},
        "specs": {kind.value: model.model_json_schema() for kind, model in SPEC_MODELS.items()},
    }


def test_the_wire_contract_is_the_pinned_one():
    contract = json.loads(json.dumps(current_contract(), sort_keys=True))
    if os.environ.get("KADALU_WRITE_CONTRACT"):
        GOLDEN.write_text(json.dumps(contract, indent=1, sort_keys=True) + "\n")
    assert contract == json.loads(GOLDEN.read_text()), (
        "the wire format changed: if intended, regenerate tests/unit/contract/messages.json (see this module's "
        "docstring) and bump PROTOCOL_VERSION if older agents would misread it")


def test_every_task_kind_has_a_spec_model_and_every_name_a_route():
    assert set(SPEC_MODELS) == set(TaskKind)
    names = {v for k, v in vars(task_names).items() if k.isupper() and not k.endswith("_QUEUE")}
    assert names == set(ROUTES)


def test_control_plane_tasks_route_to_the_controlplane_queue_on_both_sides():
    node = str(uuid.uuid4())
    for conf in (celeryconfig.controlplane_config("redis://x"), celeryconfig.agent_config("redis://x", node)):
        assert conf["task_routes"]["kadalu.controlplane.*"]["queue"] == task_names.CONTROLPLANE_QUEUE
        assert conf["task_routes"][task_names.HEARTBEAT]["queue"] == task_names.HEARTBEAT_QUEUE
    agent = celeryconfig.agent_config("redis://x", node)
    assert agent["worker_enable_remote_control"] is False
    assert [q.name for q in agent["task_queues"]] == [task_names.CONTROLPLANE_QUEUE, task_names.HEARTBEAT_QUEUE]
    assert all(q.no_declare and q.exchange.name == "" for q in agent["task_queues"])
    for name, queue in ROUTES.items():
        if name != task_names.AGENT_RUN:
            assert task_names.controlplane_queue(name) == queue


class _App:
    def __init__(self):
        self.sent = []

    def send_task(self, name, **kw):
        self.sent.append((name, kw))


def test_the_sender_signs_for_the_target_node_and_names_no_callback():
    app, node, task = _App(), str(uuid.uuid4()), str(uuid.uuid4())
    msg = messages.TaskMessage(task_id=task, node_id=node, kind="STOP_REBALANCE", issued_at=time.time(),
                               key_generation=3, spec={})
    CelerySender(app, "server-key").send(msg)
    ((name, kw),) = app.sent
    assert name == task_names.AGENT_RUN and kw["queue"] == task_names.node_queue(node) and kw["task_id"] == task
    assert set(kw) == {"args", "queue", "task_id"}  # no link: the agent sends its result itself
    (envelope,) = kw["args"]
    assert envelope["generation"] == 3 and envelope["node_id"] == node
    assert signing.verify(envelope, node_secret("server-key", node, 3))["task_id"] == task
