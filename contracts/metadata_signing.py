"""Signed metadata copies: what lets a new control plane trust the copy a node hands it.

The control plane signs every metadata version it serves with an Ed25519 key that only it holds
(derived from its server key: controlplane/metadata_keys.py). An agent stores the signature beside
its copy (metadata.json = {"version", "content", "signature"}); `kadalu-server restore` accepts a
copy only when its signature verifies with a public key the operator trusts.

Why a public key and not an HMAC key: a node holds its copy, the signature and (to check the copy)
the verification key; with an HMAC, whoever can verify can also sign, so a compromised node or a
leaked operator copy of the key could forge a copy a restore accepts. With Ed25519 the operator
keeps only the public key, which is safe to keep anywhere (a runbook, a ticket): it cannot sign.

The signature covers {"alg", "key_id", "cluster_id", "version", "digest"}, where `digest` is the
SHA-256 of the complete copy's canonical JSON (sorted keys, no spaces): a copy whose content,
version or cluster differs from what was signed does not verify."""
import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG = "ed25519"
HEADER = "Kadalu-Metadata-Signature"  # on GET /api/v1/agent/metadata: the signature of the copy it brings the agent to
KEY_PREFIX = "ed25519:"
SIGNATURE_FIELDS = ("alg", "key_id", "cluster_id", "version", "digest", "sig")


class BadCopy(ValueError):
    """A copy that is not a signed metadata copy, or whose signature does not verify."""


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def public_key_text(key: Ed25519PublicKey) -> str:
    """`ed25519:<base64 of the 32 raw bytes>`: what the operator keeps (`kadalu-server metadata-key`)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return KEY_PREFIX + base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise BadCopy(f"a trusted key looks like `{KEY_PREFIX}<base64>` (`kadalu-server metadata-key` prints it)")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise BadCopy(f"{text[:40]!r} is not an Ed25519 public key (32 bytes, base64)") from None


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_text(key).encode()).hexdigest()[:16]


def _signed_part(sig: dict[str, Any]) -> bytes:
    return canonical({k: sig[k] for k in SIGNATURE_FIELDS if k != "sig"})


def sign_copy(key: Ed25519PrivateKey, cluster_id: str, version: int, digest: str) -> dict[str, Any]:
    """The signature of the complete copy whose content has `digest` (content_digest)."""
    sig: dict[str, Any] = {"alg": ALG, "key_id": key_id(key.public_key()), "cluster_id": cluster_id,
                           "version": version, "digest": digest}
    sig["sig"] = base64.b64encode(key.sign(_signed_part(sig))).decode()
    return sig


def check_signature_shape(sig: Any) -> dict[str, Any]:
    if not isinstance(sig, dict) or set(sig) != set(SIGNATURE_FIELDS):
        raise BadCopy(f"the signature must be an object with exactly {', '.join(SIGNATURE_FIELDS)}")
    if sig["alg"] != ALG:
        raise BadCopy(f"signature algorithm {str(sig['alg'])[:20]!r} is not {ALG!r}")
    if not all(isinstance(sig[k], str) for k in ("key_id", "cluster_id", "digest", "sig")) \
            or not isinstance(sig["version"], int) or isinstance(sig["version"], bool):
        raise BadCopy("the signature's fields have the wrong types")
    return sig


def verify_copy(copy: Any, trusted: list[Ed25519PublicKey]) -> dict[str, Any]:
    """Check a metadata.json ({"version", "content", "signature"}); returns it. Raises BadCopy saying why."""
    if not isinstance(copy, dict) or not {"version", "content"} <= set(copy):
        raise BadCopy('not a metadata copy: expected an object with "version", "content" and "signature"')
    version, content = copy["version"], copy["content"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1 or not isinstance(content, dict):
        raise BadCopy('"version" must be a positive integer and "content" an object')
    if "signature" not in copy:
        raise BadCopy("the copy is not signed (an agent older than signed copies wrote it, or it was edited): "
                      "let the agent sync once with a control plane that signs, or use another node's copy")
    sig = check_signature_shape(copy["signature"])
    cluster = content.get("cluster")
    if not isinstance(cluster, dict) or cluster.get("id") != sig["cluster_id"]:
        raise BadCopy("the signature is for another cluster than the copy's content")
    if sig["version"] != version:
        raise BadCopy(f"the signature is for version {sig['version']}, the copy says version {version}")
    if content_digest(content) != sig["digest"]:
        raise BadCopy("the content was changed after it was signed (its digest differs from the signed one)")
    try:
        raw = base64.b64decode(sig["sig"], validate=True)
    except binascii.Error:
        raise BadCopy("the signature is not base64") from None
    for key in trusted:
        if key_id(key) != sig["key_id"]:
            continue
        try:
            key.verify(raw, _signed_part(sig))
        except InvalidSignature:
            raise BadCopy("forged: the signature does not verify with the trusted key it names") from None
        return copy
    raise BadCopy(f"signed by key {sig['key_id']!r}, which is not a trusted key: pass the control plane's public key "
                  "with --trust-key (`kadalu-server metadata-key` printed it)")
