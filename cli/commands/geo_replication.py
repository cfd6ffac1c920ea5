"""kadalu geo-replication create / list / status / start / stop / pause / resume / delete /
config-get / config-set / config-reset / checkpoint / ssh-setup."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import KadaluClient, connect, seg
from cli.errors import ApiError, CliError
from cli.output import print_fields, print_json, print_table, say, spinner

app = typer.Typer(help="Geo-replication: keep a remote volume a copy of a master volume.", no_args_is_help=True)
SessionId = Annotated[str, typer.Argument(help="The session's ID (`kadalu geo-replication list`).")]
IN_PROGRESS = ("Creating", "Starting", "Pausing", "Resuming", "Stopping", "Deleting")


def base(cluster: str) -> str:
    return f"/clusters/{seg(cluster)}/geo-replication"


def path(cluster: str, session_id: str) -> str:
    return f"{base(cluster)}/{seg(session_id)}"


def _when(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) if ts else "N/A"


def show(geo: dict[str, Any]) -> None:
    remote = f"{geo['remote_user']}@{geo['remote_host']}::{geo['remote_volume']}"
    if geo.get("remote_cluster"):
        remote += f" (cluster {geo['remote_cluster']})"
    print_fields([("ID", geo["id"]), ("Master volume", geo["master_volume"]), ("Remote", remote),
                  ("State", geo["state"]), ("Reason", geo["reason"] or "-"),
                  ("Checkpoint", _when(geo["checkpoint"]) if geo["checkpoint"] else "none")])
    if geo.get("workers"):
        print_table(["Node", "Brick", "Subvol", "Role", "Status", "Crawl", "Last synced", "Entry", "Data", "Meta",
                     "Failures", "Checkpoint"],
                    [[w["node"], w["brick"], w["subvol"], w["role"], w["status"], w["crawl_status"],
                      _when(w["last_synced"]), w["entry"], w["data"], w["meta"], w["failures"],
                      ("reached " + _when(w["checkpoint_completion_time"])) if w["checkpoint_completed"]
                      else ("pending" if geo["checkpoint"] else "-")]
                     for w in geo["workers"]], title="Workers")


def wait_settled(client: KadaluClient, cluster: str, session_id: str, timeout: float, until_gone: bool = False) -> Any:
    deadline = time.monotonic() + timeout
    with spinner(f"Geo-replication session {session_id}: waiting") as spin:
        while True:
            try:
                geo = client.get(path(cluster, session_id))
            except ApiError as exc:
                if until_gone and exc.status == 404:
                    return None
                raise
            spin.update(f"Geo-replication session {session_id}: {geo['state']}")
            if geo["settled"] and not (until_gone and geo["state"] != "Faulty"):
                break
            if time.monotonic() > deadline:
                raise CliError(f"the session is still {geo['state']} after {timeout:.0f}s: follow it with "
                               f"`kadalu geo-replication status {session_id} -c {cluster}`", code=2)
            time.sleep(0.5)
    if geo["state"] == "Faulty":
        raise CliError(f"geo-replication session {session_id} is Faulty: {geo['reason']}", code=1)
    return geo


@app.command("create")
def create(
    master_volume: Annotated[str, typer.Argument(help="The master volume, in --cluster.")],
    remote_volume: Annotated[str, typer.Argument(help="The remote (secondary) volume.")],
    cluster: options.Cluster = "default",
    remote_user: Annotated[str, typer.Option("--remote-user", help="The user gsyncd logs in as on the remote.")] = "root",
    remote_cluster: Annotated[Optional[str], typer.Option("--remote-cluster",
                              help="The remote volume's cluster, managed by this control plane.")] = None,
    remote_host: Annotated[Optional[str], typer.Option("--remote-host",
                           help="A remote managed elsewhere: its address (then run `ssh-setup` there).")] = None,
    ssh_port: Annotated[int, typer.Option("--ssh-port", min=1, max=65535, help="The remote's sshd port.")] = 22,
    force: Annotated[bool, typer.Option("--force", help="Accept a remote volume that holds files or is smaller.")] = False,
    no_start: Annotated[bool, typer.Option("--no-start", help="Create only; start later.")] = False,
    json: options.Json = False,
    wait: options.Wait = False,
    timeout: options.Timeout = 300.0,
    url: options.Url = None,
) -> None:
    """Create a session from MASTER_VOLUME to REMOTE_VOLUME; it starts unless --no-start."""
    body = {"master_volume": master_volume, "remote_volume": remote_volume, "remote_user": remote_user,
            "remote_cluster": remote_cluster, "remote_host": remote_host, "ssh_port": ssh_port, "force": force,
            "start": not no_start}
    with connect(url) as client:
        geo = client.post(base(cluster), body)
        if wait:
            geo = wait_settled(client, cluster, geo["id"], timeout)
    if json:
        print_json(geo)
        return
    say("Geo-replication session creation request sent.")
    say(f"ID: {geo['id']}")


@app.command("list")
def list_sessions(cluster: options.Cluster = "default", json: options.Json = False, url: options.Url = None) -> None:
    """The sessions of the cluster's volumes."""
    with connect(url) as client:
        answer = client.get(base(cluster))
    if json:
        print_json(answer)
        return
    print_table(["ID", "Master volume", "Remote", "State"],
                [[g["id"], g["master_volume"], f"{g['remote_user']}@{g['remote_host']}::{g['remote_volume']}", g["state"]]
                 for g in answer["data"]])


@app.command("status")
def status(session_id: SessionId, cluster: options.Cluster = "default", json: options.Json = False,
           url: options.Url = None) -> None:
    """The session and, per master brick: node, role, gsyncd status, crawl, last synced, pending, checkpoint."""
    with connect(url) as client:
        geo = client.get(path(cluster, session_id))
    if json:
        print_json(geo)
    else:
        show(geo)


def _lifecycle(verb: str, done: str):
    def command(session_id: SessionId, cluster: options.Cluster = "default", json: options.Json = False,
                wait: options.Wait = False, timeout: options.Timeout = 300.0, url: options.Url = None) -> None:
        with connect(url) as client:
            geo = client.post(f"{path(cluster, session_id)}/{verb}", {})
            if wait:
                geo = wait_settled(client, cluster, session_id, timeout, until_gone=verb == "delete") or geo
        if json:
            print_json(geo)
        else:
            say(geo["message"] if not wait else done)
    command.__doc__ = f"{verb.capitalize()} the session."
    return command


for _verb, _done in (("start", "Geo-replication session started."), ("stop", "Geo-replication session stopped."),
                     ("pause", "Geo-replication session paused."), ("resume", "Geo-replication session resumed."),
                     ("delete", "Geo-replication session deleted.")):
    app.command(_verb)(_lifecycle(_verb, _done))


@app.command("config-get")
def config_get(session_id: SessionId, name: Annotated[Optional[str], typer.Argument()] = None,
               cluster: options.Cluster = "default", json: options.Json = False, url: options.Url = None) -> None:
    """The keys a user may set (or one): value, default, what it accepts."""
    with connect(url) as client:
        answer = client.get(f"{path(cluster, session_id)}/config", name=name)
    if json:
        print_json(answer)
        return
    print_table(["Name", "Value", "Default", "Accepts"],
                [[c["name"], c["value"], c["default"], ",".join(c.get("choices") or []) or c["type"]]
                 for c in answer["data"]])


@app.command("config-set")
def config_set(session_id: SessionId, name: Annotated[Optional[str], typer.Argument()] = None,
               value: Annotated[Optional[str], typer.Argument()] = None, cluster: options.Cluster = "default",
               url: options.Url = None) -> None:
    """Set NAME to VALUE (only the configurable keys are accepted); a Started session takes it at once."""
    if name is None or value is None:
        raise CliError(f"give the key and its value: `kadalu geo-replication config-set {session_id} -c {cluster} NAME "
                       f"VALUE` (`kadalu geo-replication config-get {session_id} -c {cluster}` lists the keys)")
    with connect(url) as client:
        geo = client.post(f"{path(cluster, session_id)}/config", {"name": name, "value": value})
    say(geo["message"])


@app.command("config-reset")
def config_reset(session_id: SessionId, name: Annotated[Optional[str], typer.Argument()] = None,
                 cluster: options.Cluster = "default", url: options.Url = None) -> None:
    """Reset a key to its default (no name: every key)."""
    with connect(url) as client:
        geo = client.post(f"{path(cluster, session_id)}/config/reset", {"name": name})
    say(geo["message"])


@app.command("checkpoint")
def checkpoint(session_id: SessionId, cluster: options.Cluster = "default", json: options.Json = False,
               url: options.Url = None) -> None:
    """Mark now: `status` shows per worker when everything written before it reached the remote."""
    with connect(url) as client:
        answer = client.post(f"{path(cluster, session_id)}/checkpoint", {})
    if json:
        print_json(answer)
    else:
        say(answer["message"])


@app.command("ssh-setup")
def ssh_setup(session_id: SessionId, cluster: options.Cluster = "default",
              install: Annotated[Optional[str], typer.Option(
                  "--install", help="Append the lines to this authorized_keys file (run on the remote node).")] = None,
              url: options.Url = None) -> None:
    """For a remote managed elsewhere: print (or install) the session's keys, each limited by a forced command."""
    with connect(url) as client:
        answer = client.get(f"{path(cluster, session_id)}/ssh-setup")
    if install is None:
        for line in answer["lines"]:
            print(line)
        return
    target = Path(install)
    have = target.read_text().splitlines() if target.exists() else []
    new = [ln for ln in answer["lines"] if ln not in have]
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(target, "a") as f:
        f.writelines(ln + "\n" for ln in new)
    os.chmod(target, 0o600)
    say(f"{len(new)} key(s) added to {target} for user {answer['remote_user']}.")
