"""Live pages: a server-sent events stream per open page, authorised like the page itself.

Each API process keeps one subscription to the change feed (controlplane.change_feed: Redis
pub/sub on the broker). When a cluster a stream shows changes, the stream re-reads the page's
sections through the services with its user's access and sends the sections whose HTML changed.
Without an announcement a stream re-reads every KADALU_WEB_REFRESH_SECONDS (5) anyway (a lost announcement, a
broker outage). Renders of one stream are at least MIN_GAP_SECONDS apart, so a burst of commits
(heartbeats of many nodes) costs a few renders, not one per commit. The login token is checked
again at each render: a logout or revocation ends the stream."""
import asyncio
import json
import logging
import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from controlplane import broker_client
from controlplane.change_feed import EVERY, channel
from controlplane.services import clusters
from controlplane.services.errors import ServiceError, Unauthorized
from controlplane.web import session as web_session
from controlplane.web import views
from controlplane.web.render import SECURITY_HEADERS, render

log = logging.getLogger(__name__)
router = APIRouter(prefix="/ui", include_in_schema=False)
MIN_GAP_SECONDS = 0.2
KEEPALIVE = b": keepalive\n\n"


class Subscriber:
    def __init__(self, cluster_id: str | None):
        self.cluster_id = cluster_id  # None: every cluster (the overview)
        self.changed = asyncio.Event()


class ChangeHub:
    """One Redis subscription per API process, fanned out to the open streams."""

    def __init__(self, broker_url: str | None, master_name: str | None = None):
        self.url = broker_url or ""
        self.master_name = master_name
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.url and self._task is None:
            self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def subscribe(self, cluster_id: str | None) -> Subscriber:
        sub = Subscriber(cluster_id)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def announce(self, cluster_ids: list[str]) -> None:
        every = EVERY in cluster_ids
        for sub in list(self.subscribers):
            if every or sub.cluster_id is None or sub.cluster_id in cluster_ids:
                sub.changed.set()

    async def _listen(self) -> None:
        delay = 1.0
        while True:
            try:
                client = broker_client.async_master(self.url, self.master_name)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(channel(self.url))
                    delay = 1.0
                    self.announce([EVERY])  # whatever happened while unsubscribed
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.announce(_cluster_ids(message.get("data")))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker down: streams keep their periodic refresh
                log.info("web change feed: %s; subscribing again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


def _cluster_ids(data) -> list[str]:
    try:
        ids = json.loads(data)
        return [str(i) for i in ids] if isinstance(ids, list) else [EVERY]
    except (TypeError, ValueError):
        return [EVERY]


def fragments(request: Request, cluster: str | None, volume: str | None) -> dict[str, str]:
    """The live sections of a page, rendered for the stream's user (raises Unauthorized once the
    login ended, NotFound once the cluster or volume is gone or no longer visible)."""
    settings = request.app.state.settings
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        me = web_session.current(request, session, settings)
        grafana = (settings.grafana_url or "").rstrip("/")
        if cluster is None:
            return {"clusters": render("_clusters.html", clusters=views.clusters_overview(session, me.access))}
        c = clusters.get_visible(session, me.access, cluster)
        if volume is not None:
            v = views.volume_view(session, me.access, c, volume)
            return {name: render(f"_{tpl}.html", v=v, grafana_url=grafana)
                    for name, tpl in (("volume-head", "volume_head"), ("bricks", "bricks"), ("rebalance", "rebalance"))}
        v = views.cluster_view(session, me.access, c)
        ctx = {"v": v, "roles": views.roles(me.access, c), "grafana_url": grafana}
        return {name: render(f"_{name}.html", **ctx) for name in ("summary", "alerts", "nodes", "volumes", "tasks", "failures")}


def _cluster_id(request: Request, cluster: str) -> str:
    with Session(request.app.state.engine) as session:
        me = web_session.current(request, session, request.app.state.settings)
        return clusters.get_visible(session, me.access, cluster).id


async def _stream(request: Request, cluster: str | None, volume: str | None, sub: Subscriber, first: dict[str, str]):
    hub: ChangeHub = request.app.state.web_hub
    refresh = request.app.state.settings.web_refresh_seconds
    sent = dict(first)
    try:
        for name, html in first.items():
            yield _event("fragment", {"id": name, "html": html})
        last = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(sub.changed.wait(), timeout=refresh)
            except TimeoutError:
                pass
            if await request.is_disconnected():
                return
            await asyncio.sleep(max(0.0, MIN_GAP_SECONDS - (time.monotonic() - last)))
            sub.changed.clear()
            last = time.monotonic()
            try:
                now = await run_in_threadpool(fragments, request, cluster, volume)
            except Unauthorized:
                yield _event("logout", {})
                return
            except ServiceError as exc:
                yield _event("gone", {"message": exc.message})
                return
            changed = {k: html for k, html in now.items() if sent.get(k) != html}
            for name, html in changed.items():
                yield _event("fragment", {"id": name, "html": html})
            if not changed:
                yield KEEPALIVE
            sent = now
    finally:
        hub.unsubscribe(sub)


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def _open(request: Request, cluster: str | None, volume: str | None):
    try:
        cluster_id = await run_in_threadpool(_cluster_id, request, cluster) if cluster else None
        first = await run_in_threadpool(fragments, request, cluster, volume)
    except ServiceError as exc:
        return StreamingResponse(iter([_event("logout" if isinstance(exc, Unauthorized) else "gone",
                                              {"message": exc.message})]),
                                 status_code=exc.status, media_type="text/event-stream", headers=SECURITY_HEADERS)
    sub = request.app.state.web_hub.subscribe(cluster_id)
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(_stream(request, cluster, volume, sub, first), media_type="text/event-stream", headers=headers)


@router.get("/events")
async def overview_events(request: Request):
    return await _open(request, None, None)


@router.get("/clusters/{cluster}/events")
async def cluster_events(cluster: str, request: Request, volume: str | None = None):
    return await _open(request, cluster, volume)
