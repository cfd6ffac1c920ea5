"""Shared `--wait` handling: for commands whose request creates a task (device add/remove...)
and for volume commands, which are followed through the volume's own state.

`follow_task` prints the task id and optionally waits; `wait_for_task` polls GET /tasks/{id};
`wait_for_volume` polls GET /clusters/{c}/volumes/{name}.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

from cli.client import KadaluClient, seg
from cli.errors import ApiError
from cli.output import exit_with_error, say, spinner

POLL_INTERVAL = 0.5  # seconds between two GET /tasks/{id} (or GET of a volume)
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


def waiting_for_text(volume: dict[str, Any]) -> str:
    """`node2 (Unreachable), node3 (Unreachable)` from the volume's `waiting_for`, or ''."""
    return ", ".join(f"{node} (Unreachable)" for node in volume.get("waiting_for") or [])


def wait_for_volume(
    client: KadaluClient,
    cluster: str,
    name: str,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    until_gone: bool = False,
    also_pending: Collection[str] = (),
) -> dict[str, Any] | None:
    """Poll the volume until its state is settled and return it (None once it is gone).

    The server says when the volume is `settled` (no request in flight) and `failed`; a state in
    `also_pending` counts as unsettled too. With `until_gone` (delete) only a 404 ends the wait
    successfully. Exits 1 with the volume's reason on stderr when the request failed, 2 when
    still unsettled after `timeout` seconds (naming the nodes it waits for) and 130 on Ctrl-C;
    the operation itself goes on in those last two cases.
    """
    path = f"/clusters/{seg(cluster)}/volumes/{seg(name)}"

    def settled(v: dict[str, Any]) -> bool:
        return bool(v.get("settled", True)) and str(v.get("state") or "") not in also_pending
    deadline = time.monotonic() + timeout
    volume: dict[str, Any] = {}
    gone = interrupted = False
    try:
        with spinner(f"Volume {name}: waiting") as status:
            while True:
                try:
                    volume = client.get(path)
                except ApiError as exc:
                    if until_gone and exc.status == 404:
                        gone = True
                        break
                    raise
                text = f"Volume {name}: {volume.get('state')}"
                if volume.get("waiting_for"):
                    text += f", waiting for {waiting_for_text(volume)}"
                status.update(text)
                remaining = deadline - time.monotonic()
                if volume.get("failed") or remaining <= 0:
                    break
                if not until_gone and settled(volume):
                    break
                time.sleep(min(POLL_INTERVAL, remaining))
    except KeyboardInterrupt:
        interrupted = True
    check = f"check it with `kadalu volume status -c {cluster} {name}`"
    if interrupted:
        exit_with_error(f"stopped waiting; the request on volume {name} goes on: {check}",
                        code=130)
    if gone:
        return None
    state = str(volume.get("state") or "")
    if volume.get("failed"):
        reason = volume.get("reason") or "no reason recorded"
        exit_with_error(
            f"volume {name} is {state}: {reason}\n"
            f"see `kadalu failurereport -c {cluster}` for the failed tasks and how to fix them",
            code=1,
        )
    if until_gone or not settled(volume):
        message = f"volume {name} is still {state} after {timeout:g}s"
        if volume.get("waiting_for"):
            nodes = ", ".join(str(node) for node in volume["waiting_for"])
            message += f", waiting for node(s) {nodes} (Unreachable)"
        exit_with_error(f"{message}; {check}", code=2)
    return volume
