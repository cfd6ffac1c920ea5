"""kadalu volume expand: add sets of bricks (given, or chosen from registered devices); retry or
abort a failed expand."""
from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import connect
from cli.commands.volume import DEFAULT_TIMEOUT, Name, Wait, _check_bricks, _send_then_follow, volume_path
from cli.commands.volume import app as volume_app
from cli.errors import CliError
from cli.output import print_json, say

NewBricks = Annotated[Optional[list[str]], typer.Argument(  # noqa: UP045  (typer reads the annotation)
    metavar="[BRICK...]", callback=_check_bricks, show_default=False,
    help="The new bricks as NODE:/PATH, whole sets in set order; leave out to have one set (or --sets N, or "
         "--size +SIZE) chosen from registered devices.")]


@volume_app.command("expand")
def expand(
    name: Name,
    bricks: NewBricks = None,
    cluster: options.Cluster = "default",
    sets: Annotated[Optional[int], typer.Option(  # noqa: UP045
        "--sets", min=1, max=1024, show_default=False,
        help="Without bricks: add this many sets (default 1), chosen from registered devices.")] = None,
    size: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--size", show_default=False,
        help="Without bricks: the capacity to add, e.g. +100GiB (GiB = 2^30, GB = 10^9), as sets of the volume's "
             "brick size, rounded up. A volume made of bricks given by path needs it (its new sets are sized from it).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Without bricks: show where the new sets would go; change nothing.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Allow two bricks of one set on the same node, or a non-empty directory as a brick.")] = False,
    retry: Annotated[bool, typer.Option(
        "--retry", help="A failed expand (ExpandFailed): try the bricks that failed again, then go on.")] = False,
    abort: Annotated[bool, typer.Option(
        "--abort", help="A failed expand (ExpandFailed): take its new bricks out again (their files stay).")] = False,
    json_output: options.Json = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Add whole sets of bricks to a volume; then `kadalu volume rebalance start` spreads the data.

    Without bricks, the control plane chooses one new set (or --sets N, or enough for --size +SIZE)
    from registered devices, as `volume create --size` does: each set on distinct nodes and zones,
    with the volume's brick size. A failed expand leaves the volume ExpandFailed: `--retry` it or `--abort` it."""
    if retry and abort:
        raise CliError("give --retry or --abort, not both")
    chosen = sets is not None or size is not None or dry_run
    if (retry or abort) and (bricks or force or chosen):
        raise CliError("--retry and --abort take no bricks, --force, --sets, --size or --dry-run: they act on the "
                       "failed expand's bricks")
    if bricks and chosen:
        raise CliError("--sets, --size and --dry-run are for an expand without bricks (the control plane chooses "
                       "them): give either the new bricks or those options")
    path = f"{volume_path(cluster, name)}/expand"
    body: dict[str, Any] = {"bricks": bricks or [], "force": force}
    if sets is not None:
        body["sets"] = sets
    if size is not None:
        body["size"] = size
    with connect(url) as client:
        if dry_run:
            plan = client.post(f"{path}/plan", body)
            if json_output:
                print_json(plan)
                return
            say(f"Plan to expand volume {name} (nothing was changed):")
            for line in plan.get("lines", []):
                say(f"  {line}")
            say(f"Run it: kadalu volume expand -c {cluster} {name}"
                + (f" --sets {sets}" if sets is not None else "") + (f" --size {size}" if size is not None else ""))
            return
        if retry:
            answer, action = client.post(f"{path}/retry"), "expand retry"
        elif abort:
            answer, action = client.post(f"{path}/abort"), "expand abort"
        else:
            answer, action = client.post(path, body), "expand"
        if json_output and not wait:
            print_json(answer)
            return
        if action == "expand" and not bricks and isinstance(answer, dict):
            new = [f"{b.get('node')}:{b.get('path')}" for b in answer.get("bricks", []) if b.get("state") == "Creating"]
            if new:
                say("New bricks, chosen from registered devices: " + ", ".join(new))
        _send_then_follow(client, cluster, name, answer, action=action, wait=wait, timeout=timeout)
