"""Everything the CLI prints: tables, key/value views, raw JSON, spinner, errors.

Server-provided strings are always rendered as plain text (never as Rich markup).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.status import Status
from rich.table import Table
from rich.text import Text

from contracts.sizes import format_size

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

NODE_STATE_STYLE = {"Online": "green", "Unreachable": "red", "Registered": "yellow"}
DEVICE_STATE_STYLE = {"Ready": "green", "Failed": "red", "Adding": "yellow", "Removing": "yellow"}
TASK_PHASE_STYLE = {"done": "green", "failed": "red", "running": "yellow", "queued": "cyan"}
SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}
HEALTH_STYLE = {"Up": "green", "Degraded": "yellow", "Down": "red"}
VOLUME_STATE_STYLE = {"Started": "green", "Created": "cyan", "Stopped": "cyan",
                      "Creating": "yellow", "Starting": "yellow", "Stopping": "yellow",
                      "Deleting": "yellow"}


def volume_state_style(state: Any) -> str | None:
    """Volume states: Started green, in-progress yellow, Created/Stopped cyan, *Failed red."""
    text = str(state or "")
    if text.endswith("Failed"):
        return "red"
    return VOLUME_STATE_STYLE.get(text)


def exit_with_error(message: str, code: int = 1) -> NoReturn:
    """Print `Error: message` to stderr and leave with `code` (never a traceback)."""
    text = Text("Error: ", style="bold red")
    text.append(message)
    err_console.print(text, soft_wrap=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    text = Text("Warning: ", style="bold yellow")
    text.append(message)
    err_console.print(text, soft_wrap=True)


def say(message: str) -> None:
    """One plain line on stdout (no markup, no wrapping so commands stay copy-pastable)."""
    console.print(message, markup=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """The server's JSON, unchanged, for `--json`."""
    typer.echo(json.dumps(data, indent=2))


def cell(value: Any, style: str | None = None) -> Text:
    if value is None or value == "":
        return Text("-", style="dim")
    return Text(str(value), style=style or "")


def styled(value: Any, styles: dict[str, str]) -> Text:
    return cell(value, styles.get(str(value)))


def print_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    no_wrap: Sequence[str] = ("State", "Severity"),
) -> None:
    """A table with a header row; prints `No <title>.` when there are no rows.

    Long values wrap on narrow terminals, except in the short `no_wrap` columns."""
    cells = [[item if isinstance(item, Text) else cell(item) for item in row] for row in rows]
    if not cells:
        say(f"No {title.lower() if title else 'entries'}.")
        return
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name, overflow="fold", no_wrap=name in no_wrap)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def print_fields(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    """A two-column `Field  value` view for one object."""
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in pairs:
        table.add_row(label, value if isinstance(value, Text) else cell(value))
    console.print(table)


def human_bytes(size: int | float | None) -> str:
    """Sizes for people: "512 B", "4.0 GiB" (binary units, one decimal; contracts.sizes)."""
    return format_size(size)


def human_age(seconds: int | float | None) -> str:
    """3s, 4m 5s, 2h 3m, 3d 4h; 'never' when there was no heartbeat."""
    if seconds is None:
        return "never"
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60}s"
    if total < 86400:
        return f"{total // 3600}h {total % 3600 // 60}m"
    return f"{total // 86400}d {total % 86400 // 3600}h"


def pretty_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


@contextmanager
def spinner(message: str) -> Iterator[Status]:
    """A Rich spinner on stderr; call `.update(text)` on the yielded status."""
    with err_console.status(Text(message)) as status:
        yield status
