"""HMAC envelopes: a node signs what it sends with its secret so the control plane can tell
which node really sent it (the broker is shared, so a queue name proves nothing)."""
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    pass


def _digest(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def sign(node_id: str, secret: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return {"node_id": node_id, "body": body, "sig": _digest(secret, body)}


def unsigned_node_id(envelope: dict[str, Any]) -> str:
    node_id = envelope.get("node_id") if isinstance(envelope, dict) else None
    if not isinstance(node_id, str):
        raise BadSignature("envelope has no node_id")
    return node_id


def verify(envelope: dict[str, Any], secret: str) -> dict[str, Any]:
    body, sig = envelope.get("body"), envelope.get("sig")
    if not isinstance(body, str) or not isinstance(sig, str):
        raise BadSignature("envelope is missing body or signature")
    if not hmac.compare_digest(_digest(secret, body), sig):
        raise BadSignature("signature does not match the node's secret")
    payload = json.loads(body)
    if payload.get("node_id") != envelope.get("node_id"):
        raise BadSignature("payload node_id differs from the envelope's")
    return payload
