"""kadalu failurereport: recent failed (or stuck) tasks, with the server's hint to fix each."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import connect
from cli.output import print_json, print_table


def errno_text(failure: dict[str, Any]) -> str | None:
    """`ENOENT`, `28 (ENOSPC)`, `ENODE_UNREACHABLE (node_unreachable)`: the errno, with the
    code when it says something else."""
    errno, code = failure.get("errno"), failure.get("code")
    if errno is None or errno == "":
        return str(code) if code else None
    if code and str(code).lower() != str(errno).lower():
        return f"{errno} ({code})"
    return str(errno)


def failurereport(
    cluster: Annotated[Optional[str], typer.Option(
        "--cluster", "-c", help="Only this cluster's failures (default: every cluster you"
        " can read).", show_default=False)] = None,
    limit: options.Limit = None,
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """List recent failures, newest first, with how to fix each."""
    with connect(url) as client:
        answer = client.get("/failures", cluster=cluster, limit=limit)
    if json:
        print_json(answer)
        return
    columns = ["When", "Volume", "Node", "Kind", "Errno", "Message", "How to fix"]
    if cluster is None:
        columns.insert(1, "Cluster")

    def row(f: dict[str, Any]) -> list[Any]:
        values = [f.get("created_at"), f.get("volume"), f.get("node"), f.get("kind"),
                  errno_text(f), f.get("message"), f.get("hint")]
        if cluster is None:
            values.insert(1, f.get("cluster"))
        return values

    print_table(columns, (row(f) for f in answer.get("data", [])), title="Failures",
                no_wrap=("When", "Kind", "Errno"))
