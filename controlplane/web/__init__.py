"""The web UI: server-rendered pages (Jinja2) made interactive with htmx, live through server-sent
events; served by the API process itself under /ui, all assets from /ui/static (docs/web.md)."""
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from controlplane import change_feed
from controlplane.settings import Settings
from controlplane.web import actions, live, pages
from controlplane.web.render import STATIC


def mount(app: FastAPI, settings: Settings) -> None:
    change_feed.attach(app.state.engine, settings.broker_url, settings.broker_master_name)
    app.state.web_hub = live.ChangeHub(settings.broker_url, settings.broker_master_name)
    for module in (pages, actions, live):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/ui/", status_code=307)


async def startup(app: FastAPI) -> None:
    await app.state.web_hub.start()


async def shutdown(app: FastAPI) -> None:
    await app.state.web_hub.stop()
