"""kadalu device: storage (a directory or a block device) that nodes offer to the cluster."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import KadaluClient, connect, seg
from cli.output import (
    DEVICE_STATE_STYLE,
    exit_with_error,
    human_bytes,
    print_json,
    print_table,
    say,
    styled,
    warn,
)
from cli.tasks_wait import DEFAULT_TIMEOUT, follow_task

app = typer.Typer(help="Add, list and remove devices.", no_args_is_help=True)

Node = Annotated[str, typer.Argument(help="Node name.", show_default=False)]
Path = Annotated[str, typer.Argument(help="Device path as shown by `device list`.",
                                     show_default=False)]


def _normal(path: str) -> str:
    return path.rstrip("/") or path


def find_device(client: KadaluClient, cluster: str, node: str, path: str) -> dict[str, Any]:
    answer = client.get_all(f"/clusters/{seg(cluster)}/devices", node=node)
    wanted = _normal(path)
    for device in answer.get("data", []):
        if device.get("node") == node and _normal(device.get("path") or "") == wanted:
            return device
    exit_with_error(
        f"node {node} of cluster {cluster} has no device {path}"
        f" (see `kadalu device list -c {cluster} --node {node}`)"
    )


def print_device_summary(client: KadaluClient, cluster: str, device: dict[str, Any],
                         task: dict[str, Any]) -> None:
    """After a successful add: the device's size and free space, fetched fresh."""
    answer = client.get_all(f"/clusters/{seg(cluster)}/devices", node=device.get("node"))
    current = next((d for d in answer.get("data", []) if d.get("id") == device.get("id")), None)
    current = current or {**device, **(task.get("result") or {})}
    say(
        f"Device {current.get('node')}:{current.get('path')} is {current.get('state')}:"
        f" size {human_bytes(current.get('size_bytes'))},"
        f" free {human_bytes(current.get('free_bytes'))}."
    )


@app.command("add")
def add(
    node: Node,
    path: Annotated[Optional[str], typer.Option(
        "--path", help="A directory on the node to use as storage.", show_default=False)] = None,
    device: Annotated[Optional[str], typer.Option(
        "--device", help="A block device on the node (e.g. /dev/sdb) to format and use.",
        show_default=False)] = None,
    cluster: options.Cluster = "default",
    wait: options.Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Ask a node's agent to prepare a device: give exactly one of --path or --device."""
    if (path is None) == (device is None):
        exit_with_error("give exactly one of --path DIR or --device /dev/X", code=2)
    body = {"path": path} if path is not None else {"device": device}
    with connect(url) as client:
        answer = client.post(f"/clusters/{seg(cluster)}/nodes/{seg(node)}/devices", body)
        task = follow_task(client, answer["task"], action="Device add", wait=wait, timeout=timeout)
        if task is not None:
            print_device_summary(client, cluster, answer["device"], task)


@app.command("list")
def list_(
    cluster: options.Cluster = "default",
    node: Annotated[Optional[str], typer.Option("--node", help="Only this node's devices.",
                                                show_default=False)] = None,
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """List the devices of a cluster."""
    with connect(url) as client:
        answer = client.get_all(f"/clusters/{seg(cluster)}/devices", node=node)
    if json:
        print_json(answer)
        return
    print_table(
        ["Node", "Path", "Kind", "State", "Size", "Free", "Reason"],
        (
            [d.get("node"), d.get("path"), d.get("kind"),
             styled(d.get("state"), DEVICE_STATE_STYLE), human_bytes(d.get("size_bytes")),
             human_bytes(d.get("free_bytes")), d.get("reason")]
            for d in answer.get("data", [])
        ),
        title="Devices",
    )


@app.command("remove")
def remove(
    node: Node,
    path: Path,
    cluster: options.Cluster = "default",
    force: Annotated[bool, typer.Option(
        "--force", help="Drop the device record without asking the agent to clean up"
        " (for a node that is gone).")] = False,
    yes: options.Yes = False,
    wait: options.Wait = False,
    timeout: options.Timeout = DEFAULT_TIMEOUT,
    url: options.Url = None,
) -> None:
    """Remove a device, found by its node and path."""
    with connect(url) as client:
        found = find_device(client, cluster, node, path)
        label = f"{node}:{found.get('path')}"
        if force:
            warn("--force drops the record only; the agent does not clean the device up.")
        if not yes:
            typer.confirm(f"Remove device {label} from cluster {cluster}?", abort=True)
        answer = client.delete(f"/clusters/{seg(cluster)}/devices/{seg(found['id'])}",
                               force="true" if force else None)
        if not answer or not answer.get("task"):  # 204 (force): the record was dropped at once
            say(f"Device {label} removed.")
            return
        if follow_task(client, answer["task"], action="Device remove", wait=wait,
                       timeout=timeout) is not None:
            say(f"Device {label} removed.")
