"""kadalu alert: what went wrong in a cluster, newest first."""

from __future__ import annotations

import typer

from cli import options
from cli.client import connect, seg
from cli.output import SEVERITY_STYLE, print_json, print_table, styled

app = typer.Typer(help="Inspect alerts.", no_args_is_help=True)


@app.command("list")
def list_(cluster: options.Cluster = "default", limit: options.Limit = None,
          url: options.Url = None, json: options.Json = False) -> None:
    """List the alerts of a cluster, newest first."""
    with connect(url) as client:
        answer = client.get(f"/clusters/{seg(cluster)}/alerts", limit=limit)
    if json:
        print_json(answer)
        return
    print_table(
        ["Created", "Severity", "Kind", "Node", "Message"],
        (
            [a.get("created_at"), styled(a.get("severity"), SEVERITY_STYLE), a.get("kind"),
             a.get("node"), a.get("message")]
            for a in answer.get("data", [])
        ),
        title="Alerts",
    )
