"""Each node's broker credentials reach only its own queue: a private redis-server set up as the
embedded broker is, node users made by controlplane.broker_users, then every command an attacker
holding node A's credentials would try."""
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import redis

from contracts.task_names import CONTROLPLANE_QUEUE, node_queue
from controlplane import broker_users, embedded_redis
from controlplane.broker_users import BrokerUsers

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
KEY = "acl-test-key"


@pytest.fixture
def broker(tmp_path):
    port = embedded_redis.free_port()
    password = broker_users.controlplane_password(KEY)
    embedded_redis.write_acl_file(tmp_path / "users.acl", broker_users.CONTROLPLANE_USER, password)
    proc = subprocess.Popen(embedded_redis.argv("redis-server", port, tmp_path, appendonly=False),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert embedded_redis.wait_listening("127.0.0.1", port, 10)
        admin = f"redis://{broker_users.CONTROLPLANE_USER}:{password}@127.0.0.1:{port}/0"
        yield BrokerUsers(admin, f"redis://127.0.0.1:{port}/0", KEY), port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def test_without_credentials_the_broker_answers_nothing(broker):
    _users, port = broker
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()  # the default user is off


def test_a_nodes_credentials_reach_only_its_own_queue(broker):
    users, _port = broker
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    users.ensure(a, 1)
    users.ensure(b, 1)
    admin = _client(users.admin_url)
    admin.lpush(node_queue(b), b"task for b")
    admin.lpush(CONTROLPLANE_QUEUE, b"a result of b")
    node_a = _client(users.url_for(a, 1))
    # its own work: take from its queue, push results to the control plane
    admin.lpush(node_queue(a), b"task for a")
    assert node_a.brpop([node_queue(a)], timeout=1) == (node_queue(a).encode(), b"task for a")
    assert node_a.lpush(CONTROLPLANE_QUEUE, b"a result of a") == 2
    denied = [
        lambda: node_a.lrange(node_queue(b), 0, -1),  # read another node's tasks
        lambda: node_a.brpop([node_queue(b)], timeout=1),  # steal them
        lambda: node_a.lpush(node_queue(b), b"forged"),  # plant one
        lambda: node_a.delete(node_queue(b)),
        lambda: node_a.lrange(CONTROLPLANE_QUEUE, 0, -1),  # read other nodes' results and heartbeats
        lambda: node_a.rpop(CONTROLPLANE_QUEUE),
        lambda: node_a.hvals(f"kadalu.{node_queue(b)}.unacked"),
        lambda: node_a.sadd(f"_kombu.binding.{CONTROLPLANE_QUEUE}", b"x"),
        lambda: node_a.keys("*"),
        lambda: node_a.flushdb(),
        lambda: node_a.config_get("*"),
        lambda: node_a.execute_command("ACL", "LIST"),
        lambda: node_a.execute_command("CLIENT", "LIST"),
        lambda: _client(users.url_for(a, 1)).execute_command("SUBSCRIBE", "/0.celeryev/task.multi"),  # watch events
        lambda: node_a.execute_command("EVAL", "return redis.call('LRANGE', KEYS[1], 0, -1)", 1, node_queue(b)),
    ]
    for i, attempt in enumerate(denied):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()
            pytest.fail(f"attempt {i} was allowed")
    assert admin.lrange(node_queue(b), 0, -1) == [b"task for b"]
    assert admin.llen(CONTROLPLANE_QUEUE) == 2


def test_rotation_and_removal_cut_the_old_credentials_off_at_once(broker):
    users, _port = broker
    node = str(uuid.uuid4())
    users.ensure(node, 1)
    old = _client(users.url_for(node, 1))
    assert old.lpush(CONTROLPLANE_QUEUE, b"x")
    users.rotate(node, 2)
    with pytest.raises(redis.exceptions.ConnectionError):  # its open connection was closed, its password is gone
        old.lpush(CONTROLPLANE_QUEUE, b"y")
        old.lpush(CONTROLPLANE_QUEUE, b"y")
    new = _client(users.url_for(node, 2))
    assert new.lpush(CONTROLPLANE_QUEUE, b"z")
    users.remove(node)
    with pytest.raises(redis.exceptions.ConnectionError):
        new.lpush(CONTROLPLANE_QUEUE, b"w")
        new.lpush(CONTROLPLANE_QUEUE, b"w")


def test_sync_makes_the_broker_users_exactly_the_registered_nodes(broker):
    users, _port = broker
    keep, gone = str(uuid.uuid4()), str(uuid.uuid4())
    users.ensure(keep, 1)
    users.ensure(gone, 1)
    assert users.sync([(keep, 2)]) == 2  # password of generation 2; the removed node's user deleted
    assert users.sync([(keep, 2)]) == 0  # nothing to do the second time
    names = {u.decode() for u in _client(users.admin_url).execute_command("ACL", "USERS")}
    assert broker_users.node_user(keep) in names and broker_users.node_user(gone) not in names
    assert _client(users.url_for(keep, 2)).lpush(CONTROLPLANE_QUEUE, b"ok")
    saved = (users_acl := _acl_file(users)).read_text()
    assert broker_users.node_user(keep) in saved and "default off" in saved, users_acl


def _acl_file(users):
    return Path(_client(users.admin_url).config_get("dir")["dir"]) / "users.acl"


def test_a_broker_without_an_acl_file_works_too(tmp_path):
    """An external Redis configured with requirepass only (no aclfile): users are made and rotated all
    the same, and beat's sync re-creates them after a restart."""
    port = embedded_redis.free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--requirepass", "admin-pw", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert embedded_redis.wait_listening("127.0.0.1", port, 10)
        users = BrokerUsers(f"redis://:admin-pw@127.0.0.1:{port}/0", f"redis://:admin-pw@127.0.0.1:{port}/0", KEY)
        node = str(uuid.uuid4())
        assert users.sync([(node, 1)]) == 1
        users.rotate(node, 2)
        url = users.url_for(node, 2)
        assert "admin-pw" not in url  # agents never get the server's login
        assert _client(url).lpush(CONTROLPLANE_QUEUE, b"ok")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_an_agent_broker_override_keeps_its_own_login():
    from nodeagent.main import broker_url

    handed = "redis://kadalu-node-x:pw@10.0.0.1:6379/0"
    assert broker_url(None, handed) == handed
    assert broker_url("redis://redis:6379/0", handed) == "redis://kadalu-node-x:pw@redis:6379/0"
    assert broker_url("rediss://u:p@redis:6380/0", handed) == "rediss://u:p@redis:6380/0"
