"""kadalu cluster verify: compare the database with what the nodes report, and repair what is safe."""
from __future__ import annotations

from typing import Annotated, Any

import typer

from cli import options
from cli.client import connect, seg
from cli.commands.cluster import app as cluster_app
from cli.output import print_json, print_table, say, warn


@cluster_app.command("verify")
def verify(
    cluster: options.Cluster = "default",
    repair: Annotated[bool, typer.Option(
        "--repair", help="Make the nodes match the database where that is safe: restart bricks and self-heal "
                         "daemons, rewrite volfiles, put back a lost volume-id (never over another volume's).")] = False,
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """Compare the database with what every node's agent reports: brick processes and ports, volume-id
    xattrs, volfiles, self-heal daemons, devices. Exit status 1 while something differs (with --repair:
    while something could not be repaired)."""
    with connect(url) as client:
        answer = client.post(f"/clusters/{seg(cluster)}/verify", {"repair": repair})
    if json:
        print_json(answer)
    else:
        _show(answer, repair)
    if (repair and answer.get("refused")) or (not repair and not answer.get("in_sync")):
        raise typer.Exit(1)


def _show(answer: dict[str, Any], repair: bool) -> None:
    nodes = answer.get("nodes", [])
    unchecked = [n for n in nodes if not n.get("checked")]
    for n in unchecked:
        warn(f"node {n.get('node')} not checked: {n.get('why_not')}")
    findings = answer.get("findings", [])
    if not findings:
        checked = len(nodes) - len(unchecked)
        say(f"Cluster {answer.get('cluster')}: {checked} node(s) checked, the nodes match the database.")
    else:
        print_table(["Node", "Kind", "Severity", "Repair", "What and how to fix"],
                    ([f.get("node"), f.get("kind"), f.get("severity"), f.get("repair") or "-", f.get("message")]
                     for f in findings), title=f"Drift in cluster {answer.get('cluster')}")
    if not repair:
        if any(f.get("repair") for f in findings):
            say(f"Run `kadalu cluster verify -c {answer.get('cluster')} --repair` to repair what is safe.")
        return
    for r in answer.get("repairs", []):
        say(f"repair sent to {r.get('node')}: {r.get('action')} brick {r.get('brick_id')} "
            f"({', '.join(r.get('kinds', []))}); task {r.get('task_id')}")
    for r in answer.get("refused", []):
        warn(f"not repaired on {r.get('node')} ({r.get('kind')}): {r.get('reason')}")
    if answer.get("repairs"):
        say("The alerts resolve once the nodes report the repaired state (a heartbeat interval); "
            "`kadalu task show ID` follows a repair.")
