"""The agent's gate: a task message is acted on only if the control plane signed it for this node,
with this node's current secret, recently, in the protocol version this agent speaks.

Anything else is refused before any field of it is used (a path, a file name, a command): the
refusal is logged and reported to the control plane (TaskRejected), and nothing is journaled.
The broker is reachable by more than the control plane, and this agent runs as root."""
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts import signing
from contracts.checks import is_uuid
from contracts.messages import PROTOCOL_VERSION, TaskMessage

# A message waits in the node's queue while the agent is down; older than this, the control plane
# re-sends it anyway (with a fresh signature), so refusing it loses nothing and bounds replays.
MAX_AGE_SECONDS = 3600.0
MAX_CLOCK_SKEW_SECONDS = 300.0


class Rejected(Exception):
    def __init__(self, code: str, message: str, task_id: str | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        self.task_id = task_id if is_uuid(task_id) else None


@dataclass(frozen=True)
class Keys:
    node_id: str
    secret: str
    generation: int


def _claimed_task_id(envelope: dict) -> str | None:
    """The task id an envelope claims, for the report only (never trusted for anything else)."""
    try:
        body = json.loads(envelope.get("body", ""))
        return body.get("task_id") if isinstance(body, dict) else None
    except (ValueError, TypeError, AttributeError):
        return None


def open_task(keys: Keys, envelope: Any, now: float | None = None,
              max_age: float = MAX_AGE_SECONDS, skew: float = MAX_CLOCK_SKEW_SECONDS) -> TaskMessage:
    """The verified task message; raises Rejected. (Its spec is checked against its kind's model by
    the caller: a signed message with a spec this agent cannot read fails its task instead.)"""
    if not isinstance(envelope, dict) or not all(isinstance(envelope.get(k), str) for k in ("node_id", "body", "sig")):
        raise Rejected("malformed", "the message is not a signed envelope")
    claimed = _claimed_task_id(envelope)
    if envelope["node_id"] != keys.node_id:
        raise Rejected("wrong_node", f"the message is addressed to node {envelope['node_id'][:40]!r}, not to this node",
                       claimed)
    try:
        payload = signing.verify(envelope, keys.secret)
    except signing.BadSignature as exc:
        generation = envelope.get("generation")
        if isinstance(generation, int) and 0 < generation < keys.generation:
            raise Rejected("stale_key", f"signed with retired secret generation {generation} "
                           f"(this node's is {keys.generation})", claimed) from None
        raise Rejected("bad_signature", f"the signature does not verify with this node's secret: {exc}", claimed) from None
    try:
        msg = TaskMessage.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Rejected("malformed", f"the task message does not fit the contract: {first.get('loc')} {first.get('msg')}",
                       claimed) from None
    if msg.protocol != PROTOCOL_VERSION:
        raise Rejected("protocol", f"message protocol {msg.protocol}, this agent speaks {PROTOCOL_VERSION}: "
                       "upgrade the agent or the control plane so both match", msg.task_id)
    if msg.node_id != keys.node_id:
        raise Rejected("wrong_node", "the signed message names another node", msg.task_id)
    now = time.time() if now is None else now
    if msg.issued_at < now - max_age:
        raise Rejected("expired", f"issued {now - msg.issued_at:.0f}s ago, more than the {max_age:.0f}s a message may wait",
                       msg.task_id)
    if msg.issued_at > now + skew:
        raise Rejected("future", f"issued {msg.issued_at - now:.0f}s in the future: check the clocks (NTP) of "
                       "this node and the control plane", msg.task_id)
    return msg
