"""What the pages can do (POST): log in and out, add devices, create (or preview) volumes, start,
stop, delete, expand, rebalance, set and reset options, and for admins users and grants.

Every action needs the session cookie and the CSRF token (controlplane.web.session), then calls
the same service as the API route, which checks the same role: the UI hiding a button is a
courtesy, the refusal is the service's. Answers are fragments for htmx (a flash message; errors
keep their HTTP status)."""
import logging
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from controlplane.api.client_address import client_address
from controlplane.services import (
    clusters,
    devices,
    grants,
    nodes,
    outbox,
    provisioning,
    rebalance,
    users,
    volume_ops,
    volume_plan,
    volumes,
)
from controlplane.services.access import MANAGE, WRITE
from controlplane.services.errors import Invalid, ServiceError, Unauthorized
from controlplane.services.login_throttle import Limits
from controlplane.services.names import check_name
from controlplane.web import session as web_session
from controlplane.web.pages import context
from controlplane.web.render import SECURITY_HEADERS, flash, page

log = logging.getLogger(__name__)
router = APIRouter(prefix="/ui", include_in_schema=False)
LAYOUTS = {"replica3": (3, None), "replica2": (2, None), "arbiter": (3, 1), "distribute": (None, None),
           "disperse": (None, None)}


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


async def _act(request: Request, work):
    """Authenticate, check CSRF, run `work(session, me, form)`; a refusal becomes an error flash."""
    form = await _form(request)
    app = request.app

    def run():
        with Session(app.state.engine, expire_on_commit=False) as session:
            # commits send the tasks they wrote and bump the metadata they changed, as in the API
            outbox.configure(session, app.state.sender, app.state.settings.metadata_keep_versions)
            try:
                me = web_session.current(request, session, app.state.settings)
            except Unauthorized as exc:
                return flash(f"{exc.message}: log in again", "error", 401, headers={"HX-Redirect": "/ui/login"})
            try:
                web_session.check_csrf(request, me, form)
                return work(session, me, form)
            except ServiceError as exc:
                if exc.status in (401, 403, 429):
                    log.warning("web: refused %s %s for %s: %d %s", request.method, request.url.path[:200],
                                me.access.user.username, exc.status, exc.message[:200])
                return flash(exc.message, "error", exc.status, headers=getattr(exc, "headers", None))
    return await run_in_threadpool(run)


def _int(form: dict, key: str) -> int | None:
    raw = form.get(key, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{key} must be a whole number, not {raw[:20]!r}") from None


def _lines(form: dict, key: str) -> list[str]:
    return [line.strip() for line in form.get(key, "").splitlines() if line.strip()]


# --- login ---------------------------------------------------------------------------------------

@router.post("/login")
async def login(request: Request):
    form = await _form(request)
    app, settings = request.app, request.app.state.settings
    peer = request.client.host if request.client else "unknown"
    address = client_address(peer, request.headers.getlist("x-forwarded-for"), settings.trusted_proxy_networks)

    def run():
        with Session(app.state.engine, expire_on_commit=False) as session:
            try:
                web_session.check_origin(request)
                token = web_session.login(session, settings, Limits.from_settings(settings), address,
                                          form.get("username", ""), form.get("password", ""))
            except ServiceError as exc:
                log.warning("web: refused login of %r from %s: %s", form.get("username", "")[:64], address, exc.message)
                return page("login.html", status=exc.status, headers=getattr(exc, "headers", None),
                            **context(request, None, "Log in", error=exc.message, username=form.get("username", "")))
        response = RedirectResponse("/ui/", status_code=303, headers=SECURITY_HEADERS)
        web_session.set_cookie(response, request, settings, token)
        return response
    return await run_in_threadpool(run)


@router.post("/logout")
async def logout(request: Request):
    def work(session, me, _form):
        users.revoke_token(session, me.token_row)
        response = RedirectResponse("/ui/login", status_code=303, headers=SECURITY_HEADERS)
        web_session.clear_cookie(response)
        return response
    return await _act(request, work)


# --- devices and volumes -----------------------------------------------------------------------

@router.post("/clusters/{cluster}/devices")
async def add_device(cluster: str, request: Request):
    def work(session, me, form):
        c = clusters.get_visible(session, me.access, cluster)
        node = nodes.get(session, c, form.get("node", ""))
        devices.add(session, access=me.access, cluster=c, node=node, path=form.get("path", "").strip() or None)
        return flash(f"Device {form.get('path')} on {node.name} sent to its agent: it shows Ready when checked.")
    return await _act(request, work)


def _layout_args(form: dict) -> dict:
    replica, arbiter = LAYOUTS.get(form.get("layout", ""), (None, None))
    if form.get("layout") not in LAYOUTS:
        raise Invalid(f"unknown volume type {form.get('layout', '')[:20]!r}: pick one from the list")
    disperse = _int(form, "disperse") if form["layout"] == "disperse" else None
    redundancy = _int(form, "redundancy") if form["layout"] == "disperse" else None
    if form["layout"] == "disperse" and disperse is None:
        raise Invalid("a disperse volume needs its disperse count (3 or more)")
    return {"replica": replica, "arbiter": arbiter, "disperse": disperse, "redundancy": redundancy}


@router.post("/clusters/{cluster}/volumes")
async def create_volume(cluster: str, request: Request):
    def work(session, me, form):
        c = clusters.get_visible(session, me.access, cluster)
        lay = _layout_args(form)
        name = form.get("name", "").strip()
        size = form.get("size", "").strip() or None
        settings = request.app.state.settings
        wanted = volume_ops.CreateRequest(name=name, bricks=_lines(form, "bricks"), size=size,
                                          distribute=_int(form, "distribute"), **lay)
        vol, _ = volume_ops.create(session, access=me.access, cluster=c, request=wanted,
                                   port_base=settings.brick_port_base, port_last=settings.brick_port_last)
        target = f"/ui/clusters/{quote(c.name)}/volumes/{quote(vol.name)}"
        return flash(f"Volume {vol.name} is being created.", headers={"HX-Redirect": target})
    return await _act(request, work)


@router.post("/clusters/{cluster}/volumes/plan")
async def plan_volume(cluster: str, request: Request):
    """The dry run of a sized create: where the bricks would go; nothing is stored."""
    def work(session, me, form):
        c = clusters.get_visible(session, me.access, cluster)
        me.access.require(WRITE, c.id, "plan a volume")
        name, size = form.get("name", "").strip(), form.get("size", "").strip()
        if not size:
            raise Invalid("the preview needs a size (e.g. 10GiB): explicit bricks go where you write them")
        check_name("volume", name)
        lay = _layout_args(form)
        layout = volume_plan.layout(lay["replica"], lay["arbiter"], lay["disperse"], lay["redundancy"])
        try:
            p = provisioning.plan(session, c, name, size, layout, _int(form, "distribute"))
        finally:
            session.rollback()  # releases the planning lock; nothing was written
        bricks = [{"node": b.node_name, "path": b.path, "size_bytes": b.size_bytes, "set": b.set_index + 1,
                   "arbiter": b.arbiter} for b in p.bricks]
        return page("_plan.html", plan={"set_count": p.set_count, "set_size": p.set_size, "brick_size": p.brick_size,
                                        "total_bytes": p.total_bytes, "bricks": bricks, "notes": list(p.notes)})
    return await _act(request, work)


def _volume_action(cluster: str, volume: str, request: Request, act):
    def work(session, me, form):
        c = clusters.get_visible(session, me.access, cluster)
        vol = volumes.get(session, me.access, c, volume)
        message = act(session, me, form, c, vol)
        return flash(message)
    return _act(request, work)


@router.post("/clusters/{cluster}/volumes/{volume}/start")
async def start_volume(cluster: str, volume: str, request: Request):
    def act(session, me, form, c, vol):
        volume_ops.start(session, access=me.access, volume=vol,
                         request=volume_ops.StartRequest(force=form.get("force") == "1"))
        return f"Starting volume {vol.name}."
    return await _volume_action(cluster, volume, request, act)


@router.post("/clusters/{cluster}/volumes/{volume}/stop")
async def stop_volume(cluster: str, volume: str, request: Request):
    def act(session, me, form, c, vol):
        volume_ops.stop(session, access=me.access, volume=vol)
        return f"Stopping volume {vol.name}."
    return await _volume_action(cluster, volume, request, act)


@router.post("/clusters/{cluster}/volumes/{volume}/delete")
async def delete_volume(cluster: str, volume: str, request: Request):
    def act(session, me, form, c, vol):
        volume_ops.delete(session, access=me.access, volume=vol)
        return f"Deleting volume {vol.name}; the files stay in the brick directories."
    return await _volume_action(cluster, volume, request, act)


@router.post("/clusters/{cluster}/volumes/{volume}/expand")
async def expand_volume(cluster: str, volume: str, request: Request):
    def act(session, me, form, c, vol):
        settings = request.app.state.settings
        volume_ops.expand(session, access=me.access, cluster=c, volume=vol,
                          request=volume_ops.ExpandRequest(bricks=_lines(form, "bricks")),
                          port_base=settings.brick_port_base, port_last=settings.brick_port_last)
        return f"Expanding volume {vol.name}; start a rebalance when it is back to Started."
    return await _volume_action(cluster, volume, request, act)


@router.post("/clusters/{cluster}/volumes/{volume}/options")
async def change_option(cluster: str, volume: str, request: Request):
    def act(session, me, form, c, vol):
        name = form.get("name", "")
        if form.get("action") == "reset":
            wanted, done = volume_ops.OptionsRequest(reset=[name]), f"{name} reset to its default"
        else:
            wanted = volume_ops.OptionsRequest(set={name: form.get("value", "")})
            done = f"{name} set to {form.get('value', '')!r}"
        new = volume_ops.change(session, access=me.access, volume=vol, request=wanted)
        return f"{done}: " + ("bricks restart one per set." if new else "clients pick it up live.")
    return await _volume_action(cluster, volume, request, act)


@router.post("/clusters/{cluster}/volumes/{volume}/rebalance/{what}")
async def rebalance_volume(cluster: str, volume: str, what: str, request: Request):
    def act(session, me, form, c, vol):
        if what not in ("start", "stop"):
            raise Invalid("rebalance takes start or stop")
        if what == "start":
            rebalance.start(session, access=me.access, volume=vol)
        else:
            rebalance.stop(session, access=me.access, volume=vol)
        return f"Rebalance of {vol.name}: {what} sent."
    return await _volume_action(cluster, volume, request, act)


# --- users (admins) ------------------------------------------------------------------------------

def _admin(work):
    def checked(session, me, form):
        me.access.require_global(MANAGE)
        message = work(session, me, form)
        return flash(message, headers={"HX-Refresh": "true"})
    return checked


@router.post("/users")
async def create_user(request: Request):
    def work(session, me, form):
        user = users.create_user(session, form.get("username", "").strip(), form.get("password", ""))
        session.commit()
        return f"User {user.username} added: grant them a role."
    return await _act(request, _admin(work))


@router.post("/users/grants")
async def create_grant(request: Request):
    def work(session, me, form):
        g = grants.add_grant(session, form.get("username", ""), form.get("role", ""), form.get("scope", ""),
                             form.get("cluster") or None, form.get("name") or None)
        return f"Granted {g.role} on {g.scope} to {form.get('username')}."
    return await _act(request, _admin(work))


@router.post("/users/{username}/grants/{grant_id}/delete")
async def delete_grant(username: str, grant_id: str, request: Request):
    def work(session, me, form):
        grants.remove_grant(session, username, grant_id)
        return f"Grant removed from {username}."
    return await _act(request, _admin(work))


@router.post("/users/{username}/delete")
async def delete_user(username: str, request: Request):
    def work(session, me, form):
        users.delete_user(session, username, me.access.user)
        return f"User {username} deleted."
    return await _act(request, _admin(work))
