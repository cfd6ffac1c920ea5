"""kadalu volume quota enable / disable / limit-usage / limit-objects / remove / list."""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import connect
from cli.commands.volume import DEFAULT_TIMEOUT, Name, Wait, _send_then_follow, volume_path
from cli.commands.volume import app as volume_app
from cli.output import human_bytes, print_json, print_table, say, warn
from cli.tasks_wait import follow_task
from contracts.quota import quota_path_problem
from contracts.sizes import SizeError, parse_size

app = typer.Typer(help="Directory quotas: limits on the space and the files a directory may use.",
                  no_args_is_help=True)
volume_app.add_typer(app, name="quota")
Path = Annotated[str, typer.Argument(metavar="PATH", help="A directory of the volume, from its root: /projects/a",
                                     show_default=False)]
Soft = Annotated[Optional[str], typer.Option("--soft-limit", help="Soft limit, % of the hard one (default 80%).")]


def _path(value: str) -> str:
    problem = quota_path_problem(value)
    if problem:
        raise typer.BadParameter(f"{value!r} {problem}")
    return value


def _change(client, cluster: str, name: str, verb: str, body: dict[str, Any], wait: bool, timeout: float) -> None:
    answer = client.post(f"{volume_path(cluster, name)}/quota/{verb}", body)
    for line in answer.get("warnings") or []:
        warn(line)
    done = follow_task(client, answer["task"], action=f"Quota {verb} of {body['path']}", wait=wait, timeout=timeout)
    if done is not None:
        say(f"Quota {verb} of {body['path']} applied.")


@app.command("enable")
def enable(name: Name, cluster: options.Cluster = "default", wait: Wait = False,
           timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Switch quota on: the bricks take it in place, every node with a brick runs a quota daemon and
    counts the data already there."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/quota/enable", {})
        _send_then_follow(client, cluster, name, answer, action="quota enable", wait=wait, timeout=timeout)


@app.command("disable")
def disable(name: Name, cluster: options.Cluster = "default", wait: Wait = False,
            timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Switch quota off: every limit of the volume is removed and the bricks' quota xattrs cleaned."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/quota/disable", {})
        _send_then_follow(client, cluster, name, answer, action="quota disable", wait=wait, timeout=timeout)


@app.command("limit-usage")
def limit_usage(name: Name, path: Path,
                size: Annotated[str, typer.Argument(metavar="SIZE", help="Hard limit: 10GiB, 500MB.", show_default=False)],
                soft_limit: Soft = None, cluster: options.Cluster = "default", wait: Wait = False,
                timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Limit the space a directory (and everything below it) may use."""
    try:
        parse_size(size)
    except SizeError as exc:
        raise typer.BadParameter(str(exc)) from None
    body = {"path": _path(path), "hard": size, **({"soft": soft_limit} if soft_limit else {})}
    with connect(url) as client:
        _change(client, cluster, name, "limit-usage", body, wait, timeout)


@app.command("limit-objects")
def limit_objects(name: Name, path: Path,
                  count: Annotated[int, typer.Argument(metavar="COUNT", min=1, help="Files and directories.")],
                  soft_limit: Soft = None, cluster: options.Cluster = "default", wait: Wait = False,
                  timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Limit how many files and directories a directory may hold."""
    body = {"path": _path(path), "objects": count, **({"soft": soft_limit} if soft_limit else {})}
    with connect(url) as client:
        _change(client, cluster, name, "limit-objects", body, wait, timeout)


@app.command("remove")
def remove(name: Name, path: Path, cluster: options.Cluster = "default", wait: Wait = False,
           timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Remove a directory's limits."""
    with connect(url) as client:
        _change(client, cluster, name, "remove", {"path": _path(path)}, wait, timeout)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


@app.command("list")
def list_(name: Name, cluster: options.Cluster = "default", json: options.Json = False,
          url: options.Url = None) -> None:
    """Every limit with its usage, as the nodes last reported it (the control plane answers)."""
    with connect(url) as client:
        answer = client.get(f"{volume_path(cluster, name)}/quota")
    if json:
        print_json(answer)
        return
    rows = []
    for q in answer["limits"]:
        hard = human_bytes(q["hard_bytes"]) if q["hard_bytes"] is not None else "-"
        avail = human_bytes(q["available_bytes"]) if q["available_bytes"] is not None else "-"
        files = f"{q['files'] + q['dirs']}" + (f"/{q['hard_objects']}" if q["hard_objects"] is not None else "")
        note = q["state"] if q["state"] != "applied" else (q["reason"] or "")
        rows.append([q["path"], hard, f"{q['soft_percent']}%", human_bytes(q["used_bytes"]), avail, files,
                     _yes(q["soft_exceeded"]), _yes(q["hard_exceeded"]), note])
    print_table(["Path", "Hard", "Soft", "Used", "Available", "Objects", "Soft exceeded", "Hard exceeded", "Note"],
                rows, title=f"Quota of volume {answer['volume']} (version {answer['version']})")
