"""High availability with real processes on one machine (tools/ha_local.py, docs/high-availability.md):
PostgreSQL primary + streaming standby, Redis master + replica under three sentinels (Celery's
sentinel:// URL), two API replicas, two control workers, one beat, three agents with real bricks.

The primary database and one API replica are killed in the middle of a volume create; after the
standby is promoted the create completes and nothing committed is lost. Then the Redis master is
killed: the sentinels promote the replica and the next create completes. A FUSE mount keeps
serving throughout."""
import os
import random
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.harness import wait_for
from tests.integration.test_volumes_e2e import add_devices, kadalu, mount
from tools.ha_local import PG_BIN, HAStack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("glusterfsd") is None, reason="GlusterFS is not installed (scripts/setup.sh)"),
    pytest.mark.skipif(shutil.which("redis-sentinel") is None, reason="redis-sentinel is not installed (scripts/setup.sh)"),
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 binaries are not installed"),
]
NODES = ("node1", "node2", "node3")


class HACluster:
    """What the e2e helpers expect of a control plane (tests/integration/harness.Cluster), over the HA stack."""

    def __init__(self, stack: HAStack):
        self.stack, self.root = stack, stack.root
        self.url = stack.api_urls[0]
        self.token: str | None = None
        self.procs = self  # .procs.tails()

    def tails(self) -> str:
        try:
            volumes = self.api("GET", "/clusters/mycluster/volumes").json()
            tasks = self.api("GET", "/clusters/mycluster/tasks", params={"limit": 20}).json()
        except (httpx.HTTPError, ValueError) as exc:
            volumes = tasks = repr(exc)
        return f"volumes: {volumes}\ntasks: {tasks}\n{self.stack.tails()}"

    def api(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}/api/v1{path}", headers={"Authorization": f"Bearer {self.token}"},
                             timeout=30, **kw)

    def healthy(self) -> bool:
        try:
            return self.api("GET", "/health").status_code == 200
        except httpx.TransportError:
            return False

    def node_states(self, cluster: str) -> dict[str, str]:
        return {n["name"]: n["state"] for n in self.api("GET", f"/clusters/{cluster}/nodes").json()["data"]}

    def task(self, task_id: str) -> dict:
        return self.api("GET", f"/tasks/{task_id}").json()

    def wait_task_done(self, task_id: str, timeout: float = 60) -> dict:
        return wait_for(lambda: (t := self.task(task_id))["phase"] in ("done", "failed") and t, timeout,
                        f"task {task_id} to finish", self.tails)

    def volume_state(self, name: str) -> str | None:
        r = self.api("GET", f"/clusters/mycluster/volumes/{name}")
        return r.json()["state"] if r.status_code == 200 else None

    def create_volume(self, name: str) -> None:
        bricks = [f"{n}:{self.root / 'exports' / n / f'{name}-b'}" for n in NODES]
        r = self.api("POST", "/clusters/mycluster/volumes", json={"name": name, "replica": 3, "bricks": bricks})
        assert r.status_code == 202, r.text


@pytest.fixture
def ha(tmp_path):
    stack = HAStack(tmp_path / "ha")
    base = random.randrange(30000, 45000, 100)
    stack.extra_env = {"KADALU_BRICK_PORT_BASE": str(base), "KADALU_BRICK_PORT_LAST": str(base + 99)}
    cp = HACluster(stack)
    try:
        stack.up()
        body = {"username": "admin", "password": "password-123"}
        httpx.post(f"{cp.url}/api/v1/auth/first-user", json=body).raise_for_status()
        cp.token = httpx.post(f"{cp.url}/api/v1/auth/login", json=body).json()["token"]
        join = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
        agent_env = {k: v for k, v in os.environ.items() if not k.startswith("KADALU_")}
        agent_env |= {"KADALU_URL": ",".join(stack.api_urls), "KADALU_JOIN_TOKEN": join}
        for i, name in enumerate(NODES, start=1):
            stack.spawn(f"agent-{name}", [sys.executable, "-m", "nodeagent.main", "--name", name, "--address",
                                          f"127.0.1.{i}", "--state-dir", str(stack.root / "agents" / name),
                                          "--device-root", str(stack.root)], agent_env)
        wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 90, "agents Online", cp.tails)
        add_devices(cp, "exports")
        yield cp
    finally:
        from nodeagent.gluster.mount import fuse_mounted, umount
        from nodeagent.gluster.pids import stop_pid

        for mnt in sorted((stack.root / "mnt").glob("*")) if (stack.root / "mnt").exists() else []:
            if fuse_mounted(str(mnt)):
                umount(str(mnt))
        for pidfile in sorted((stack.root / "agents").glob("*/run/*.pid")):
            stop_pid(pidfile)
        stack.down()


def test_database_failover_api_replica_loss_and_broker_failover_lose_nothing(ha):
    cp = ha
    cp.create_volume("gvol1")
    wait_for(lambda: cp.volume_state("gvol1") == "Started", 60, "gvol1 Started", cp.tails)
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    mnt = mount(cp, "gvol1")
    (mnt / "before").write_bytes(b"written before the failures" * 100)

    # The primary database and API replica 1 die while gvol2 is being created.
    cp.create_volume("gvol2")
    ha.stack.primary.kill()
    ha.stack.kill("api1")
    cp.url = ha.stack.api_urls[1]
    assert (mnt / "before").read_bytes() == b"written before the failures" * 100  # bricks serve on their own
    ha.stack.standby.promote()  # the operator's (or a failover manager's) promotion
    wait_for(cp.healthy, 60, "the surviving API replica to reach the promoted database", cp.tails)
    wait_for(lambda: cp.volume_state("gvol2") == "Started", 120, "gvol2 Started after the failover", cp.tails)
    cp.create_volume("gvol3")
    wait_for(lambda: cp.volume_state("gvol3") == "Started", 60, "gvol3 Started on the promoted database", cp.tails)

    # The Redis master dies: the sentinels promote the replica; workers and agents follow them.
    old_master = ha.stack.redis_master_port()
    ha.stack.kill(f"redis{ha.stack.redis_ports.index(old_master)}")
    wait_for(lambda: ha.stack.redis_master_port() != old_master, 60, "the sentinels to promote the replica", cp.tails)
    cp.create_volume("gvol4")
    wait_for(lambda: cp.volume_state("gvol4") == "Started", 120, "gvol4 Started after the broker failover", cp.tails)
    wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online again", cp.tails)

    names = {v["name"]: v["state"] for v in cp.api("GET", "/clusters/mycluster/volumes").json()["data"]}
    assert names == {f"gvol{i}": "Started" for i in range(1, 5)}
    failed = cp.api("GET", "/clusters/mycluster/tasks", params={"state": "FAILED", "limit": 1000}).json()["data"]
    assert failed == [], failed
    (mnt / "after").write_bytes(b"x" * 4096)
    assert (mnt / "before").read_bytes() == b"written before the failures" * 100
    assert Path(mnt / "after").stat().st_size == 4096
