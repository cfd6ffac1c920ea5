"""Option types shared by the commands (Annotated, for Typer)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

Url = Annotated[
    Optional[str],
    typer.Option(
        "--url",
        help="Control plane URL (default: $KADALU_URL, then the URL saved at login,"
        " then http://127.0.0.1:8080).",
        show_default=False,
    ),
]
Cluster = Annotated[str, typer.Option("--cluster", "-c", help="Cluster name.")]
Json = Annotated[bool, typer.Option("--json", help="Print the server's raw JSON answer.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
Wait = Annotated[
    bool, typer.Option("--wait", help="Wait for the task to finish, showing its state.")
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=0, help="With --wait: give up waiting after this many seconds."),
]
Limit = Annotated[
    Optional[int],
    typer.Option("--limit", min=1, help="At most this many entries (server default if unset)."),
]
