"""Shared handling for commands whose request creates a task (device add/remove, volumes...).

`follow_task` prints the task id and optionally waits; `wait_for_task` polls GET /tasks/{id}.
"""

from __future__ import annotations

import time
from typing import Any

from cli.client import KadaluClient, seg
from cli.output import exit_with_error, say, spinner

POLL_INTERVAL = 0.5  # seconds between two GET /tasks/{id}
DEFAULT_TIMEOUT = 300.0
FINAL_PHASES = ("done", "failed")


def describe_failure(task: dict[str, Any]) -> str:
    """`task ID (KIND) failed on node N: message [errno 2, ENOENT]` plus a `hint:` line."""
    error = task.get("error") or {}
    message = error.get("message") or task.get("reason") or "no error message recorded"
    codes = []
    if error.get("errno") is not None:
        codes.append(f"errno {error['errno']}")
    if error.get("code"):
        codes.append(str(error["code"]))
    where = f" on node {task['node']}" if task.get("node") else ""
    text = f"task {task.get('id')} ({task.get('kind', 'task')}) failed{where}: {message}"
    if codes:
        text += f" [{', '.join(codes)}]"
    if error.get("hint"):
        text += f"\nhint: {error['hint']}"
    return text


def wait_for_task(
    client: KadaluClient, task_id: str, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """Poll the task until its phase is done and return it.

    Exits 1 (message and hint on stderr) when it failed, 2 when still unfinished after
    `timeout` seconds, 130 on Ctrl-C; the task itself goes on in those last two cases.
    """
    deadline = time.monotonic() + timeout
    task: dict[str, Any] = {}
    interrupted = False
    try:
        with spinner(f"Task {task_id}: waiting") as status:
            while True:
                task = client.get(f"/tasks/{seg(task_id)}")
                status.update(f"Task {task_id} ({task.get('kind', 'task')}): {task.get('state')}")
                remaining = deadline - time.monotonic()
                if task.get("phase") in FINAL_PHASES or remaining <= 0:
                    break
                time.sleep(min(POLL_INTERVAL, remaining))
    except KeyboardInterrupt:
        interrupted = True
    check = f"check it with `kadalu task show {task_id}`"
    if interrupted:
        exit_with_error(f"stopped waiting; task {task_id} goes on: {check}", code=130)
    if task.get("phase") == "failed":
        exit_with_error(describe_failure(task), code=1)
    if task.get("phase") != "done":
        exit_with_error(
            f"task {task_id} is still {task.get('state')} after {timeout:g}s; {check}", code=2
        )
    return task


def follow_task(
    client: KadaluClient,
    task: dict[str, Any],
    *,
    action: str,
    wait: bool,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any] | None:
    """Print `<action> request sent (task ID).`; with `wait`, return the finished task."""
    task_id = task["id"]
    say(f"{action} request sent (task {task_id}).")
    if not wait:
        say(f"Follow it with: kadalu task show {task_id}")
        return None
    return wait_for_task(client, task_id, timeout)
