"""login, logout, whoami: the root-level commands about the saved login."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli import config, options
from cli.client import KadaluClient, connect
from cli.commands.user import POLICY
from cli.errors import ApiError, CliError
from cli.output import print_fields, print_json, print_table, say, warn

Username = Annotated[
    Optional[str], typer.Option("--username", "-u", help="User name (prompted if missing).")
]
Password = Annotated[
    Optional[str],
    typer.Option(
        "--password",
        envvar="KADALU_PASSWORD",
        help="Password (default: $KADALU_PASSWORD, else prompted without echo).",
        show_default=False,
    ),
]


def login(url: options.Url = None, username: Username = None, password: Password = None) -> None:
    """Log in to the control plane and save the token in ~/.kadalu/token.json.

    On a fresh control plane (no user yet) this creates the first user, who becomes admin.
    """
    with connect(url, login_required=False) as client:
        bootstrap = client.get("/auth/bootstrap") or {}
        if bootstrap.get("needs_first_user"):
            say("No user exists yet: the first user becomes admin.")
            username = username or typer.prompt("Admin username")
            if password is None:
                password = typer.prompt(f"Password ({POLICY})", hide_input=True,
                                        confirmation_prompt=True)
            client.post("/auth/first-user", {"username": username, "password": password})
            say(f"Created admin user {username}.")
        else:
            username = username or typer.prompt("Username")
            if password is None:
                password = typer.prompt("Password", hide_input=True)
        answer = client.post("/auth/login", {"username": username, "password": password})
        _save_login(client, answer, username)


def _save_login(client: KadaluClient, answer: dict, username: str) -> None:
    try:
        token = answer["token"]
    except (TypeError, KeyError):
        raise CliError(f"the server at {client.base_url} answered the login without a token") from None
    name = (answer.get("user") or {}).get("username") or username
    path = config.save_session(
        config.Session(
            url=client.base_url, token=token, username=name, expires_at=answer.get("expires_at")
        )
    )
    say(f"Logged in as {name} at {client.base_url}")
    if answer.get("expires_at"):
        say(f"Token saved in {path} (expires {answer['expires_at']}).")


AllSessions = Annotated[
    bool,
    typer.Option("--all", help="Revoke every session of your user (all machines and scripts),"
                 " not only this one."),
]


def logout(all_sessions: AllSessions = False) -> None:
    """Revoke the saved token on the server and delete the token file."""
    try:
        session = config.load_session()
    except CliError:
        session = None  # damaged file: nothing to revoke, just remove it
    if all_sessions:
        _logout_everywhere(session)
        return
    if session is None:
        removed = config.delete_session()
        say("Logged out" if removed else "Not logged in.")
        return
    try:
        with KadaluClient(session.url, session.token) as client:
            client.post("/auth/logout")
    except ApiError as exc:
        if exc.status != 401:  # 401: the token was already invalid, nothing to revoke
            warn(f"the server did not revoke the token: {exc.detail}")
    except CliError as exc:
        warn(f"the token could not be revoked on the server: {exc.message}")
    config.delete_session()
    say("Logged out")


def _logout_everywhere(session: config.Session | None) -> None:
    """Unlike a plain logout, failing to reach the server is an error: the other sessions live on.
    The token file stays then, so the command can be run again."""
    if session is None:
        raise CliError("not logged in: log in (`kadalu login`), then run `kadalu logout --all`")
    try:
        with KadaluClient(session.url, session.token) as client:
            answer = client.post("/auth/revoke-sessions") or {}
    except ApiError as exc:
        if exc.status == 401:
            config.delete_session()
            raise CliError("the saved token is no longer valid, so no session was revoked: log in"
                           " again, then run `kadalu logout --all`") from None
        raise
    config.delete_session()
    count = answer.get("revoked", 0) if isinstance(answer, dict) else 0
    say(f"Revoked {count} session{'' if count == 1 else 's'} of {session.username or 'your user'}.")
    say("Logged out")


def whoami(url: options.Url = None, json: options.Json = False) -> None:
    """Show the logged-in user and their grants."""
    with connect(url) as client:
        user = client.get("/auth/me")
        if json:
            print_json(user)
            return
        print_fields(
            [
                ("User", user.get("username")),
                ("ID", user.get("id")),
                ("Created", user.get("created_at")),
                ("Server", client.base_url),
            ]
        )
        print_grants(user.get("grants") or [])


def print_grants(grants: list[dict]) -> None:
    print_table(
        ["Grant ID", "Role", "Scope", "Cluster", "Name"],
        (
            [g.get("id"), g.get("role"), g.get("scope"), g.get("cluster"), g.get("name")]
            for g in grants
        ),
        title="Grants",
    )
