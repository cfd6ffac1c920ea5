"""Broker URLs: one Redis URL, or Redis Sentinels with the master's name (Celery's native form)."""
import pytest

import celeryconfig
from contracts import broker_url as urls
from controlplane.settings import Settings
from nodeagent.main import broker_url as agent_broker_url

SENTINELS = "sentinel://127.0.0.1:26379;sentinel://127.0.0.2:26380/3"


def test_a_sentinel_list_gives_every_sentinel_and_the_database():
    assert urls.is_sentinel(SENTINELS)
    assert urls.sentinels(SENTINELS) == [("127.0.0.1", 26379), ("127.0.0.2", 26380)]
    assert urls.db(SENTINELS) == 3 and urls.db("redis://h:1/5") == 5 and urls.db("redis://h:1") == 0


def test_credentials_are_set_on_every_sentinel_entry_and_removed_from_every_one():
    url = urls.with_credentials(SENTINELS, "kadalu-node-x", "p@ss/word")
    assert url == ("sentinel://kadalu-node-x:p%40ss%2Fword@127.0.0.1:26379;"
                   "sentinel://kadalu-node-x:p%40ss%2Fword@127.0.0.2:26380/3")
    assert urls.credentials(url) == ("kadalu-node-x", "p@ss/word")
    assert urls.without_credentials(url) == SENTINELS
    assert urls.with_credentials("redis://u:old@[::1]:6379/0", "n", "new") == "redis://n:new@[::1]:6379/0"


@pytest.mark.parametrize("url, master, message", [
    (SENTINELS, None, "KADALU_BROKER_MASTER_NAME"),
    ("redis://a:1;redis://b:2", None, "one redis://"),
    ("amqp://guest@h//", None, "amqp"),
    ("sentinel://127.0.0.1:26379;redis://h:1", "m", "redis, sentinel"),
    ("", None, "empty"),
    ("redis://h:1/zero", None, "number"),
])
def test_a_broker_url_that_cannot_work_is_refused_with_the_reason(url, master, message):
    with pytest.raises(ValueError, match=message):
        urls.check(url, master)
        urls.db(url)


def test_the_server_refuses_to_start_with_a_sentinel_url_and_no_master_name(tmp_path):
    with pytest.raises(ValueError, match="KADALU_BROKER_MASTER_NAME"):
        Settings(state_dir=tmp_path, broker_url=SENTINELS)
    ok = Settings(state_dir=tmp_path, broker_url=SENTINELS, broker_master_name="kadalu")
    assert ok.broker_master_name == "kadalu"


def test_celery_asks_the_sentinels_for_the_named_master_and_a_plain_url_has_no_master():
    cp = celeryconfig.controlplane_config(SENTINELS, "kadalu")
    agent = celeryconfig.agent_config(SENTINELS, "0b5c2a3e-0d0e-4a43-9d5e-6f7b6f0c1a11", "kadalu")
    assert cp["broker_transport_options"]["master_name"] == agent["broker_transport_options"]["master_name"] == "kadalu"
    assert "master_name" not in celeryconfig.controlplane_config("redis://h:1/0")["broker_transport_options"]


def test_an_agent_override_without_credentials_takes_the_handed_out_login_on_every_sentinel():
    handed = urls.with_credentials(SENTINELS, "kadalu-node-1", "pw")
    assert agent_broker_url("sentinel://10.0.0.1:26379;sentinel://10.0.0.2:26379", handed) == \
        "sentinel://kadalu-node-1:pw@10.0.0.1:26379;sentinel://kadalu-node-1:pw@10.0.0.2:26379"
    assert agent_broker_url("redis://other:x@h:1/0", handed) == "redis://other:x@h:1/0"
    assert agent_broker_url(None, handed) == handed
