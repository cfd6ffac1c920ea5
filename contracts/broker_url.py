"""Broker URLs as Celery (kombu) takes them: one Redis URL (redis://, rediss://), or a list of
Redis Sentinels, `sentinel://h1:26379;sentinel://h2:26379/0`, with the name of the monitored
master given apart (KADALU_BROKER_MASTER_NAME; kombu's transport option `master_name`).

In a sentinel URL the user and password are those of the Redis master and its replicas (kombu and
redis-py use them for the master connection); the sentinels are reached without them."""
from urllib.parse import quote, unquote, urlsplit, urlunsplit

SENTINEL = "sentinel"
PLAIN_SCHEMES = ("redis", "rediss")


class BrokerUrlError(ValueError):
    pass


def parts(url: str) -> list[str]:
    return [p.strip() for p in url.split(";") if p.strip()]


def is_sentinel(url: str) -> bool:
    return url.strip().startswith(f"{SENTINEL}://")


def check(url: str, master_name: str | None) -> str:
    """The URL, or BrokerUrlError saying what is wrong with it."""
    items = parts(url)
    if not items:
        raise BrokerUrlError("the broker URL is empty")
    schemes = {urlsplit(p).scheme for p in items}
    if schemes == {SENTINEL}:
        if not master_name:
            raise BrokerUrlError("a sentinel:// broker URL needs the name of the Redis master the sentinels monitor: "
                                 "set KADALU_BROKER_MASTER_NAME (as in `sentinel monitor <name> ...`)")
        for p in items:
            if not urlsplit(p).hostname:
                raise BrokerUrlError(f"sentinel address without a host in the broker URL: {without_credentials(p)!r}")
        return url
    if len(items) > 1 or not schemes <= set(PLAIN_SCHEMES):
        raise BrokerUrlError("the broker URL must be one redis:// or rediss:// URL, or sentinel://host:port entries "
                             f"separated by ';' (got scheme(s) {', '.join(sorted(schemes))})")
    return url


def _netloc(parts_, username: str | None, password: str | None) -> str:
    host = parts_.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    userinfo = ""
    if username or password:
        userinfo = f"{quote(username or '', safe='')}:{quote(password or '', safe='')}@"
    return userinfo + host + (f":{parts_.port}" if parts_.port else "")


def with_credentials(url: str, username: str, password: str) -> str:
    """`url` with the user and password of every entry replaced."""
    out = []
    for p in parts(url):
        s = urlsplit(p)
        out.append(urlunsplit((s.scheme, _netloc(s, username, password), s.path, s.query, s.fragment)))
    return ";".join(out)


def without_credentials(url: str) -> str:
    out = []
    for p in parts(url):
        s = urlsplit(p)
        out.append(urlunsplit((s.scheme, s.netloc.rpartition("@")[2], s.path, s.query, s.fragment)))
    return ";".join(out)


def credentials(url: str) -> tuple[str | None, str | None]:
    """The (user, password) of the first entry that has any."""
    for p in parts(url):
        s = urlsplit(p)
        if s.username or s.password:
            return (unquote(s.username) if s.username else None, unquote(s.password) if s.password else None)
    return None, None


def sentinels(url: str) -> list[tuple[str, int]]:
    return [(urlsplit(p).hostname or "127.0.0.1", urlsplit(p).port or 26379) for p in parts(url)]


def db(url: str) -> int:
    """The Redis database number: the path of the last entry that has one (kombu's rule), else 0."""
    for p in reversed(parts(url)):
        path = urlsplit(p).path.strip("/")
        if path:
            try:
                return int(path)
            except ValueError:
                raise BrokerUrlError(f"the broker URL's database must be a number, not {path!r}") from None
    return 0
