"""kadalu volume expand: add sets of bricks; retry or abort a failed expand."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli import options
from cli.client import connect
from cli.commands.volume import DEFAULT_TIMEOUT, Name, Wait, _check_bricks, _send_then_follow, volume_path
from cli.commands.volume import app as volume_app
from cli.errors import CliError

NewBricks = Annotated[Optional[list[str]], typer.Argument(  # noqa: UP045  (typer reads the annotation)
    metavar="[BRICK...]", callback=_check_bricks, show_default=False,
    help="The new bricks as NODE:/PATH, whole sets in set order.")]


@volume_app.command("expand")
def expand(
    name: Name,
    bricks: NewBricks = None,
    cluster: options.Cluster = "default",
    force: Annotated[bool, typer.Option(
        "--force", help="Allow two bricks of one set on the same node, or a non-empty directory as a brick.")] = False,
    retry: Annotated[bool, typer.Option(
        "--retry", help="A failed expand (ExpandFailed): try the bricks that failed again, then go on.")] = False,
    abort: Annotated[bool, typer.Option(
        "--abort", help="A failed expand (ExpandFailed): take its new bricks out again (their files stay).")] = False,
    wait: Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Add whole sets of bricks to a volume; then `kadalu volume rebalance start` spreads the data.

    A failed expand leaves the volume ExpandFailed: `--retry` it or `--abort` it."""
    if retry and abort:
        raise CliError("give --retry or --abort, not both")
    if (retry or abort) and (bricks or force):
        raise CliError("--retry and --abort take no bricks and no --force: they act on the failed expand's bricks")
    if not (retry or abort or bricks):
        raise CliError("give the new bricks as NODE:/PATH (whole sets), or --retry / --abort for a failed expand")
    path = f"{volume_path(cluster, name)}/expand"
    with connect(url) as client:
        if retry:
            answer, action = client.post(f"{path}/retry"), "expand retry"
        elif abort:
            answer, action = client.post(f"{path}/abort"), "expand abort"
        else:
            answer, action = client.post(path, {"bricks": bricks, "force": force}), "expand"
        _send_then_follow(client, cluster, name, answer, action=action, wait=wait, timeout=timeout)
