"""`kadalu-server`: run the control plane's processes (api, worker, beat, flower) or all of them (`up`)."""
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from contracts import broker_url
from contracts.task_names import CONTROLPLANE_QUEUE
from controlplane import broker_users, embedded_redis, restore_cli, state_dir
from controlplane.migrate import upgrade
from controlplane.settings import Settings

app = typer.Typer(help="Kadalu control server.", no_args_is_help=True, add_completion=False)
CELERY_APP = "controlplane.worker:app"
API_GRACEFUL_SHUTDOWN_SECONDS = 5


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


def _worker_argv(settings: Settings) -> list[str]:
    return _celery("worker", "-Q", CONTROLPLANE_QUEUE, "-n", "controlplane@%h", "--without-mingle", "--without-gossip",
                   "-E", "--concurrency", "2", "--loglevel", "INFO")


def _heartbeat_worker_argv(settings: Settings) -> list[str]:
    # Heartbeats only, in processes of their own (KADALU_HEARTBEAT_WORKERS of them): never behind task
    # results or metadata work, and never in their way; each drains its queue in batches applied in
    # one transaction (controlplane/heartbeat_worker.py).
    return [sys.executable, "-m", "controlplane.heartbeat_worker"]


def _beat_argv(settings: Settings) -> list[str]:
    return _celery("beat", "-s", str(settings.state_dir / "beat-schedule"), "--loglevel", "INFO")


def _api_argv(settings: Settings) -> list[str]:
    # --no-proxy-headers: uvicorn would otherwise take X-Forwarded-For from any 127.0.0.1 peer as the
    # client address; KADALU_TRUSTED_PROXIES alone decides that (controlplane/api/client_address.py).
    # --timeout-graceful-shutdown: open web pages hold event streams that never end on their own;
    # without a limit uvicorn would wait for them forever on SIGTERM (browsers reconnect by themselves).
    return [sys.executable, "-m", "uvicorn", "controlplane.api.asgi:app", "--host", settings.api_host,
            "--port", str(settings.api_port), "--no-access-log", "--no-proxy-headers",
            "--timeout-graceful-shutdown", str(API_GRACEFUL_SHUTDOWN_SECONDS)]


def _flower_auth(settings: Settings) -> str:
    if settings.flower_basic_auth:
        return settings.flower_basic_auth
    path = settings.state_dir / "flower.auth"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"admin:{secrets.token_urlsafe(18)}")
    return path.read_text().strip()


def _flower_argv(settings: Settings) -> list[str]:
    # the credentials travel in FLOWER_BASIC_AUTH (see _flower_env), never on a command line `ps` shows
    return _celery("flower", f"--port={settings.flower_port}", f"--address={settings.api_host}")


def _flower_env(settings: Settings, env: dict[str, str]) -> dict[str, str]:
    return {**env, "FLOWER_BASIC_AUTH": _flower_auth(settings)}


def _settings() -> Settings:
    """The settings of a server process, after making its state directory private (every command)."""
    settings = Settings()
    state_dir.start_private(settings.state_dir, settings.effective_database_url)
    return settings


def _exec(argv: list[str], env: dict[str, str] | None = None) -> None:
    os.execve(argv[0], argv, env if env is not None else dict(os.environ))


@app.command()
def migrate():
    """Create or upgrade the database schema."""
    settings = _settings()
    upgrade(settings.effective_database_url)
    typer.echo(f"database at revision head: {settings.effective_database_url.split('@')[-1]}")


@app.command()
def api():
    """The ReST API and the web UI (uvicorn)."""
    settings = _settings()
    upgrade(settings.effective_database_url)
    _exec(_api_argv(settings))


@app.command()
def worker():
    """The control worker (queue `controlplane`)."""
    _exec(_worker_argv(_settings()))


@app.command("heartbeat-worker")
def heartbeat_worker():
    """The heartbeat worker (queue `controlplane.heartbeats`): run it next to `worker`."""
    _exec(_heartbeat_worker_argv(_settings()))


@app.command()
def beat():
    """Celery beat: health checks and re-dispatch of lost task messages. Run exactly one."""
    _exec(_beat_argv(_settings()))


@app.command()
def flower():
    """Flower, with basic auth (KADALU_FLOWER_BASIC_AUTH, or generated into the state dir)."""
    settings = _settings()
    typer.echo(f"Flower on http://{settings.api_host}:{settings.flower_port} (credentials: {settings.state_dir / 'flower.auth'})")
    _exec(_flower_argv(settings), _flower_env(settings, dict(os.environ)))


@app.command()
def up(with_flower: bool = typer.Option(False, "--flower", help="also run Flower")):
    """Everything in one process tree. With nothing configured: SQLite and a private redis-server in the state dir."""
    settings = _settings()
    children: list[tuple[str, subprocess.Popen]] = []
    env = dict(os.environ)
    if not settings.broker_url:
        password = broker_users.controlplane_password(settings.effective_secret_key)
        redis_proc, url = embedded_redis.start(settings.state_dir, broker_users.CONTROLPLANE_USER, password)
        children.append(("redis", redis_proc))
        env["KADALU_BROKER_URL"] = url
        settings = Settings(broker_url=url)
    env["KADALU_SECRET_KEY"] = settings.effective_secret_key
    env.setdefault("KADALU_STATE_DIR", str(settings.state_dir))
    upgrade(settings.effective_database_url)
    argvs = [("worker", _worker_argv(settings)), ("heartbeats", _heartbeat_worker_argv(settings)),
             ("beat", _beat_argv(settings)), ("api", _api_argv(settings))]
    if with_flower:
        argvs.append(("flower", _flower_argv(settings)))
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    for name, argv in argvs:
        log = open(log_dir / f"{name}.log", "ab")
        child_env = _flower_env(settings, env) if name == "flower" else env
        children.append((name, subprocess.Popen(argv, env=child_env, stdout=log, stderr=subprocess.STDOUT)))
    typer.echo(f"kadalu-server up: web UI on http://{settings.api_host}:{settings.api_port}/, API under /api/v1 "
               f"(docs at /docs), broker {broker_url.without_credentials(env['KADALU_BROKER_URL'])}, logs in {log_dir}")
    stopping = False

    def _stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    code = 0
    while not stopping:
        for name, proc in children:
            if proc.poll() is not None:
                typer.echo(f"kadalu-server: {name} exited with {proc.returncode}; see {log_dir / (name + '.log')}", err=True)
                stopping, code = True, 1
        time.sleep(0.5)
    _stop_all(children)
    raise typer.Exit(code)


@app.command("metadata-key")
def metadata_key(as_json: bool = typer.Option(False, "--json")):
    """Print the public key that verifies the metadata copies this control plane signs: keep it with
    your recovery notes (it cannot sign anything; `restore --trust-key` takes it)."""
    restore_cli.metadata_key(_settings(), as_json)


@app.command()
def restore(
    from_file: Annotated[list[Path] | None, typer.Option(
        "--from-file", help="an agent's metadata.json, or what `kadalu-agent --export-metadata` printed (repeat it: "
                            "the newest valid copy is chosen)")] = None,
    trust_key: Annotated[list[str] | None, typer.Option(
        "--trust-key", help="the public key `kadalu-server metadata-key` printed (or a file holding it); default: "
                            "this server key's own")] = None,
    force: bool = typer.Option(False, "--force", help="delete every cluster already in this database first"),
    allow_rejoin: int = typer.Option(0, "--allow-rejoin", min=0, max=10080, metavar="MINUTES",
                                     help="let every restored node register again with the new join token for this "
                                          "long (when the server key changed: docs/recovery.md)"),
    as_json: bool = typer.Option(False, "--json"),
):
    """Rebuild an empty control plane's clusters, nodes, devices, volumes and metadata version from
    the nodes' signed metadata copies (docs/recovery.md). Run it before starting the server."""
    restore_cli.restore(_settings(), from_file or [], trust_key or [], force, allow_rejoin, as_json)


def _stop_all(children: list[tuple[str, subprocess.Popen]]) -> None:
    for _name, proc in reversed(children):
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for _name, proc in reversed(children):
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    app()
