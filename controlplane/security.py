"""Passwords (argon2), opaque tokens (only their SHA-256 stored), node secrets (derived, never stored)."""
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

USER_TOKEN_PREFIX = "kdl_"
JOIN_TOKEN_PREFIX = "kjt_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so a wrong username costs the same time.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_hex(16))


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def node_secret(secret_key: str, node_id: str, generation: int) -> str:
    """The node's secret is an HMAC of the server key: verifiable by every API replica and worker
    without storing it; re-registration bumps the generation, which retires the old secret."""
    msg = f"node-secret:{node_id}:{generation}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()
