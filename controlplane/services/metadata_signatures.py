"""The signature of each metadata version the control plane serves (contracts/metadata_signing.py).

A version is signed when an agent first asks for it, not when it is written: signing needs the
digest of the complete copy, and a change must not cost the cluster's size at commit time. Each API
replica signs a version once (an Ed25519 signature is deterministic, so replicas agree) and keeps
the last few signatures in memory; every agent asking for the same version is answered from there."""
from collections import OrderedDict
from threading import Lock
from typing import Any

from sqlmodel import Session

from contracts import metadata_signing
from contracts.metadata_signing import content_digest, key_id, sign_copy
from controlplane.metadata_keys import signing_key
from controlplane.services import metadata

HEADER = metadata_signing.HEADER  # compact JSON


class SignatureCache:
    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict[tuple[str, str, int], dict[str, Any]] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, str, int]) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, int], sig: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = sig
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def signature_for(session: Session, secret_key: str, cache: SignatureCache, cluster_id: str, version: int,
                  content: dict[str, Any] | None = None) -> dict[str, Any]:
    """The signature of `cluster_id`'s complete copy at `version` (`content` when the caller has it)."""
    key = (key_id(signing_key(secret_key).public_key()), cluster_id, version)
    found = cache.get(key)
    if found is not None:
        return found
    if content is None:
        copy = metadata.current(session, cluster_id, upto=version)
        content = copy.content
    sig = sign_copy(signing_key(secret_key), cluster_id, version, content_digest(content))
    cache.put(key, sig)
    return sig
