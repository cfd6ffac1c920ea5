"""The control plane's metadata signing key (contracts/metadata_signing.py says why Ed25519).

Derived from the server key (KADALU_SECRET_KEY, or state_dir/secret.key), so every API replica
signs with the same key and nothing new has to be stored or shared: a control plane restored with
the same server key signs with the same key again. Only the public half ever leaves this process
(`kadalu-server metadata-key`); the operator keeps it to verify copies at restore time."""
import hashlib
import hmac
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.metadata_signing import public_key_text


@lru_cache(maxsize=4)
def signing_key(secret_key: str) -> Ed25519PrivateKey:
    seed = hmac.new(secret_key.encode(), b"kadalu-metadata-signing-key:v1", hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(secret_key: str) -> Ed25519PublicKey:
    return signing_key(secret_key).public_key()


def public_text(secret_key: str) -> str:
    return public_key_text(public_key(secret_key))
