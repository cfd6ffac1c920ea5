"""contracts/metadata_signing.py: a copy verifies only with the key that signed it, and only as signed."""
import copy as copies

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.metadata_signing import BadCopy, content_digest, key_id, parse_public_key, public_key_text, sign_copy, verify_copy
from controlplane.metadata_keys import public_text, signing_key

CONTENT = {"cluster": {"id": "c-1", "name": "c1"}, "nodes": [{"id": "n", "name": "n1"}], "devices": [], "volumes": []}


def _signed(key, version=7, content=CONTENT):
    return {"version": version, "content": content, "signature": sign_copy(key, "c-1", version, content_digest(content))}


def test_a_signed_copy_verifies_with_its_key_only():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    good = _signed(key)
    assert verify_copy(good, [other.public_key(), key.public_key()]) is good
    with pytest.raises(BadCopy, match="not a trusted key"):
        verify_copy(good, [other.public_key()])
    claimed = copies.deepcopy(_signed(other))
    claimed["signature"]["key_id"] = key_id(key.public_key())
    with pytest.raises(BadCopy, match="forged"):
        verify_copy(claimed, [key.public_key()])


def test_the_digest_ignores_key_order_but_not_values():
    reordered = {k: CONTENT[k] for k in reversed(list(CONTENT))}
    assert content_digest(reordered) == content_digest(CONTENT)
    assert content_digest({**CONTENT, "volumes": [{}]}) != content_digest(CONTENT)


def test_the_server_key_gives_one_signing_key_and_its_public_text_round_trips():
    assert public_text("k1") == public_text("k1") != public_text("k2")
    assert public_key_text(parse_public_key(public_text("k1"))) == public_text("k1")
    assert signing_key("k1").public_key() == parse_public_key(public_text("k1"))
    for bad in ("ed25519:", "ed25519:%%", "rsa:AAAA", "ed25519:" + "A" * 40):
        with pytest.raises(BadCopy):
            parse_public_key(bad)
