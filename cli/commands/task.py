"""kadalu task: the work queued for node agents (device add/remove, volume operations...)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from cli import options
from cli.client import connect, seg
from cli.output import (
    TASK_PHASE_STYLE,
    cell,
    pretty_json,
    print_fields,
    print_json,
    print_table,
)

app = typer.Typer(help="Inspect tasks.", no_args_is_help=True)


def state_cell(task: dict[str, Any]):
    return cell(task.get("state"), TASK_PHASE_STYLE.get(str(task.get("phase"))))


@app.command("list")
def list_(
    cluster: options.Cluster = "default",
    state: Annotated[Optional[str], typer.Option(
        "--state", help="Only tasks in this phase: queued, running, done or failed.",
        show_default=False)] = None,
    node: Annotated[Optional[str], typer.Option("--node", help="Only this node's tasks.",
                                                show_default=False)] = None,
    limit: options.Limit = None,
    url: options.Url = None,
    json: options.Json = False,
) -> None:
    """List the tasks of a cluster, newest first."""
    with connect(url) as client:
        answer = client.get(f"/clusters/{seg(cluster)}/tasks", state=state, node=node,
                            limit=limit)
    if json:
        print_json(answer)
        return
    print_table(
        ["ID", "Kind", "Node", "State", "Created", "Finished", "Reason"],
        (
            [t.get("id"), t.get("kind"), t.get("node"), state_cell(t), t.get("created_at"),
             t.get("finished_at"), t.get("reason") or (t.get("error") or {}).get("message")]
            for t in answer.get("data", [])
        ),
        title="Tasks",
    )


@app.command("show")
def show(task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id.",
                                                show_default=False)],
         url: options.Url = None, json: options.Json = False) -> None:
    """Show one task: state, error and hint, spec, result and timestamps."""
    with connect(url) as client:
        task = client.get(f"/tasks/{seg(task_id)}")
    if json:
        print_json(task)
        return
    error = task.get("error") or {}
    fields: list[tuple[str, Any]] = [
        ("Task", task.get("id")),
        ("Kind", task.get("kind")),
        ("Cluster", task.get("cluster")),
        ("Node", task.get("node")),
        ("State", state_cell(task)),
        ("Phase", task.get("phase")),
        ("Reason", task.get("reason")),
        ("Attempts", task.get("attempts")),
    ]
    if error:
        fields += [
            ("Error", error.get("message")),
            ("Errno", error.get("errno")),
            ("Code", error.get("code")),
            ("Hint", error.get("hint")),
        ]
    fields += [
        ("Spec", pretty_json(task.get("spec")) if task.get("spec") is not None else None),
        ("Result", pretty_json(task.get("result")) if task.get("result") is not None else None),
        ("Created", task.get("created_at")),
        ("Started", task.get("started_at")),
        ("Finished", task.get("finished_at")),
    ]
    print_fields(fields)
