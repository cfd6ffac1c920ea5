"""The pages (GET): login, clusters, one cluster, one volume, the volume form, users. Each reads
through the services with the logged-in user's access, exactly as the API does."""
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session, select

from controlplane.api import present
from controlplane.models import User
from controlplane.services import clusters, users, volume_options, volumes
from controlplane.services.access import MANAGE
from controlplane.services.errors import NotFound, ServiceError, Unauthorized
from controlplane.web import session as web_session
from controlplane.web import views
from controlplane.web.render import page

router = APIRouter(prefix="/ui", include_in_schema=False)
MAX_OPTION_MATCHES = 60


def context(request: Request, me: web_session.WebUser | None, title: str, **more) -> dict:
    return {"me": me, "title": title, "grafana_url": (request.app.state.settings.grafana_url or "").rstrip("/"), **more}


def _guarded(request: Request, build):
    """Run `build(session, me)`; not logged in -> the login page, a refusal -> an error page."""
    settings = request.app.state.settings
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            me = web_session.current(request, session, settings)
        except Unauthorized:
            return RedirectResponse("/ui/login", status_code=303)
        try:
            return build(session, me)
        except ServiceError as exc:
            heading = "Not found" if isinstance(exc, NotFound) else "Refused"
            return page("error.html", status=exc.status, **context(request, me, heading, heading=heading,
                                                                   message=exc.message))


@router.get("/login")
def login_page(request: Request):
    with Session(request.app.state.engine) as session:
        needs_first = users.user_count(session) == 0
    return page("login.html", **context(request, None, "Log in", needs_first_user=needs_first,
                                        base_url=str(request.base_url).rstrip("/")))


@router.get("/")
def overview(request: Request):
    return _guarded(request, lambda session, me: page(
        "overview.html", **context(request, me, "Clusters", clusters=views.clusters_overview(session, me.access))))


@router.get("/clusters/{cluster}")
def cluster_page(cluster: str, request: Request):
    def build(session, me):
        c = clusters.get_visible(session, me.access, cluster)
        return page("cluster.html", **context(request, me, f"Cluster {c.name}", v=views.cluster_view(session, me.access, c),
                                              roles=views.roles(me.access, c)))
    return _guarded(request, build)


@router.get("/clusters/{cluster}/volumes/new")
def volume_form(cluster: str, request: Request):
    def build(session, me):
        c = clusters.get_visible(session, me.access, cluster)
        return page("volume_new.html", **context(request, me, "Create a volume", cluster=c.name,
                                                 nodes=views.node_choices(session, me.access, c)))
    return _guarded(request, build)


@router.get("/clusters/{cluster}/volumes/{volume}")
def volume_page(cluster: str, volume: str, request: Request):
    def build(session, me):
        c = clusters.get_visible(session, me.access, cluster)
        v = views.volume_view(session, me.access, c, volume)
        changed = [o for o in volume_options.listing(volumes.get(session, me.access, c, volume), None) if o["changed"]]
        return page("volume.html", **context(request, me, f"Volume {volume}", v=v, options=changed, query=""))
    return _guarded(request, build)


@router.get("/clusters/{cluster}/volumes/{volume}/options")
def volume_options_search(cluster: str, volume: str, request: Request, q: str = ""):
    """The option rows matching `q` (name or description), for the search box."""
    def build(session, me):
        c = clusters.get_visible(session, me.access, cluster)
        vol = volumes.get(session, me.access, c, volume)
        rows = volume_options.listing(vol, None)
        words = q.lower().split()
        found = [o for o in rows if all(w in (o["name"] + " " + o["description"]).lower() for w in words)] if words \
            else [o for o in rows if o["changed"]]
        return page("_options.html", **context(request, me, "", v=views.volume_view(session, me.access, c, volume),
                                               options=found[:MAX_OPTION_MATCHES], query=q))
    return _guarded(request, build)


@router.get("/users")
def users_page(request: Request):
    def build(session, me):
        me.access.require_global(MANAGE)
        rows = [present.user(session, u) for u in session.exec(select(User).order_by(User.username))]
        names = [c.name for c in clusters.list_visible(session, me.access)]
        return page("users.html", **context(request, me, "Users", users=rows, clusters=names))
    return _guarded(request, build)
