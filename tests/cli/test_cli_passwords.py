"""kadalu user passwd, kadalu user revoke-sessions, kadalu logout --all."""

from __future__ import annotations

import httpx

from cli import config
from tests.cli.cli_fakes import body


def test_passwd_changes_my_own_password_with_hidden_prompts(server, run, logged_in):
    change = server.on("POST", "/auth/password", {"revoked": 2})

    # current password, then the new one twice
    result = run("user", "passwd", input="old-secret-pw\nnew-long-passphrase\nnew-long-passphrase\n")

    assert result.exit_code == 0, result.output
    assert body(change.calls[0]) == {"current_password": "old-secret-pw", "new_password": "new-long-passphrase"}
    assert "Password changed; 2 other sessions signed out." in result.stdout
    assert "old-secret-pw" not in result.output and "new-long-passphrase" not in result.output
    assert "at least 12 characters" in result.output  # the prompt tells the rules
    assert config.load_session() is not None  # this session stays


def test_passwd_with_my_own_name_is_still_my_own_change(server, run, logged_in):
    change = server.on("POST", "/auth/password", {"revoked": 1})

    result = run("user", "passwd", "admin", "--current-password", "old-secret-pw",
                 "--password", "new-long-passphrase")

    assert result.exit_code == 0, result.output
    assert len(change.calls) == 1
    assert "1 other session signed out" in result.stdout


def test_admin_sets_another_users_password_without_a_current_one(server, run, logged_in):
    reset = server.on("POST", "/users/bob/password", {"revoked": 3})

    result = run("user", "passwd", "bob", input="new-long-passphrase\nnew-long-passphrase\n")

    assert result.exit_code == 0, result.output
    assert body(reset.calls[0]) == {"password": "new-long-passphrase"}
    assert "Password of bob changed; 3 sessions signed out." in result.stdout
    assert "Current password" not in result.output


def test_passwd_shows_the_policy_rule_the_server_names(server, run, logged_in):
    server.on("POST", "/auth/password", {"detail": "new_password contains the user name 'admin': choose one"
                                                   " without it"}, status=422)

    result = run("user", "passwd", "--current-password", "old-secret-pw", "--password", "admin-admin-admin")

    assert result.exit_code == 1
    assert "Error: new_password contains the user name 'admin'" in result.stderr


def test_passwd_when_throttled_says_when_to_retry(server, run, logged_in):
    server.on("POST", "/auth/password", httpx.Response(
        429, headers={"Retry-After": "60"},
        json={"detail": "too many failed logins for this user name: try again in 60 seconds"}))

    result = run("user", "passwd", "--current-password", "guess", "--password", "new-long-passphrase")

    assert result.exit_code == 1
    assert "try again in 60 seconds" in result.stderr


def test_revoke_sessions_of_another_user(server, run, logged_in):
    revoke = server.on("POST", "/users/bob/revoke-sessions", {"revoked": 4})

    result = run("user", "revoke-sessions", "bob")

    assert result.exit_code == 0, result.output
    assert len(revoke.calls) == 1
    assert "Revoked 4 sessions of bob." in result.stdout


def test_logout_all_revokes_every_session_and_removes_the_token_file(server, run, logged_in):
    revoke = server.on("POST", "/auth/revoke-sessions", {"revoked": 3})

    result = run("logout", "--all")

    assert result.exit_code == 0, result.output
    assert len(revoke.calls) == 1
    assert "Revoked 3 sessions of admin." in result.stdout and "Logged out" in result.stdout
    assert not config.token_path().exists()


def test_logout_all_with_an_invalid_token_fails_and_removes_the_file(server, run, logged_in):
    server.on("POST", "/auth/revoke-sessions", {"detail": "the token has expired"}, status=401)

    result = run("logout", "--all")

    assert result.exit_code == 1
    assert "no session was revoked" in result.stderr and "kadalu logout --all" in result.stderr
    assert not config.token_path().exists()


def test_logout_all_when_the_server_is_unreachable_fails_and_keeps_the_token(server, run, logged_in):
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
    server.on("POST", "/auth/revoke-sessions", refuse)

    result = run("logout", "--all")

    assert result.exit_code == 1
    assert "cannot reach the server" in result.stderr
    assert config.token_path().exists()


def test_logout_all_when_not_logged_in(server, run):
    result = run("logout", "--all")

    assert result.exit_code == 1
    assert "not logged in" in result.stderr
