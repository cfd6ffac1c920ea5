"""Geo-replication config: only the keys gsyncd marks configurable, minus the ones kadalu sets
itself, with values checked; refusals change nothing."""
import pytest

from contracts import georep_config
from tests.api.georep_helpers import GEO, active_tasks, started_session, two_clusters


@pytest.mark.parametrize(("name", "value", "words"), [
    ("no-such-key", "1", "does not exist"),
    ("ssh-command", "/bin/sh", "names a program"),
    ("rsync-command", "/tmp/x", "names a program"),
    ("remote-gsyncd", "/tmp/x", "names a program"),
    ("gluster-command-dir", "/tmp", "directory"),
    ("ssh-options", "-oProxyCommand=sh", "command-line arguments"),
    ("rsync-options", "--rsh=sh", "command-line arguments"),
    ("use-meta-volume", "false", "Active/Passive"),
    ("meta-volume-mnt", "/", "directory"),
    ("primary-bricks", "x", "describes the session itself"),
    ("log-file", "/etc/passwd", "describes the session itself"),
    ("checkpoint", "5", "kadalu geo-replication checkpoint"),
    ("sync-jobs", "0", "from 1 to 100"),
    ("sync-jobs", "1e3", "whole number"),
    ("sync-method", "ftp", "one of rsync, tarssh"),
    ("ignore-deletes", "maybe", "boolean"),
    ("log-level", "INFO\nssh-command=/bin/sh", "single line"),
])
def test_refused_keys_and_values(client, admin, nodes, name, value, words):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    r = admin.post(f"{GEO}/{geo['id']}/config", {"name": name, "value": value})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert admin.get(f"{GEO}/{geo['id']}").json()["config"] == {}
    assert active_tasks(client, "GEOREP_START") == []


def test_config_get_lists_only_settable_keys_and_normalises_values(client, admin, nodes):
    two_clusters(client, admin, nodes)
    geo = started_session(client, admin)
    rows = admin.get(f"{GEO}/{geo['id']}/config").json()["data"]
    assert {r["name"] for r in rows} == set(georep_config.CONFIGURABLE)
    assert admin.get(f"{GEO}/{geo['id']}/config", params={"name": "ssh-command"}).status_code == 404
    assert admin.post(f"{GEO}/{geo['id']}/config", {"name": "ignore-deletes", "value": "Yes"}).status_code == 202
    assert admin.get(f"{GEO}/{geo['id']}").json()["config"] == {"ignore-deletes": "true"}


def test_every_template_key_is_classified():
    """Each key of gsyncd's template is settable, kadalu's, or the session's own: none slips through."""
    known = set(georep_config.CONFIGURABLE) | set(georep_config.MANAGED) | set(georep_config.FIXED)
    template = ("access-mount", "checkpoint", "ssh-command", "rsync-options", "sync-jobs", "state-file", "log-file",
                "meta-volume-mnt", "gluster-params", "secondary-gluster-command-dir", "working-dir")
    assert set(template) <= known
    assert not set(georep_config.CONFIGURABLE) & set(georep_config.MANAGED)
