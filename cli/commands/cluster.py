"""kadalu cluster: create, list, inspect and delete clusters; rotate join tokens."""

from __future__ import annotations

from typing import Annotated, Any, Optional
from urllib.parse import urlsplit

import typer

from cli import options
from cli.client import KadaluClient, connect, seg
from cli.errors import CliError
from cli.output import print_fields, print_json, print_table, say

app = typer.Typer(help="Manage clusters.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Cluster name.", show_default=False)]
OptionalName = Annotated[Optional[str], typer.Argument(  # noqa: UP045  (typer reads the annotation)
    help="Cluster name (default: the cluster named default, or the only cluster you can see).",
    show_default=False)]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEFAULT_CLUSTER = "default"  # the server makes it at first start; every -c option defaults to it


def print_join_instructions(base_url: str, join_token: str) -> None:
    say(f"Join token: {join_token}")
    say("Start an agent on each node with:")
    say(
        f"  KADALU_URL={base_url} KADALU_JOIN_TOKEN={join_token}"
        " kadalu-agent --name NODE --address ADDR --state-dir DIR"
    )
    if urlsplit(base_url).hostname in LOCAL_HOSTS:
        say("  (replace the loopback address in KADALU_URL by one the nodes can reach)")


@app.command("add")
def add(name: Name, url: options.Url = None) -> None:
    """Create a cluster and print its join token."""
    with connect(url) as client:
        answer = client.post("/clusters", {"name": name})
        cluster = answer["cluster"]
        say(f"Cluster {cluster['name']} created (id {cluster['id']}).")
        print_join_instructions(client.base_url, answer["join_token"])


@app.command("list")
def list_(url: options.Url = None, json: options.Json = False) -> None:
    """List the clusters you have a grant in."""
    with connect(url) as client:
        answer = client.get("/clusters")
    if json:
        print_json(answer)
        return
    print_table(
        ["Name", "ID", "Nodes", "Metadata version", "Created"],
        (
            [c.get("name"), c.get("id"), c.get("node_count"), c.get("metadata_version"),
             c.get("created_at")]
            for c in answer.get("data", [])
        ),
        title="Clusters",
    )


def pick_cluster(client: KadaluClient) -> tuple[str, str]:
    """No name given: the cluster named default when the user sees it, else the only one they see.
    Returns (name, why it was picked); CliError listing the clusters when neither applies."""
    names = [str(c.get("name")) for c in client.get("/clusters").get("data", [])]
    others = [n for n in names if n != DEFAULT_CLUSTER]
    if DEFAULT_CLUSTER in names:
        why = "the default cluster"
        if others:
            shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
            why += f"; `kadalu cluster status NAME` shows another: {shown}"
        return DEFAULT_CLUSTER, why
    if len(names) == 1:
        return names[0], "the only cluster you can see"
    if not names:
        raise CliError("you can see no cluster: create one with `kadalu cluster add NAME`, or ask an admin for a "
                       "grant (`kadalu user grant`)")
    raise CliError(f"you can see {len(names)} clusters and none is named {DEFAULT_CLUSTER}: name one, "
                   f"e.g. `kadalu cluster status {names[0]}` ({', '.join(names)})", code=2)


@app.command("status")
def status(name: OptionalName = None, url: options.Url = None, json: options.Json = False) -> None:
    """Show a cluster: nodes per state, device and volume counts. Without a name: the default
    cluster, or the only cluster you can see (the output says which)."""
    why = ""
    with connect(url) as client:
        if name is None:
            name, why = pick_cluster(client)
        cluster: dict[str, Any] = client.get(f"/clusters/{seg(name)}")
    if json:
        print_json(cluster)
        return
    if why:
        say(f"Cluster {name} ({why}):")
    by_state = cluster.get("nodes_by_state") or {}
    print_fields(
        [
            ("Cluster", cluster.get("name")),
            ("ID", cluster.get("id")),
            ("Created", cluster.get("created_at")),
            ("Metadata version", cluster.get("metadata_version")),
            ("Nodes", cluster.get("node_count")),
            *((f"  {state}", count) for state, count in sorted(by_state.items())),
            ("Devices", cluster.get("device_count")),
            ("Volumes", cluster.get("volume_count")),
        ]
    )


@app.command("delete")
def delete(name: Name, yes: options.Yes = False, url: options.Url = None) -> None:
    """Delete a cluster (it must have no nodes left; `default` can't be deleted)."""
    with connect(url) as client:
        if not yes:
            typer.confirm(f"Delete cluster {name}?", abort=True)
        client.delete(f"/clusters/{seg(name)}")
    say(f"Cluster {name} deleted.")


@app.command("rotate-token")
def rotate_token(name: Name, url: options.Url = None) -> None:
    """Issue a new join token for a cluster; the old one stops working."""
    with connect(url) as client:
        answer = client.post(f"/clusters/{seg(name)}/join-token")
        say(f"New join token for cluster {name} (the previous one no longer works).")
        print_join_instructions(client.base_url, answer["join_token"])
