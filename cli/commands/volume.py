"""kadalu volume: GlusterFS volumes built from `node:/path` bricks."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from cli import options
from cli.client import KadaluClient, connect, seg
from cli.output import (
    HEALTH_STYLE,
    cell,
    console,
    human_bytes,
    print_fields,
    print_json,
    print_table,
    say,
    styled,
    volume_state_style,
)
from cli.tasks_wait import DEFAULT_TIMEOUT, wait_for_volume, waiting_for_text

app = typer.Typer(help="Create, start, stop, delete and inspect volumes.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="NAME", help="Volume name.", show_default=False)]
Wait = Annotated[bool, typer.Option(
    "--wait", help="Wait until the volume's state settles, showing it; exit 1 if it failed.")]
Count = Optional[int]


def parse_brick(value: str) -> str:
    """`node:/path`, split at the first ':'; both parts are required (the server checks the
    rest). Raises typer.BadParameter (a usage error, exit code 2) otherwise."""
    node, sep, path = value.partition(":")
    if not sep or not node or not path:
        raise typer.BadParameter(f"{value!r} is not NODE:/PATH (e.g. node1:/data/brick1)")
    return value


def _check_bricks(values: list[str] | None) -> list[str]:
    return [parse_brick(value) for value in values or []]


Bricks = Annotated[list[str], typer.Argument(
    metavar="BRICK...", callback=_check_bricks, show_default=False,
    help="Bricks as NODE:/PATH, in set order (e.g. for replica 3 the first three form set 1).")]
OptionalBricks = Annotated[Optional[list[str]], typer.Argument(
    metavar="[BRICK...]", callback=_check_bricks, show_default=False,
    help="Bricks as NODE:/PATH, in set order; leave out with --size to have them chosen from registered devices.")]


def volume_path(cluster: str, name: str) -> str:
    return f"/clusters/{seg(cluster)}/volumes/{seg(name)}"


def _count(volume: dict[str, Any], key: str) -> int:
    try:
        return int(volume.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def describe_type(volume: dict[str, Any]) -> str:
    """`replicate 3`, `distributed-replicate 2x3`, `disperse 3 (redundancy 1)`, `arbiter 2+1`,
    `distribute 2`... from the counts; the server's `type` when the counts are missing."""
    bricks = _count(volume, "brick_count") or len(volume.get("bricks") or [])
    replica = _count(volume, "replica_count")
    arbiter = _count(volume, "arbiter_count")
    disperse = _count(volume, "disperse_count")
    redundancy = _count(volume, "redundancy_count")
    set_size = _count(volume, "set_size") or disperse or replica or 1
    if not bricks:
        return str(volume.get("type") or "-")
    sets = max(1, bricks // set_size)
    prefix = "distributed-" if sets > 1 else ""
    times = f"{sets}x" if sets > 1 else ""
    if disperse:
        return f"{prefix}disperse {times}{disperse} (redundancy {redundancy or 1})"
    if arbiter and replica:
        shape = f"{replica - arbiter}+{arbiter}"
        return f"{prefix}arbiter {times}({shape})" if sets > 1 else f"arbiter {shape}"
    if replica > 1:
        return f"{prefix}replicate {times}{replica}"
    return f"distribute {bricks}"


def state_cell(volume: dict[str, Any]) -> Text:
    return cell(volume.get("state"), volume_state_style(volume.get("state")))


def report_state(volume: dict[str, Any]) -> None:
    """`Volume NAME is STATE.` (with its health when known)."""
    line = f"Volume {volume.get('name')} is {volume.get('state')}"
    if volume.get("health"):
        line += f" (health {volume['health']})"
    say(line + ".")


def _send_then_follow(client: KadaluClient, cluster: str, name: str, answer: Any, *,
                      action: str, wait: bool, timeout: float,
                      also_pending: tuple[str, ...] = ()) -> None:
    say(f"Volume {action} request sent.")
    if isinstance(answer, dict) and answer.get("state"):
        report_state({"name": name, **answer, "health": None})
    if not wait:
        say(f"Follow it with: kadalu volume status -c {cluster} {name}")
        return
    final = wait_for_volume(client, cluster, name, timeout, also_pending=also_pending)
    if final is not None:
        report_state(final)


@app.command("create")
def create(
    name: Name,
    bricks: OptionalBricks = None,
    cluster: options.Cluster = "default",
    replica: Annotated[Count, typer.Option(
        "--replica", help="Replica count (2 or 3): a replicate volume.",
        show_default=False)] = None,
    replica3: Annotated[bool, typer.Option("--replica3", help="Same as --replica 3.")] = False,
    arbiter: Annotated[Count, typer.Option(
        "--arbiter", help="With --replica 3: 1 makes the last brick of each set an arbiter.",
        show_default=False)] = None,
    disperse: Annotated[Count, typer.Option(
        "--disperse", help="Disperse count (>= 3): a disperse (erasure coded) volume.",
        show_default=False)] = None,
    redundancy: Annotated[Count, typer.Option(
        "--redundancy", help="With --disperse: bricks a set can lose (server default 1).",
        show_default=False)] = None,
    size: Annotated[Optional[str], typer.Option(
        "--size", help="Capacity, e.g. 100GiB (GiB = 2^30 bytes, GB = 10^9): bricks come from registered devices.",
        show_default=False)] = None,
    distribute: Annotated[Count, typer.Option(
        "--distribute", help="With --size: the number of sets (default: as few as fit).",
        show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="With --size: show where the bricks would go; change nothing.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Allow two bricks of one set on the same node.")] = False,
    no_start: Annotated[bool, typer.Option(
        "--no-start", help="Only create the volume; start it later with `volume start`.")]
    = False,
    json_output: options.Json = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Create a volume (and start it unless --no-start). Without --replica/--disperse the
    volume is distribute; more bricks than one set make it distributed-*. With --size instead of
    bricks, the bricks are chosen from registered devices (each set on distinct nodes and zones)."""
    if replica3:
        replica = replica or 3
    body: dict[str, Any] = {"name": name, "bricks": bricks or []}
    for key, value in (("replica", replica), ("arbiter", arbiter), ("disperse", disperse),
                       ("redundancy", redundancy), ("size", size), ("distribute", distribute)):
        if value is not None:
            body[key] = value
    body["force"] = force
    body["start"] = not no_start
    with connect(url) as client:
        if dry_run:
            if size is None:
                raise typer.BadParameter("--dry-run goes with --size")
            plan = client.post(f"/clusters/{seg(cluster)}/volumes/plan", body)
            if json_output:
                print_json(plan)
                return
            say(f"Plan for volume {name} (nothing was changed):")
            for line in plan.get("lines", []):
                say(f"  {line}")
            for note in plan.get("notes", []):
                say(f"  note: {note}")
            return
        answer = client.post(f"/clusters/{seg(cluster)}/volumes", body)
        _send_then_follow(client, cluster, name, answer, action="create", wait=wait,
                          timeout=timeout, also_pending=() if no_start else ("Created",))


@app.command("start")
def start(
    name: Name,
    cluster: options.Cluster = "default",
    force: Annotated[bool, typer.Option(
        "--force", help="Start even if some bricks are already running or missing.")] = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Start a volume: its brick processes begin serving."""
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/start", {"force": force})
        _send_then_follow(client, cluster, name, answer, action="start", wait=wait,
                          timeout=timeout)


@app.command("stop")
def stop(
    name: Name,
    cluster: options.Cluster = "default",
    yes: options.Yes = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Stop a volume: its brick processes end and mounts lose access."""
    if not yes:
        typer.confirm(f"Stop volume {name} of cluster {cluster}? Clients using it lose access.",
                      abort=True)
    with connect(url) as client:
        answer = client.post(f"{volume_path(cluster, name)}/stop", {})
        _send_then_follow(client, cluster, name, answer, action="stop", wait=wait,
                          timeout=timeout)


@app.command("delete")
def delete(
    name: Name,
    cluster: options.Cluster = "default",
    purge: Annotated[bool, typer.Option(
        "--purge", help="Also delete the data in the brick directories.")] = False,
    yes: options.Yes = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Delete a volume. Brick data stays on the bricks unless --purge."""
    if not yes:
        what = "and the data on its bricks" if purge else "(brick data is kept)"
        typer.confirm(f"Delete volume {name} of cluster {cluster} {what}?", abort=True)
    with connect(url) as client:
        answer = client.delete(volume_path(cluster, name), purge="true" if purge else "false")
        say("Volume delete request sent.")
        if isinstance(answer, dict) and answer.get("state"):
            report_state({"name": name, **answer, "health": None})
        if purge:
            say("The brick data is deleted with the volume (--purge).")
        else:
            say("The data is left on the bricks; delete it by hand, or delete with --purge.")
        if not wait:
            say(f"Follow it with: kadalu volume status -c {cluster} {name}")
            return
        wait_for_volume(client, cluster, name, timeout, until_gone=True)
        say(f"Volume {name} deleted.")


@app.command("list")
def list_(
    cluster: options.Cluster = "default",
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """List the volumes of a cluster."""
    with connect(url) as client:
        answer = client.get_all(f"/clusters/{seg(cluster)}/volumes")
    if json:
        print_json(answer)
        return
    print_table(
        ["Name", "Type", "State", "Health", "Bricks"],
        (
            [v.get("name"), describe_type(v), state_cell(v),
             styled(v.get("health"), HEALTH_STYLE),
             v.get("brick_count") if v.get("brick_count") is not None
             else len(v.get("bricks") or [])]
            for v in answer.get("data", [])
        ),
        title="Volumes",
    )


def _used(brick: dict[str, Any]) -> int | None:
    size, free = brick.get("size_bytes"), brick.get("free_bytes")
    if size is None or free is None:
        return None
    return max(0, size - free)


def _online(value: Any) -> Text:
    if value is None:
        return cell(None)
    return Text("yes", style="green") if value else Text("no", style="red")


def _volume_fields(volume: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Volume", volume.get("name")),
        ("ID", volume.get("id")),
        ("Cluster", volume.get("cluster")),
        ("Type", describe_type(volume)),
        ("State", state_cell(volume)),
        *[("Options changed" if i == 0 else "", f"{k} = {v}")
          for i, (k, v) in enumerate(sorted((volume.get("options") or {}).items()))],
    ]


def _read_volume(cluster: str, name: str, url: str | None, json: bool) -> dict[str, Any] | None:
    """The volume from the server; with --json it is printed as is and None is returned."""
    with connect(url) as client:
        volume = client.get(volume_path(cluster, name))
    if json:
        print_json(volume)
        return None
    return volume


@app.command("status")
def status(
    name: Name,
    cluster: options.Cluster = "default",
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """Show a volume's state and health, and each brick's port, PID, online state and space."""
    volume = _read_volume(cluster, name, url, json)
    if volume is None:
        return
    fields = _volume_fields(volume) + [
        ("Health", styled(volume.get("health"), HEALTH_STYLE)),
        ("Reason", volume.get("reason")),
    ]
    if volume.get("waiting_for"):
        fields.append(("Waiting for", waiting_for_text(volume)))
    print_fields(fields)
    console.print()
    print_table(
        ["Set", "Node", "Path", "Port", "PID", "Online", "Used", "Free"],
        (
            [b.get("set"), b.get("node"), b.get("path"), b.get("port"), b.get("pid"),
             _online(b.get("online")), human_bytes(_used(b)), human_bytes(b.get("free_bytes"))]
            for b in volume.get("bricks") or []
        ),
        title="Bricks",
    )


def _arbiter_bricks(volume: dict[str, Any]) -> set[int]:
    """Indexes (in the bricks list) of the arbiter bricks: the last brick of each set."""
    if not _count(volume, "arbiter_count"):
        return set()
    last: dict[Any, int] = {}
    for index, brick in enumerate(volume.get("bricks") or []):
        last[brick.get("set")] = index
    return set(last.values())


@app.command("info")
def info(
    name: Name,
    cluster: options.Cluster = "default",
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """Show a volume's type, counts and bricks (no live brick state: see `volume status`)."""
    volume = _read_volume(cluster, name, url, json)
    if volume is None:
        return
    fields = _volume_fields(volume) + [
        ("Replica count", volume.get("replica_count")),
        ("Arbiter count", volume.get("arbiter_count")),
        ("Disperse count", volume.get("disperse_count")),
        ("Redundancy count", volume.get("redundancy_count")),
        ("Brick count", volume.get("brick_count")),
        ("Set size", volume.get("set_size")),
        ("Created", volume.get("created_at")),
        ("Updated", volume.get("updated_at")),
    ]
    print_fields(fields)
    console.print()
    arbiters = _arbiter_bricks(volume)
    print_table(
        ["#", "Set", "Brick", "Role"],
        (
            [index + 1, b.get("set"), f"{b.get('node')}:{b.get('path')}",
             "arbiter" if index in arbiters else "data"]
            for index, b in enumerate(volume.get("bricks") or [])
        ),
        title="Bricks",
    )
