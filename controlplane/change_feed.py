"""Which clusters changed, told across processes: every process that writes state publishes the
ids of the clusters a committed transaction touched on a Redis channel of the broker (kadalu:changes:<db>), and the API
processes holding browsers' live streams (controlplane.web.live) listen to it.

The publisher watches SQLAlchemy sessions bound to an attached engine, so no service has to
remember to announce its changes: rows added, changed or deleted in a flush, and ORM UPDATE /
DELETE statements (a cluster_id in their WHERE clause, or the id of a row the session holds; else
"*", every cluster). Announcements are hints, not data: a listener re-reads the database, and a
lost one (Redis down) is healed by the listeners' periodic refresh. Publishing never fails a
commit: after an error it pauses for a few seconds."""
import json
import logging
import os
import time
import weakref

import redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ColumnClause

from contracts import broker_url
from controlplane import broker_client
from controlplane.models import Alert, Brick, Cluster, Device, Node, Rebalance, Task, Volume

log = logging.getLogger(__name__)
CHANNEL = "kadalu:changes"
EVERY = "*"
WATCHED = {m.__tablename__: m for m in (Alert, Brick, Cluster, Device, Node, Rebalance, Task, Volume)}
_PENDING = "kadalu_changed_clusters"


def channel(url: str) -> str:
    """Pub/sub ignores Redis database numbers: the channel names the broker's database, so control
    planes sharing one Redis server on different databases do not wake each other's pages."""
    try:
        db = broker_url.db(url)
    except ValueError:
        db = 0
    return f"{CHANNEL}:{db}"

PAUSE_AFTER_ERROR = 5.0


class Publisher:
    def __init__(self, url: str, master_name: str | None = None):
        self.url, self.channel, self.master_name = url, channel(url), master_name
        self._client: redis.Redis | None = None
        self._pid = 0
        self._paused_until = 0.0

    def _redis(self) -> redis.Redis:
        if self._client is None or self._pid != os.getpid():  # a forked worker child needs its own socket
            self._client = broker_client.master(self.url, self.master_name, socket_connect_timeout=0.5, socket_timeout=0.5)
            self._pid = os.getpid()
        return self._client

    def publish(self, clusters: set[str]) -> None:
        if not clusters or time.monotonic() < self._paused_until:
            return
        body = json.dumps([EVERY] if EVERY in clusters else sorted(clusters))
        try:
            self._redis().publish(self.channel, body)
        except redis.RedisError as exc:
            self._paused_until = time.monotonic() + PAUSE_AFTER_ERROR
            log.info("change feed: could not publish (%s); live pages refresh on their own timer", exc)


_publishers: "weakref.WeakKeyDictionary[Engine, Publisher]" = weakref.WeakKeyDictionary()


def attach(engine: Engine, broker_url: str | None, master_name: str | None = None) -> None:
    """Announce the changes committed through sessions bound to `engine`."""
    if broker_url:
        _publishers[engine] = Publisher(broker_url, master_name)
        _install()


def _publisher(session: Session) -> Publisher | None:
    bind = session.bind
    return _publishers.get(bind) if isinstance(bind, Engine) else None


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def _cluster_of(session: Session, obj) -> str:
    if isinstance(obj, Cluster):
        return obj.id
    cluster_id = getattr(obj, "cluster_id", None)
    if cluster_id:
        return cluster_id
    volume = session.identity_map.get(identity_key(Volume, obj.volume_id)) if isinstance(obj, Rebalance) else None
    return volume.cluster_id if volume is not None else EVERY


def _after_flush(session: Session, _flush_context) -> None:
    if _publisher(session) is None:
        return
    touched = _pending(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(type(obj), "__tablename__", None) in WATCHED:
            touched.add(_cluster_of(session, obj))


def _statement_clusters(session: Session, statement) -> str:
    model = WATCHED.get(getattr(getattr(statement, "table", None), "name", ""))
    if model is None:
        return ""
    where = getattr(statement, "whereclause", None)
    for node in visitors.iterate(where) if where is not None else ():
        if isinstance(node, BinaryExpression) and isinstance(node.left, ColumnClause) and isinstance(node.right, BindParameter):
            value = node.right.effective_value
            if node.left.name == "cluster_id" and isinstance(value, str):
                return value
            if node.left.name == "id" and isinstance(value, str):
                held = session.identity_map.get(identity_key(model, value))
                if held is not None:
                    return _cluster_of(session, held)
                if model is Cluster:
                    return value
    return EVERY


def _do_orm_execute(state) -> None:
    if (state.is_update or state.is_delete) and _publisher(state.session) is not None:
        touched = _statement_clusters(state.session, state.statement)
        if touched:
            _pending(state.session).add(touched)


def _after_commit(session: Session) -> None:
    touched = session.info.pop(_PENDING, None)
    publisher = _publisher(session)
    if touched and publisher is not None:
        publisher.publish(touched)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
