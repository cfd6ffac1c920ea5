"""kadalu volume rebalance start / stop / status."""
from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from cli import options
from cli.client import connect
from cli.commands.volume import Name, volume_path
from cli.commands.volume import app as volume_app
from cli.errors import CliError
from cli.output import human_bytes, print_fields, print_json, print_table, say, spinner

app = typer.Typer(help="Spread data over a volume's sets after an expand.", no_args_is_help=True)
volume_app.add_typer(app, name="rebalance")
RUNNING = ("starting", "in_progress", "stopping")


def show(status: dict[str, Any]) -> None:
    print_fields([
        ("Volume", status["volume"]), ("State", status["state"]),
        ("Files scanned", status["files_scanned"]), ("Files moved", status["files_moved"]),
        ("Failures", status["files_failed"]), ("Skipped", status["files_skipped"]),
        ("Moved", human_bytes(status["bytes_moved"])), ("Elapsed", f"{status['elapsed_seconds']:.0f}s"),
    ])
    print_table(["Node", "State", "Scanned", "Moved", "Failed", "Skipped", "Bytes", "Elapsed"],
                [[n["node"], n["state"], n["files_scanned"], n["files_moved"], n["files_failed"], n["files_skipped"],
                  human_bytes(n["bytes_moved"]), f"{n['elapsed_seconds']:.0f}s"] for n in status["nodes"]],
                title="Nodes")


def _follow(client, cluster: str, name: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with spinner("rebalancing") as spin:
        while True:
            status = client.get(f"{volume_path(cluster, name)}/rebalance")
            spin.update(f"{status['state']}: {status['files_moved']} files moved")
            if status["state"] not in RUNNING:
                return status
            if time.monotonic() > deadline:
                raise CliError(f"the rebalance is still {status['state']} after {timeout:.0f}s: "
                               f"follow it with `kadalu volume rebalance status -c {cluster} {name}`", code=2)
            time.sleep(1.0)


@app.command("start")
def start(
    name: Name,
    cluster: options.Cluster = "default",
    fix_layout: Annotated[bool, typer.Option("--fix-layout", help="Only fix directory layouts; move no data.")] = False,
    wait: options.Wait = False,
    timeout: options.Timeout = 3600.0,
    url: options.Url = None,
) -> None:
    """Start moving files onto the volume's new sets (each node moves the files on its own bricks)."""
    with connect(url) as client:
        client.post(f"{volume_path(cluster, name)}/rebalance/start", {"fix_layout_only": fix_layout})
        say("Rebalance start request sent.")
        if wait:
            final = _follow(client, cluster, name, timeout)
            show(final)
            if final["state"] == "failed" or final["files_failed"]:
                raise CliError("the rebalance had failures: see the rebalance log on the nodes listed", code=1)


@app.command("stop")
def stop(name: Name, cluster: options.Cluster = "default", url: options.Url = None) -> None:
    """Stop the rebalance; a later start resumes where it stopped."""
    with connect(url) as client:
        client.post(f"{volume_path(cluster, name)}/rebalance/stop", {})
    say("Rebalance stop request sent.")


@app.command("status")
def status(name: Name, cluster: options.Cluster = "default", json: options.Json = False,
           url: options.Url = None) -> None:
    """Files scanned, moved, failed, bytes and time, in total and per node."""
    with connect(url) as client:
        answer = client.get(f"{volume_path(cluster, name)}/rebalance")
    if json:
        print_json(answer)
    else:
        show(answer)
