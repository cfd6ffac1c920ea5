"""kadalu snapshot: consistent snapshots of volumes (docs/snapshots.md)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import KadaluClient, connect, seg
from cli.errors import ApiError, CliError
from cli.output import exit_with_error, print_fields, print_json, print_table, say, spinner
from cli.tasks_wait import DEFAULT_TIMEOUT

app = typer.Typer(help="Take, list, activate, restore, clone, delete and schedule snapshots of volumes.",
                  no_args_is_help=True)

Snap = Annotated[str, typer.Argument(metavar="SNAP", help="Snapshot name.", show_default=False)]
Volume = Annotated[str, typer.Argument(metavar="VOL", help="Volume name.", show_default=False)]
Wait = Annotated[bool, typer.Option("--wait", help="Wait until the snapshot's state settles; exit 1 if it failed.")]


def snapshot_path(cluster: str, name: str) -> str:
    return f"/clusters/{seg(cluster)}/snapshots/{seg(name)}"


def wait_for_snapshot(client: KadaluClient, cluster: str, name: str, timeout: float,
                      until_gone: bool = False) -> dict[str, Any] | None:
    """Poll until the snapshot is settled (None once gone, with `until_gone`); exit 1 when it failed
    (its reason on stderr), 2 when still unsettled after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with spinner(f"Snapshot {name}: waiting") as status:
        while True:
            try:
                snap = client.get(snapshot_path(cluster, name))
            except ApiError as exc:
                if until_gone and exc.status == 404:
                    return None
                raise
            status.update(f"Snapshot {name}: {snap.get('state')} {snap.get('step') or ''}".rstrip())
            if snap.get("settled") and not until_gone:
                break
            if until_gone and snap.get("settled") and snap.get("state") != "Deleting":
                break
            if time.monotonic() > deadline:
                raise CliError(f"snapshot {name} is still {snap.get('state')} after {timeout:.0f}s: follow it with "
                               f"`kadalu snapshot info -c {cluster} {name}`", code=2)
            time.sleep(0.5)
    say(f"Snapshot {name} is {snap.get('state')}.")
    if snap.get("failed") or (snap.get("reason") and until_gone):
        exit_with_error(snap.get("reason") or "the request failed", 1)
    if snap.get("reason"):
        say(f"Note: {snap['reason']}")
    return snap


def _sent(client: KadaluClient, cluster: str, name: str, answer: Any, wait: bool, timeout: float,
          json_output: bool = False, until_gone: bool = False) -> None:
    if json_output and not wait:
        print_json(answer)
        return
    say(answer.get("message") or "Request sent.")
    if answer.get("state") == "Deleted":
        return
    if not wait:
        say(f"Follow it with: kadalu snapshot info -c {cluster} {name}")
        return
    final = wait_for_snapshot(client, cluster, name, timeout, until_gone=until_gone)
    if final is None:
        say(f"Snapshot {name} deleted.")
    elif json_output:
        print_json(final)


@app.command("create")
def create(
    volume: Volume,
    name: Snap,
    cluster: options.Cluster = "default",
    description: Annotated[str, typer.Option("--description", help="A note kept with the snapshot.")] = "",
    json_output: options.Json = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Take a consistent snapshot of a Started volume (the barrier holds some replies meanwhile)."""
    with connect(url) as client:
        answer = client.post(f"/clusters/{seg(cluster)}/snapshots",
                             {"volume": volume, "name": name, "description": description})
        _sent(client, cluster, name, answer, wait, timeout, json_output)


@app.command("list")
def list_(
    volume: Annotated[Optional[str], typer.Argument(metavar="[VOL]", help="Only this volume's snapshots.",
                                                    show_default=False)] = None,
    cluster: options.Cluster = "default",
    json: options.Json = False,
    url: options.Url = None,
) -> None:
    """List snapshots (of one volume)."""
    with connect(url) as client:
        answer = client.get(f"/clusters/{seg(cluster)}/snapshots", **({"volume": volume} if volume else {}))
    if json:
        print_json(answer)
        return
    print_table(["Name", "Volume", "State", "Created", "Description"],
                ([s["name"], s["volume"], s["state"], s["created_at"][:19], s["description"]]
                 for s in answer.get("data", [])), title="Snapshots")


@app.command("info")
def info(
    name: Snap,
    cluster: options.Cluster = "default",
    json: options.Json = False,
    url: options.Url = None,
) -> None:
    """A snapshot's state, reason and bricks."""
    with connect(url) as client:
        snap = client.get(snapshot_path(cluster, name))
    if json:
        print_json(snap)
        return
    print_fields([("Name", snap["name"]), ("Volume", snap["volume"]), ("State", snap["state"]),
                  ("Reason", snap["reason"] or "-"), ("Description", snap["description"] or "-"),
                  ("Created", snap["created_at"]), ("Scheduled", "yes" if snap["scheduled"] else "no"),
                  ("Mount", f"kadalu mount -c {cluster} {snap['mount_name']} DIR" if snap["mount_name"] else "-")])
    print_table(["Node", "Brick", "Backend", "Snapshot path"],
                ([b["node"], b["origin_path"], b["backend"] or "-", b["path"] or "-"] for b in snap["bricks"]),
                title="Bricks")


@app.command("delete")
def delete(
    name: Snap,
    cluster: options.Cluster = "default",
    yes: options.Yes = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Delete a snapshot and its backend snapshots on every node (deactivate it first)."""
    if not yes:
        typer.confirm(f"Delete snapshot {name} of cluster {cluster}?", abort=True)
    with connect(url) as client:
        answer = client.delete(snapshot_path(cluster, name))
        _sent(client, cluster, name, answer, wait, timeout, until_gone=True)


@app.command("activate")
def activate(name: Snap, cluster: options.Cluster = "default", wait: Wait = False,
             timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Start the snapshot's bricks read-only: mount it with `kadalu mount -c CLUSTER SNAP DIR`."""
    with connect(url) as client:
        answer = client.post(f"{snapshot_path(cluster, name)}/activate", {})
        _sent(client, cluster, name, answer, wait, timeout)


@app.command("deactivate")
def deactivate(name: Snap, cluster: options.Cluster = "default", wait: Wait = False,
               timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Stop an activated snapshot's bricks (its mounts lose access)."""
    with connect(url) as client:
        answer = client.post(f"{snapshot_path(cluster, name)}/deactivate", {})
        _sent(client, cluster, name, answer, wait, timeout)


@app.command("restore")
def restore(name: Snap, cluster: options.Cluster = "default", yes: options.Yes = False, wait: Wait = False,
            timeout: options.Timeout = DEFAULT_TIMEOUT, url: options.Url = None) -> None:
    """Roll the snapshot's (stopped) volume back to the snapshot; what was written since is lost."""
    if not yes:
        typer.confirm(f"Restore snapshot {name}? Its volume's bricks are rolled back and everything written since "
                      "the snapshot is lost.", abort=True)
    with connect(url) as client:
        answer = client.post(f"{snapshot_path(cluster, name)}/restore", {})
        _sent(client, cluster, name, answer, wait, timeout)


@app.command("clone")
def clone(name: Snap, new_volume: Annotated[str, typer.Argument(metavar="NEWVOL", help="The new volume's name.",
                                                                 show_default=False)],
          cluster: options.Cluster = "default", wait: Wait = False, timeout: options.Timeout = DEFAULT_TIMEOUT,
          url: options.Url = None) -> None:
    """A new writable volume from the snapshot (created, not started: `kadalu volume start` it)."""
    from cli.tasks_wait import wait_for_volume
    with connect(url) as client:
        answer = client.post(f"{snapshot_path(cluster, name)}/clone", {"name": new_volume})
        say(answer.get("message") or "Clone request sent.")
        if not wait:
            say(f"Follow it with: kadalu volume status -c {cluster} {new_volume}")
            return
        final = wait_for_volume(client, cluster, new_volume, timeout)
        if final is not None:
            say(f"Volume {new_volume} is {final.get('state')}.")


@app.command("schedule")
def schedule(
    volume: Volume,
    cluster: options.Cluster = "default",
    every: Annotated[Optional[str], typer.Option("--every", help="How often, e.g. 30m, 1h, 1d.",
                                                 show_default=False)] = None,
    keep: Annotated[Optional[int], typer.Option("--keep", min=1, help="How many of these snapshots to keep.",
                                                show_default=False)] = None,
    off: Annotated[bool, typer.Option("--off", help="Remove the volume's schedule.")] = False,
    json: options.Json = False,
    url: options.Url = None,
) -> None:
    """Snapshots of VOL taken by the control plane every --every, the newest --keep kept (no option: show it)."""
    path = f"/clusters/{seg(cluster)}/volumes/{seg(volume)}/snapshot-schedule"
    with connect(url) as client:
        if off:
            client.delete(path)
            say(f"Snapshot schedule of volume {volume} removed.")
            return
        if every is None and keep is None:
            answer = client.get(path)
        elif every is None or keep is None:
            raise typer.BadParameter("give both --every and --keep (or --off)")
        else:
            answer = client.request("PUT", path, json={"every": every, "keep": keep})
    if json:
        print_json(answer)
        return
    say(f"Volume {volume}: a snapshot every {answer['every']}, the newest {answer['keep']} kept; "
        f"next at {answer['next_run_at'][:19]}.")
