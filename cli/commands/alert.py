"""kadalu alert: what went wrong in a cluster, newest first."""

from __future__ import annotations

import typer

from cli import options
from cli.client import connect, seg
from cli.output import SEVERITY_STYLE, cell, print_json, print_table, styled

app = typer.Typer(help="Inspect alerts.", no_args_is_help=True)
ALERT_STATE_STYLE = {"firing": "bold red", "resolved": "green"}


@app.command("list")
def list_(cluster: options.Cluster = "default", limit: options.Limit = None,
          firing: bool = typer.Option(False, "--firing", help="Only open alerts (their condition still holds)."),
          url: options.Url = None, json: options.Json = False) -> None:
    """List the alerts of a cluster, newest first: problems fire until their condition clears
    (then resolved), notices (info) are stored resolved."""
    with connect(url) as client:
        answer = client.get(f"/clusters/{seg(cluster)}/alerts", limit=limit, state="firing" if firing else None)
    if json:
        print_json(answer)
        return
    print_table(
        ["Created", "State", "Severity", "Kind", "Node", "Volume", "Message"],
        (
            [a.get("created_at"), _state(a), styled(a.get("severity"), SEVERITY_STYLE), a.get("kind"),
             a.get("node"), a.get("volume"), a.get("message")]
            for a in answer.get("data", [])
        ),
        title="Alerts",
    )


def _state(alert: dict):
    state = alert.get("state") or "firing"
    text = state
    if state == "resolved" and alert.get("severity") != "info" and alert.get("resolved_at"):
        text = f"resolved {alert['resolved_at']}"
    elif state == "firing" and (alert.get("count") or 1) > 1:
        text = f"firing (x{alert['count']})"
    return cell(text, ALERT_STATE_STYLE.get(state))
