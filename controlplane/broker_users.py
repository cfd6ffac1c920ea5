"""Broker credentials: one Redis ACL user per node, allowed to consume only its own queue and to
publish only to `controlplane`; the control plane has its own user.

Node passwords are derived from the server key and the node's secret generation (like node
secrets), so every API replica and beat can (re)create the users from the database alone, and a
re-registration (new generation) retires the old password. Beat re-asserts every node's user
(`sync`), which also heals a Redis that restarted without its ACL file."""
import hashlib
import hmac
import logging
from collections.abc import Iterable

import redis

from contracts.broker_url import with_credentials, without_credentials
from contracts.checks import check_uuid
from contracts.task_names import CONTROLPLANE_QUEUE, HEARTBEAT_QUEUE, node_queue
from controlplane import broker_client

log = logging.getLogger(__name__)

CONTROLPLANE_USER = "kadalu-controlplane"
NODE_USER_PREFIX = "kadalu-node-"

# What kombu's Redis transport and Celery's worker need to consume one queue with late acks, to
# publish results to `controlplane` and to send worker events (measured with ACL LOG on Redis 7).
NODE_COMMANDS = (
    "+ping", "+select", "+auth", "+hello", "+client|setname", "+client|id", "+quit", "+reset",
    "+multi", "+exec", "+discard", "+watch", "+unwatch",
    "+brpop", "+lpush", "+llen",
    "+sadd", "+smembers", "+srem", "+sismember",
    "+zadd", "+zrem", "+zrange", "+zrevrangebyscore", "+zrangebyscore", "+zcard",
    "+evalsha", "+eval", "+script|load",
    "+hset", "+hget", "+hdel", "+hmget", "+hlen",
    "+set", "+get", "+del", "+expire", "+pexpire", "+exists",
    "+publish",
)


def node_user(node_id: str) -> str:
    return NODE_USER_PREFIX + check_uuid(node_id, "node id")


def node_password(secret_key: str, node_id: str, generation: int) -> str:
    msg = f"broker-password:{node_id}:{generation}".encode()
    return hmac.new(secret_key.encode(), msg, hashlib.sha256).hexdigest()


def controlplane_password(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"broker-password:controlplane", hashlib.sha256).hexdigest()


def node_rules(node_id: str) -> list[str]:
    """ACL SETUSER rules after `reset`: the node's queue (and its priority sub-queues), its unacked
    bookkeeping keys, its queue's exchange binding; write-only access to `controlplane` and
    `controlplane.heartbeats`; publish
    on Celery's event channels only."""
    queue = node_queue(check_uuid(node_id, "node id"))
    return [
        *NODE_COMMANDS,
        f"~{queue}", f"~{queue}\x06\x16*",  # kombu names priority sub-queues "<queue>\x06\x16<n>"
        f"~kadalu.{queue}.unacked*",
        f"~_kombu.binding.{queue}", f"~_kombu.binding_permanent.{queue}",
        f"%W~{CONTROLPLANE_QUEUE}", f"%W~{HEARTBEAT_QUEUE}",
        "resetchannels", "&/*.celeryev/*",
    ]


class BrokerUsers:
    """ACL management through the control plane's own broker connection (it needs the `acl` and
    `client` commands: the embedded Redis gives them to `kadalu-controlplane`). Redis does not
    replicate ACL users: behind sentinels every change is written to the master and to each
    replica, so a promoted replica already knows every node's login (beat's sync heals the rest)."""

    def __init__(self, admin_url: str, agent_url: str, secret_key: str, master_name: str | None = None):
        self.admin_url = admin_url
        self.agent_url = without_credentials(agent_url)
        self.secret_key = secret_key
        self.master_name = master_name

    def _clients(self) -> list[redis.Redis]:
        return broker_client.every_instance(self.admin_url, self.master_name, socket_timeout=10, socket_connect_timeout=5)

    def url_for(self, node_id: str, generation: int) -> str:
        return with_credentials(self.agent_url, node_user(node_id), node_password(self.secret_key, node_id, generation))

    def ensure(self, node_id: str, generation: int, client: redis.Redis | None = None) -> None:
        """Create or overwrite the node's user with the password of `generation`."""
        password = node_password(self.secret_key, node_id, generation)
        for c in [client] if client is not None else self._clients():
            c.execute_command("ACL", "SETUSER", node_user(node_id), "reset", "on", f">{password}", *node_rules(node_id))

    def rotate(self, node_id: str, generation: int) -> None:
        """New password; connections made with the old one are closed at once."""
        for i, c in enumerate(self._clients()):
            try:
                self.ensure(node_id, generation, c)
                c.execute_command("CLIENT", "KILL", "USER", node_user(node_id))
                self._save(c)
            except redis.ConnectionError:
                if i == 0:  # the master must take it; a replica that is down gets it from beat's sync
                    raise
                log.warning("broker replica unreachable: node %s's new broker login reaches it with beat's sync", node_id)

    def remove(self, node_id: str) -> None:
        for c in self._clients():
            c.execute_command("ACL", "DELUSER", node_user(node_id))  # also closes its connections
            self._save(c)

    def sync(self, nodes: Iterable[tuple[str, int]]) -> int:
        """Make the broker's node users exactly the given (node id, generation) pairs, on every
        instance. Returns how many users were created, changed or deleted."""
        wanted_pairs = list(nodes)
        return sum(self._sync_one(c, wanted_pairs) for c in self._clients())

    def _sync_one(self, c: redis.Redis, nodes: list[tuple[str, int]]) -> int:
        wanted = {node_user(node_id): (node_id, gen) for node_id, gen in nodes}
        existing = {(u.decode() if isinstance(u, bytes) else u) for u in c.execute_command("ACL", "USERS")}
        changes = 0
        for name in sorted(u for u in existing if u.startswith(NODE_USER_PREFIX) and u not in wanted):
            c.execute_command("ACL", "DELUSER", name)
            changes += 1
        for name, (node_id, gen) in wanted.items():
            if name not in existing or not self._up_to_date(c, name, node_id, gen):
                self.ensure(node_id, gen, c)
                changes += 1
        if changes:
            self._save(c)
        return changes

    def _up_to_date(self, c: redis.Redis, name: str, node_id: str, generation: int) -> bool:
        """The user has this generation's password and today's key rules (a user made by an older
        version lacks the heartbeat queue)."""
        info = c.execute_command("ACL", "GETUSER", name)
        fields = dict(zip(info[0::2], info[1::2], strict=False)) if isinstance(info, list) else dict(info or {})
        hashes = fields.get(b"passwords", fields.get("passwords")) or []
        digest = hashlib.sha256(node_password(self.secret_key, node_id, generation).encode()).hexdigest()
        keys = fields.get(b"keys", fields.get("keys")) or b""
        keys = keys.decode() if isinstance(keys, bytes) else str(keys)
        return [h.decode() if isinstance(h, bytes) else h for h in hashes] == [digest] and HEARTBEAT_QUEUE in keys

    @staticmethod
    def _save(c: redis.Redis) -> None:
        """Persist into the ACL file when the server has one (the embedded broker does)."""
        try:
            c.execute_command("ACL", "SAVE")
        except redis.ResponseError as exc:
            if "acl file" not in str(exc).lower():  # "not configured to use an ACL file": beat's sync re-creates
                raise
