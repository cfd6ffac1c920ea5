"""Redis connections of the control plane itself (beside Celery's): the broker users' ACL, the
task-message probe, the change feed. A plain URL connects directly; a sentinel:// URL asks the
sentinels for the current master on every (re)connection, so a failover needs no restart."""
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

from contracts import broker_url as urls

SENTINEL_TIMEOUT = 2.0


def _sentinel_args(url: str, kw: dict[str, Any]) -> dict[str, Any]:
    username, password = urls.credentials(url)
    return {**kw, "username": username, "password": password, "db": urls.db(url)}


def _master_name(url: str, master_name: str | None) -> str:
    urls.check(url, master_name)  # refuses a sentinel URL without a master name
    return master_name or ""


def master(url: str, master_name: str | None = None, **kw: Any) -> redis.Redis:
    """A client of the broker's (current) master."""
    if not urls.is_sentinel(url):
        return redis.Redis.from_url(url, **kw)
    name = _master_name(url, master_name)
    sentinel = Sentinel(urls.sentinels(url), sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT})
    return sentinel.master_for(name, **_sentinel_args(url, kw))


def every_instance(url: str, master_name: str | None = None, **kw: Any) -> list[redis.Redis]:
    """The master and, behind sentinels, every replica: what is not replicated (ACL users) must be
    written to each, so a promoted replica already knows every node's broker login."""
    if not urls.is_sentinel(url):
        return [redis.Redis.from_url(url, **kw)]
    name = _master_name(url, master_name)
    sentinel = Sentinel(urls.sentinels(url), sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT})
    args = _sentinel_args(url, kw)
    host, port = sentinel.discover_master(name)
    clients = [redis.Redis(host=host, port=port, **args)]
    clients += [redis.Redis(host=h, port=p, **args) for h, p in sentinel.discover_slaves(name)]
    return clients


def async_master(url: str, master_name: str | None = None, **kw: Any) -> aioredis.Redis:
    if not urls.is_sentinel(url):
        return aioredis.Redis.from_url(url, **kw)
    name = _master_name(url, master_name)
    sentinel = AsyncSentinel(urls.sentinels(url), sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT})
    return sentinel.master_for(name, **_sentinel_args(url, kw))
