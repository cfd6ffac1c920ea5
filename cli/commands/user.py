"""kadalu user: users and their grants (global admin only)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from cli import config, options
from cli.client import connect, seg
from cli.output import exit_with_error, print_json, print_table, say

app = typer.Typer(help="Manage users and their grants (global admins only).",
                  no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="User name.", show_default=False)]
NewPassword = Annotated[Optional[str], typer.Option(
    "--password", help="The new password (prompted twice without echo if missing).", show_default=False)]
POLICY = ("at least 12 characters, at least 5 different ones, without the user name and not a"
          " commonly used password")


class Role(StrEnum):
    admin = "admin"
    maintainer = "maintainer"
    viewer = "viewer"


class Scope(StrEnum):
    all = "all"
    cluster = "cluster"
    node = "node"
    device = "device"
    volume = "volume"


def describe_grant(grant: dict[str, Any]) -> str:
    """`admin: all`, `viewer: cluster prod`, `maintainer: node prod/n1`."""
    scope = grant.get("scope")
    if scope == "all":
        where = "all"
    elif scope == "cluster":
        where = f"cluster {grant.get('cluster')}"
    else:
        where = f"{scope} {grant.get('cluster')}/{grant.get('name')}"
    return f"{grant.get('role')}: {where}"


@app.command("add")
def add(
    name: Name,
    password: Annotated[Optional[str], typer.Option(
        "--password", help=f"Password: {POLICY} (prompted if missing).",
        show_default=False)] = None,
    url: options.Url = None,
) -> None:
    """Create a user (without any grant: see `kadalu user grant`)."""
    with connect(url) as client:
        if password is None:
            password = typer.prompt(f"Password for {name}", hide_input=True,
                                    confirmation_prompt=True)
        user = client.post("/users", {"username": name, "password": password})
    say(f"User {user.get('username', name)} created (id {user.get('id')}); it has no grants yet.")


@app.command("list")
def list_(url: options.Url = None, json: options.Json = False) -> None:
    """List users and their grants."""
    with connect(url) as client:
        answer = client.get("/users")
    if json:
        print_json(answer)
        return
    print_table(
        ["Username", "ID", "Created", "Grants"],
        (
            [u.get("username"), u.get("id"), u.get("created_at"),
             "\n".join(describe_grant(g) for g in u.get("grants") or [])]
            for u in answer.get("data", [])
        ),
        title="Users",
    )


@app.command("remove")
def remove(name: Name, yes: options.Yes = False, url: options.Url = None) -> None:
    """Delete a user."""
    with connect(url) as client:
        if not yes:
            typer.confirm(f"Delete user {name}?", abort=True)
        client.delete(f"/users/{seg(name)}")
    say(f"User {name} deleted.")


@app.command("grant")
def grant(
    name: Name,
    role: Annotated[Role, typer.Argument(help="admin, maintainer or viewer.",
                                         show_default=False)],
    scope: Annotated[Optional[Scope], typer.Option(
        "--scope", help="What the role covers (default: cluster with -c, else all).",
        show_default=False)] = None,
    cluster: Annotated[Optional[str], typer.Option(
        "--cluster", "-c", help="Cluster of the scope.", show_default=False)] = None,
    resource: Annotated[Optional[str], typer.Option(
        "--name", help="Node, device (<node>:<path>) or volume name for those scopes.",
        show_default=False)] = None,
    url: options.Url = None,
) -> None:
    """Give a user a role on everything, a cluster, or one node/device/volume."""
    if scope is None:
        scope = Scope.cluster if cluster else Scope.all
    body: dict[str, Any] = {"role": role.value, "scope": scope.value}
    if scope is Scope.all:
        if cluster or resource:
            exit_with_error("--scope all takes neither -c/--cluster nor --name", code=2)
    elif scope is Scope.cluster:
        if not cluster or resource:
            exit_with_error("--scope cluster needs -c/--cluster and no --name", code=2)
        body["cluster"] = cluster
    else:
        if not cluster or not resource:
            exit_with_error(f"--scope {scope.value} needs -c/--cluster and --name", code=2)
        body.update(cluster=cluster, name=resource)
    with connect(url) as client:
        created = client.post(f"/users/{seg(name)}/grants", body)
    say(f"Granted {describe_grant(created)} to {name} (grant id {created.get('id')}).")


@app.command("revoke")
def revoke(name: Name, grant_id: Annotated[str, typer.Argument(
        help="Grant id (see `kadalu user list --json` or `kadalu whoami`).",
        show_default=False)], url: options.Url = None) -> None:
    """Remove one grant from a user."""
    with connect(url) as client:
        client.delete(f"/users/{seg(name)}/grants/{seg(grant_id)}")
    say(f"Revoked grant {grant_id} from {name}.")


@app.command("passwd")
def passwd(
    name: Annotated[Optional[str], typer.Argument(
        help="Another user (admins only: no current password needed, and all of that user's"
             " sessions end). Leave out to change your own.", show_default=False)] = None,
    password: NewPassword = None,
    current: Annotated[Optional[str], typer.Option(
        "--current-password", help="Your current password (prompted without echo if missing).",
        show_default=False)] = None,
    url: options.Url = None,
) -> None:
    """Change your password (your other sessions are signed out), or, as an admin, another user's."""
    saved = config.load_session()
    own = name is None or (saved is not None and name == saved.username)
    with connect(url) as client:
        if own:
            if current is None:
                current = typer.prompt("Current password", hide_input=True)
            if password is None:
                password = typer.prompt(f"New password ({POLICY})", hide_input=True,
                                        confirmation_prompt=True)
            answer = client.post("/auth/password",
                                 {"current_password": current, "new_password": password})
            say(f"Password changed; {_sessions(answer, 'other ')} signed out.")
            return
        if password is None:
            password = typer.prompt(f"New password for {name} ({POLICY})", hide_input=True,
                                    confirmation_prompt=True)
        answer = client.post(f"/users/{seg(name)}/password", {"password": password})
    say(f"Password of {name} changed; {_sessions(answer)} signed out.")


@app.command("revoke-sessions")
def revoke_sessions(name: Name, url: options.Url = None) -> None:
    """Sign a user out everywhere: revoke all their tokens (they must log in again)."""
    with connect(url) as client:
        answer = client.post(f"/users/{seg(name)}/revoke-sessions")
    say(f"Revoked {_sessions(answer)} of {name}.")


def _sessions(answer: Any, kind: str = "") -> str:
    count = answer.get("revoked", 0) if isinstance(answer, dict) else 0
    return f"{count} {kind}session" + ("" if count == 1 else "s")
