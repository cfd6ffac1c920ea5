"""`kadalu-agent`: register with the control plane, keep the metadata, run the node's worker."""
import argparse
import atexit
import json
import logging
import sys
import time
from pathlib import Path

import httpx

from contracts import broker_url as broker_urls
from contracts.task_names import node_queue
from nodeagent import drift_report, facts, georep_handlers, heartbeat, quota_service, recovery
from nodeagent.client_volfiles import client_volfile_lookup
from nodeagent.context import AgentContext
from nodeagent.controlplane_client import ControlPlaneClient, RegistrationRefused
from nodeagent.local_volfiles import served_volfile_lookup, socket_path
from nodeagent.quota_mounts import release_all
from nodeagent.settings import AgentSettings
from nodeagent.state_files import AgentState
from nodeagent.volfile_server import VolfileServer
from nodeagent.worker import make_agent_app

log = logging.getLogger("kadalu-agent")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="kadalu-agent", description="Kadalu node agent (env: KADALU_URL, KADALU_JOIN_TOKEN, ...)")
    p.add_argument("--url", help="control plane URL (KADALU_URL)")
    p.add_argument("--join-token", help="the cluster's join token (KADALU_JOIN_TOKEN)")
    p.add_argument("--name", help="node name (default: host name)")
    p.add_argument("--address", help="storage address the bricks bind to (default: the node name)")
    p.add_argument("--state-dir", help="where credentials and metadata are kept")
    p.add_argument("--zone", help="failure domain label (rack, room); provisioning spreads sets across zones")
    p.add_argument("--broker-url", help="override the broker URL the control plane hands out")
    p.add_argument("--device-root", dest="device_roots", action="append", metavar="DIR",
                   help="a directory devices may be under (repeat it; replaces the defaults /exports, /bricks, /data, "
                        "/srv, /mnt, /dev; /dev allows block devices) (KADALU_DEVICE_ROOTS, comma separated)")
    p.add_argument("--recover-only", action="store_true",
                   help="start the bricks and self-heal daemons that should run, from the local metadata and the "
                        "last volfiles this node served, then exit (no control plane, no worker): for when the agent "
                        "cannot run; daemons started so keep their graph until the agent restarts them")
    p.add_argument("--export-metadata", action="store_true",
                   help="print this node's signed metadata copy (metadata.json) and exit: the input of `kadalu-server "
                        "restore --from-file` (it holds the volumes' client credentials: keep it private)")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> AgentSettings:
    overrides = {k: v for k, v in vars(args).items() if v is not None and k in AgentSettings.model_fields}
    return AgentSettings(**overrides)


def register(settings: AgentSettings, state: AgentState, name: str, address: str) -> dict:
    """Register, retrying while the control plane is unreachable; fall back to saved credentials."""
    client = ControlPlaneClient(settings.url)
    saved = state.load_credentials()
    deadline = time.monotonic() + settings.register_retry_seconds
    delay = 1.0
    proof = saved if saved and saved.get("name") == name and saved.get("url") == settings.url else None
    while True:
        try:
            if not settings.join_token and not proof:
                if saved:
                    return saved
                raise RegistrationRefused("no join token: set KADALU_JOIN_TOKEN (shown by `kadalu cluster add`)")
            reply = client.register(settings.join_token, name, address, facts.hostname(), facts.glusterfs_version(),
                                    zone=settings.zone, node_id=proof.get("node_id") if proof else None,
                                    node_secret=proof.get("node_secret") if proof else None)
            break
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            if saved and saved.get("name") == name:
                log.warning("control plane unreachable (%s): starting from saved credentials", exc)
                return saved
            if time.monotonic() > deadline:
                raise RegistrationRefused(f"cannot reach the control plane at {settings.url}: {exc}") from exc
            log.warning("control plane unreachable (%s); retrying in %.0fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 15.0)
    creds = {k: reply[k] for k in ("node_id", "node_secret", "key_generation", "cluster_id", "cluster_name", "broker_url",
                                   "heartbeat_interval")}
    creds["broker_master_name"] = reply.get("broker_master_name")
    creds.update(name=name, address=address, url=settings.url)
    held = (state.load_metadata().get("content") or {}).get("cluster") or {}
    if held.get("id") not in (None, reply["cluster_id"]):  # a copy of another cluster's metadata: start afresh
        state.save_metadata(0, {}, replace=True)
    state.save_credentials(creds)
    return creds


def broker_url(override: str | None, handed: str) -> str:
    """The broker URL to use: the one registration handed out (with this node's own broker login), or
    `--broker-url` where the broker is reached at another address from here; an override without
    credentials takes the handed-out login."""
    if not override:
        return handed
    username, password = broker_urls.credentials(handed)
    if broker_urls.credentials(override) != (None, None) or (username, password) == (None, None):
        return override
    return broker_urls.with_credentials(override, username or "", password or "")


def recover_only(settings: AgentSettings, state: AgentState, name: str, address: str) -> int:
    """`--recover-only`: what recovery does at agent start, with no registration and no volfile
    server, so daemons start from their served volfiles with -f (the latest graph this node knew)."""
    creds = state.load_credentials()
    if not creds or creds.get("name") != name:
        print(f"kadalu-agent: no saved registration for node {name!r} in {settings.state_dir}", file=sys.stderr)
        return 2
    ctx = AgentContext(node_id=creds["node_id"], node_name=name, address=address, secret=creds["node_secret"],
                       state=state, client=ControlPlaneClient(settings.url), device_roots=settings.device_roots)
    summary = recovery.recover(ctx)
    print(f"kadalu-agent: {len(summary['running'])} brick(s) already running, {len(summary['started'])} started, "
          f"{len(summary['failed'])} failure(s)")
    for what, why in summary["failed"]:
        print(f"  {what}: {why}", file=sys.stderr)
    return 1 if summary["failed"] else 0


def export_metadata(state: AgentState) -> int:
    """`--export-metadata`: the local copy as it is on disk, for a control plane restore (docs/recovery.md)."""
    copy = state.load_metadata()
    if not copy.get("version"):
        print(f"kadalu-agent: no metadata copy in {state.root}", file=sys.stderr)
        return 2
    if "signature" not in copy:
        print("kadalu-agent: warning: this copy is not signed; a restore will refuse it", file=sys.stderr)
    json.dump(copy, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def start_volfile_servers(ctx: AgentContext, settings: AgentSettings, address: str) -> None:
    """Clients mount with -s <node address> (TCP, volfiles from local metadata, changes pushed by
    FETCHSPEC); this node's bricks and daemons fetch theirs from the unix socket (local_volfiles)."""
    try:
        ctx.local_volfile_server = VolfileServer(address, served_volfile_lookup(ctx.state.root),
                                                 unix_path=socket_path(ctx.state.root))
        ctx.local_volfile_server.start()
        atexit.register(ctx.local_volfile_server.stop)  # the socket goes with the agent; bricks reconnect later
    except (OSError, ValueError) as exc:
        ctx.local_volfile_server = None
        log.warning("local volfile server not started (%s): bricks start from their last volfiles and "
                    "option changes restart them", exc)
    try:
        ctx.volfile_server = VolfileServer(address, client_volfile_lookup(ctx), settings.volfile_server_port)
        ctx.volfile_server.start()
    except OSError as exc:
        ctx.volfile_server = None
        log.warning("volfile server not started on %s:%s (%s): `kadalu mount` cannot use this node",
                    address, settings.volfile_server_port, exc)
    ctx.on_metadata_changed = lambda: recovery.sync_running(ctx)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from(args)
    name = settings.name or facts.hostname().split(".")[0]
    address = settings.address or name
    state = AgentState(settings.state_dir)
    state.secure()
    if args.export_metadata:
        sys.exit(export_metadata(state))
    if args.recover_only:
        sys.exit(recover_only(settings, state, name, address))
    try:
        creds = register(settings, state, name, address)
    except RegistrationRefused as exc:
        print(f"kadalu-agent: registration refused: {exc}", file=sys.stderr)
        sys.exit(2)
    log.info("registered as node %s (%s) in cluster %s", name, creds["node_id"], creds["cluster_name"])
    ctx = AgentContext(node_id=creds["node_id"], node_name=name, address=address, secret=creds["node_secret"],
                       key_generation=int(creds.get("key_generation", 1)), state=state,
                       client=ControlPlaneClient(settings.url), device_roots=settings.device_roots)
    ctx.sync_metadata()  # the changes since our copy's version (all of it after a first registration)
    start_volfile_servers(ctx, settings, address)
    try:  # bricks of started volumes come back from local metadata, control plane up or not
        summary = recovery.recover(ctx)
        log.info("recovery: %d brick(s) already running, %d started, %d failure(s)",
                 len(summary["running"]), len(summary["started"]), len(summary["failed"]))
    except Exception:
        log.exception("recovery of bricks failed; the agent starts anyway")
    georep_handlers.restore(ctx)  # Passive locks again before a running gsyncd worker takes them
    app = make_agent_app(ctx, broker_url(settings.broker_url, creds["broker_url"]),
                         settings.broker_master_name or creds.get("broker_master_name"))
    heartbeat.start(ctx, app, float(creds.get("heartbeat_interval", 5.0)))
    drift_report.start(ctx, app, float(creds.get("heartbeat_interval", 5.0)))  # sent only when it changes
    quota_service.start(ctx, float(creds.get("heartbeat_interval", 5.0)))
    atexit.register(release_all, Path(settings.state_dir))  # the agent's own quota mounts go with it
    app.worker_main([
        "worker", "-Q", node_queue(ctx.node_id), "-n", f"kadalu-agent.{name}@%h", "--pool", "threads",
        "-c", str(settings.concurrency), "--without-mingle", "--without-gossip", "-E", "--loglevel", args.log_level.upper(),
    ])


if __name__ == "__main__":
    main()
