"""HMAC envelopes. A node signs what it sends with its secret so the control plane can tell which
node really sent it (the broker is shared, so a queue name proves nothing); the control plane
signs each task message with the target node's secret, so an agent acts only on what the control
plane sent it. `generation` (which node secret signed it) lets a receiver tell a message signed
with a retired secret from a forged one."""
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    pass


def _digest(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def sign(node_id: str, secret: str, payload: dict[str, Any], generation: int | None = None) -> dict[str, Any]:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    envelope: dict[str, Any] = {"node_id": node_id, "body": body, "sig": _digest(secret, body)}
    if generation is not None:
        envelope["generation"] = generation
    return envelope


def unsigned_node_id(envelope: dict[str, Any]) -> str:
    node_id = envelope.get("node_id") if isinstance(envelope, dict) else None
    if not isinstance(node_id, str):
        raise BadSignature("envelope has no node_id")
    return node_id


def verify(envelope: dict[str, Any], secret: str) -> dict[str, Any]:
    if not isinstance(envelope, dict):
        raise BadSignature("the message is not an envelope")
    body, sig = envelope.get("body"), envelope.get("sig")
    if not isinstance(body, str) or not isinstance(sig, str):
        raise BadSignature("envelope is missing body or signature")
    if not hmac.compare_digest(_digest(secret, body), sig):
        raise BadSignature("signature does not match the node's secret")
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadSignature("the signed body is not JSON") from None
    if not isinstance(payload, dict) or payload.get("node_id") != envelope.get("node_id"):
        raise BadSignature("payload node_id differs from the envelope's")
    return payload
