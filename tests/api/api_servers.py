"""Real API server processes (as `kadalu-server api` starts them) on one database: several replicas,
each with its own thread pool, answering at the same time, which TestClient cannot do; and the real
server's handling of proxy headers."""
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.api_process import api_process, empty_database

__all__ = ["api_servers", "empty_database"]


@contextmanager
def api_servers(database_url: str, state_dir: Path, count: int = 2, **settings: str) -> Iterator[list[str]]:
    """Start `count` API processes on `database_url`; yield their base URLs; stop them by pid."""
    with ExitStack() as stack:
        servers = [stack.enter_context(api_process(database_url, state_dir / f"api-{n}", **settings))
                   for n in range(count)]
        yield [s.url for s in servers]
