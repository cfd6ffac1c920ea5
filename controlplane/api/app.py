"""The FastAPI application factory."""
import hmac
import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlmodel import Session

from controlplane import __version__, web
from controlplane.api import errors, openapi
from controlplane.api.body_limit import BodyLimit
from controlplane.api.routes import (
    agent,
    auth,
    clusters,
    devices,
    failures,
    georep,
    health,
    nodes,
    snapshots,
    tasks,
    users,
    volume_changes,
    volumes,
)
from controlplane.api.routes import verify as cluster_verify
from controlplane.api.routes import volume_quota as quota_routes
from controlplane.db import make_engine
from controlplane.dispatch import CelerySender
from controlplane.metrics import Metrics
from controlplane.services import agent_access, metadata_signatures
from controlplane.services import clusters as cluster_service
from controlplane.services import users as user_service
from controlplane.services.access import READ, load_access
from controlplane.services.errors import Unauthorized
from controlplane.settings import Settings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, sender=None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        with Session(engine) as session:
            cluster_service.ensure_default_cluster(session)
        await web.startup(app)
        yield
        await web.shutdown(app)
        engine.dispose()

    app = FastAPI(title="Kadalu control plane", version=__version__, lifespan=lifespan,
                  description="Manage GlusterFS clusters without glusterd. Authenticate with POST /api/v1/auth/login.")
    app.state.settings, app.state.engine = settings, engine
    if sender is None:
        from controlplane.celery_app import make_celery
        sender = CelerySender(make_celery(settings), settings.effective_secret_key)
    app.state.sender = sender
    app.state.broker_users = agent_access.broker_users(settings)
    app.state.metadata_signatures = metadata_signatures.SignatureCache()
    if not settings.broker_acl:
        log.warning("KADALU_BROKER_ACL is off: every agent gets the same broker login and can read and write every "
                    "node's queue (see docs/security.md)")
    app.state.metrics = metrics = Metrics(engine, settings.metrics_task_window_seconds, settings.metrics_cache_seconds)

    for module in (health, auth, users, clusters, nodes, devices, volumes, volume_changes, georep, tasks, failures, agent,
                   cluster_verify, quota_routes, snapshots):
        app.include_router(module.router, prefix=API_PREFIX)
    web.mount(app, settings)  # the web UI under /ui, kept out of the OpenAPI document

    # an oversized body is refused before anything reads it; inside `observe`, so 413s are counted
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)

    @app.middleware("http")
    async def observe(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.observe(request.method, getattr(route, "path", "unmatched"), response.status_code, started)
        return response

    errors.install(app)
    openapi.install(app)

    @app.get("/metrics", include_in_schema=False)
    def read_metrics(request: Request):
        _authorize_scrape(request, settings, engine)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return app


def _authorize_scrape(request: Request, settings: Settings, engine) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("metrics need 'Authorization: Bearer <token>' (a user token, or KADALU_METRICS_TOKEN)")
    if settings.metrics_token and hmac.compare_digest(token, settings.metrics_token):
        return
    with Session(engine) as session:
        user, _row = user_service.user_for_token(session, token)
        load_access(session, user).require_global(READ)
