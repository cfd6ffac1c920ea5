"""kadalu node: the nodes whose agents registered in a cluster."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli import options
from cli.client import connect, seg
from cli.output import (
    NODE_STATE_STYLE,
    human_age,
    print_fields,
    print_json,
    print_table,
    say,
    styled,
)

app = typer.Typer(help="Inspect and remove nodes.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Node name.", show_default=False)]
COLUMNS = ["Name", "Address", "State", "Hostname", "GlusterFS", "Heartbeat age", "Devices"]


def node_row(node: dict[str, Any]) -> list[Any]:
    return [
        node.get("name"),
        node.get("address"),
        styled(node.get("state"), NODE_STATE_STYLE),
        node.get("hostname"),
        node.get("glusterfs_version"),
        human_age(node.get("heartbeat_age_seconds")),
        node.get("device_count"),
    ]


@app.command("list")
def list_(cluster: options.Cluster = "default", url: options.Url = None,
          json: options.Json = False) -> None:
    """List the nodes of a cluster with their state and last heartbeat."""
    with connect(url) as client:
        answer = client.get_all(f"/clusters/{seg(cluster)}/nodes")
    if json:
        print_json(answer)
        return
    print_table(COLUMNS, (node_row(n) for n in answer.get("data", [])), title="Nodes")


@app.command("show")
def show(name: Name, cluster: options.Cluster = "default", url: options.Url = None,
         json: options.Json = False) -> None:
    """Show every detail of one node."""
    with connect(url) as client:
        node = client.get(f"/clusters/{seg(cluster)}/nodes/{seg(name)}")
    if json:
        print_json(node)
        return
    print_fields(
        [
            ("Node", node.get("name")),
            ("ID", node.get("id")),
            ("Cluster", cluster),
            ("Address", node.get("address")),
            ("State", styled(node.get("state"), NODE_STATE_STYLE)),
            ("Hostname", node.get("hostname")),
            ("GlusterFS", node.get("glusterfs_version")),
            ("Agent", node.get("agent_version")),
            ("Registered", node.get("registered_at")),
            ("Last heartbeat", node.get("last_heartbeat_at")),
            ("Heartbeat age", human_age(node.get("heartbeat_age_seconds"))),
            ("Devices", node.get("device_count")),
        ]
    )


@app.command("remove")
def remove(name: Name, cluster: options.Cluster = "default", yes: options.Yes = False,
           url: options.Url = None) -> None:
    """Remove a node from a cluster (remove its devices first)."""
    with connect(url) as client:
        if not yes:
            typer.confirm(f"Remove node {name} from cluster {cluster}?", abort=True)
        client.delete(f"/clusters/{seg(cluster)}/nodes/{seg(name)}")
    say(f"Node {name} removed from cluster {cluster}.")


@app.command("label")
def label(
    name: Name,
    zone: Annotated[str, typer.Option("--zone", help="Failure domain (rack, room); empty clears it.")],
    cluster: options.Cluster = "default",
    url: options.Url = None,
) -> None:
    """Label a node with its zone: provisioning (--size) puts a set's bricks in distinct zones."""
    with connect(url) as client:
        client.request("PATCH", f"/clusters/{seg(cluster)}/nodes/{seg(name)}", json={"zone": zone})
    say(f"Node {name} is in zone {zone!r}." if zone else f"Node {name} has no zone now.")


@app.command("allow-rejoin")
def allow_rejoin(
    name: Annotated[str | None, typer.Argument(help="Node name (or --all).", show_default=False)] = None,
    cluster: options.Cluster = "default",
    all_nodes: Annotated[bool, typer.Option("--all", help="Every node of the cluster (after a lost server key).")] = False,
    minutes: Annotated[int, typer.Option("--minutes", help="How long the permission lasts.", min=1)] = 60,
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """Let a node whose agent lost its state register again with the join token (once).

    Without this, only the node's own saved credentials can register it again, so a join-token
    holder cannot take over a registered node's name."""
    if (name is None) == (not all_nodes):
        raise typer.BadParameter("give a node name or --all")
    with connect(url) as client:
        names = [n["name"] for n in client.get_all(f"/clusters/{seg(cluster)}/nodes").get("data", [])] if all_nodes else [name]
        answers = [client.post(f"/clusters/{seg(cluster)}/nodes/{seg(n)}/allow-rejoin", json={"minutes": minutes})
                   for n in names]
    if json:
        print_json({"data": answers, "count": len(answers)} if all_nodes else answers[0])
        return
    for answer in answers:
        say(f"Node {answer.get('node')} may register again with the join token until {answer.get('allowed_until')}: "
            "restart its agent with KADALU_JOIN_TOKEN set.")
