"""What `kadalu-server restore` refuses, and that a refusal leaves the database as it was: a copy
forged by a node (signed with its own key, or claiming the control plane's key), content changed after
signing, a file that is no metadata copy, a copy holding a section this control plane cannot restore
or a hostile entry, and any restore into a database that already holds a cluster, unless --force."""
import copy as copies
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, create_engine, func, select

from contracts.metadata_signing import content_digest, key_id, sign_copy
from controlplane.metadata_keys import signing_key
from controlplane.models import Cluster, Node, Volume
from tests.api.restore_helpers import SECRET_KEY, agent_copy, run_restore, write
from tests.api.volume_helpers import R3, create, finish_all


@pytest.fixture
def good(client, admin, nodes):
    vol = create(admin, "gvol1", R3, replica=3).json()
    while finish_all(client, vol["id"]):
        pass
    return agent_copy(client, nodes["n1"])


def _resigned(copy: dict, key: Ed25519PrivateKey, claimed_key_id: str | None = None) -> dict:
    out = copies.deepcopy(copy)
    out["signature"] = sign_copy(key, copy["content"]["cluster"]["id"], copy["version"], content_digest(copy["content"]))
    if claimed_key_id:
        out["signature"]["key_id"] = claimed_key_id
    return out


def _counts(url: str) -> tuple[int, int, int]:
    eng = create_engine(url)
    try:
        with Session(eng) as s:
            return tuple(s.exec(select(func.count()).select_from(m)).one() for m in (Cluster, Node, Volume))  # type: ignore[return-value]
    except Exception:  # no schema yet: nothing was written
        return (0, 0, 0)
    finally:
        eng.dispose()


def _refused(fresh, tmp_path, copy, *words):
    path = write(tmp_path, "copy.json", copy)
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={path}")
    assert r.exit_code == 2, r.output
    for word in words:
        assert word in r.stderr, r.stderr
    assert "nothing restored" in r.stderr or "no valid signed copy" in r.stderr
    assert _counts(fresh.url)[1:] == (0, 0)


def test_a_copy_a_node_signed_itself_is_refused(good, fresh, tmp_path):
    forged = copies.deepcopy(good)
    forged["version"] += 10
    forged["content"]["volumes"][0]["spec"]["options"]["auth.allow"] = "*"
    node_key = Ed25519PrivateKey.generate()
    _refused(fresh, tmp_path, _resigned(forged, node_key), "not a trusted key")
    # claiming the control plane's key id does not help: the signature does not verify with that key
    trusted_id = key_id(signing_key(SECRET_KEY).public_key())
    _refused(fresh, tmp_path, _resigned(forged, node_key, trusted_id), "forged")


def test_content_changed_after_signing_is_refused(good, fresh, tmp_path):
    tampered = copies.deepcopy(good)
    tampered["content"]["volumes"][0]["spec"]["bricks"][0]["port"] += 1
    _refused(fresh, tmp_path, tampered, "changed after it was signed")
    renumbered = copies.deepcopy(good)
    renumbered["version"] += 1  # an old copy passed off as the newest
    _refused(fresh, tmp_path, renumbered, "signature is for version")


@pytest.mark.parametrize("copy,words", [
    ("not json at all", ["not JSON"]),
    ([1, 2], ["not a metadata copy"]),
    ({"version": 3, "content": {}}, ["not signed"]),
    ({"version": "3", "content": {}, "signature": {}}, ["positive integer"]),
])
def test_what_is_no_signed_copy_is_refused(fresh, tmp_path, copy, words):
    _refused(fresh, tmp_path, copy, *words)


def test_a_bad_signature_object_is_refused(good, fresh, tmp_path):
    for change, word in (({"alg": "hmac-sha256"}, "algorithm"), ({"extra": 1}, "exactly"), ({"sig": "%%%"}, "base64")):
        bad = copies.deepcopy(good)
        bad["signature"].update(change)
        _refused(fresh, tmp_path, bad, word)


def test_the_newest_valid_copy_wins_over_a_newer_forged_one(good, fresh, tmp_path):
    forged = copies.deepcopy(good)
    forged["version"] += 5
    files = [write(tmp_path, "good.json", good), write(tmp_path, "forged.json", _resigned(forged, Ed25519PrivateKey.generate()))]
    r = run_restore(fresh.url, tmp_path / "restored", *[f"--from-file={f}" for f in files], "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["restored"][0]["version"] == good["version"] and out["restored"][0]["from"] == str(files[0])
    assert [x["from"] for x in out["refused"]] == [str(files[1])] and "refused" in r.stderr


def test_a_section_this_control_plane_cannot_restore_refuses_the_whole_restore(good, fresh, tmp_path):
    newer = copies.deepcopy(good)
    newer["content"]["mirrors"] = [{"id": "x"}]
    _refused(fresh, tmp_path, _resigned(newer, signing_key(SECRET_KEY)), "mirrors", "cannot restore")


@pytest.mark.parametrize("entry, word", [
    ({"name": "s1", "state": "Created", "bricks": []}, "snapshot"),  # no id
    ({"id": "00000000-0000-4000-8000-000000000001", "name": "../x", "state": "Created", "bricks": []}, "snapshot name"),
    ({"id": "00000000-0000-4000-8000-000000000001", "name": "s1", "state": "Created", "bricks": [],
      "volume_id": "00000000-0000-4000-8000-000000000009"}, "volume is not in the copy"),
    ({"id": "00000000-0000-4000-8000-000000000001", "name": "s1", "state": "Created", "volume_id": None,
      "bricks": [{"brick_id": "00000000-0000-4000-8000-000000000002", "node_id": None, "backend": "zfs", "path": "/x"}]},
     "snapshot")])
def test_hostile_snapshots_are_refused_even_when_signed(good, fresh, tmp_path, entry, word):
    bad = copies.deepcopy(good)
    if entry.get("volume_id", "") is None:
        entry = {**entry, "volume_id": bad["content"]["volumes"][0]["spec"]["id"]}
        entry["bricks"][0]["node_id"] = bad["content"]["nodes"][0]["id"]
    bad["content"]["snapshots"] = [entry]
    _refused(fresh, tmp_path, _resigned(bad, signing_key(SECRET_KEY)), word)


def test_hostile_entries_are_refused_even_when_signed(good, fresh, tmp_path):
    for path, value, word in ((("nodes", 0, "name"), "../etc", "node"), (("nodes", 0, "address"), "not an address", "node"),
                              (("devices", 0, "path"), "/e/../../etc", "device"),
                              (("volumes", 0, "spec", "name"), "a b", "volume")):
        bad = copies.deepcopy(good)
        where = bad["content"]
        for step in path[:-1]:
            where = where[step]
        where[path[-1]] = value
        _refused(fresh, tmp_path, _resigned(bad, signing_key(SECRET_KEY)), word)


def test_hostile_quota_limits_are_refused_even_when_signed(good, fresh, tmp_path):
    for limit in ({"path": "/a/../../etc", "hard_bytes": 1}, {"path": "/a", "hard_bytes": -5},
                  {"path": "/a", "hard_bytes": "1; rm -rf /"}, {"path": "/a"}, {"path": 7, "hard_objects": 3}):
        bad = copies.deepcopy(good)
        bad["content"]["volumes"][0]["quota_limits"] = [limit]
        _refused(fresh, tmp_path, _resigned(bad, signing_key(SECRET_KEY)), "quota limit")


def test_a_database_that_holds_a_cluster_is_refused_unless_forced(good, fresh, tmp_path):
    path = write(tmp_path, "n1.json", good)
    assert run_restore(fresh.url, tmp_path / "restored", f"--from-file={path}").exit_code == 0
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={path}")
    assert r.exit_code == 2 and "not empty" in r.stderr and "--force" in r.stderr
    assert _counts(fresh.url) == (2, 4, 1)  # c1 and the default cluster, untouched
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={path}", "--force")
    assert r.exit_code == 0, r.output
    assert _counts(fresh.url) == (2, 4, 1)


def test_no_files_and_a_bad_trusted_key_are_refused(fresh, tmp_path):
    r = run_restore(fresh.url, tmp_path / "restored")
    assert r.exit_code == 2 and "--from-file" in r.stderr
    r = run_restore(fresh.url, tmp_path / "restored", f"--from-file={tmp_path}/x.json", "--trust-key=ed25519:abc")
    assert r.exit_code == 2 and "not an Ed25519 public key" in r.stderr
