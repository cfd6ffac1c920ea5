"""login / logout / whoami and the token file."""

from __future__ import annotations

import json
import stat

import httpx

from cli import config
from tests.cli.cli_fakes import BASE_URL, TOKEN, body, make_user

LOGIN_ANSWER = {"token": TOKEN, "expires_at": "2030-01-01T00:00:00Z", "user": make_user("alice")}


def test_login_saves_token_file_0600_with_url(server, run, isolated_env):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": False}, auth=None)
    login = server.on("POST", "/auth/login", LOGIN_ANSWER, auth=None)

    result = run("login", "--url", BASE_URL + "/", "--username", "alice", "--password", "s3cret-pw")

    assert result.exit_code == 0, result.output
    assert f"Logged in as alice at {BASE_URL}" in result.stdout
    assert body(login.calls[0]) == {"username": "alice", "password": "s3cret-pw"}
    path = isolated_env / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(isolated_env.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {
        "url": BASE_URL, "token": TOKEN, "username": "alice",
        "expires_at": "2030-01-01T00:00:00Z",
    }


def test_login_prompts_for_missing_credentials_without_echoing_password(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": False}, auth=None)
    login = server.on("POST", "/auth/login", LOGIN_ANSWER, auth=None)

    result = run("login", "--url", BASE_URL, input="alice\nhidden-pw\n")

    assert result.exit_code == 0, result.output
    assert body(login.calls[0]) == {"username": "alice", "password": "hidden-pw"}
    assert "hidden-pw" not in result.output
    assert config.load_session().token == TOKEN


def test_login_reads_password_from_env(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": False}, auth=None)
    login = server.on("POST", "/auth/login", LOGIN_ANSWER, auth=None)

    result = run("login", "--url", BASE_URL, "-u", "alice", env={"KADALU_PASSWORD": "env-pw-123"})

    assert result.exit_code == 0, result.output
    assert body(login.calls[0])["password"] == "env-pw-123"


def test_login_uses_kadalu_url_env(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": False}, auth=None)
    server.on("POST", "/auth/login", LOGIN_ANSWER, auth=None)

    result = run("login", "-u", "alice", "--password", "pw-123456", env={"KADALU_URL": BASE_URL})

    assert result.exit_code == 0, result.output
    assert server.requests[0].url.host == "kadalu.test"
    assert config.load_session().url == BASE_URL


def test_first_user_bootstrap_creates_admin_then_logs_in(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": True}, auth=None)
    first = server.on("POST", "/auth/first-user", make_user("root"), status=201, auth=None)
    login = server.on("POST", "/auth/login",
                      {**LOGIN_ANSWER, "user": make_user("root")}, auth=None)

    # username, password, then the password confirmation
    result = run("login", "--url", BASE_URL, input="root\nfirst-pw-1\nfirst-pw-1\n")

    assert result.exit_code == 0, result.output
    assert "No user exists yet: the first user becomes admin" in result.stdout
    assert "at least 12 characters" in result.stdout  # the prompt tells the password rules
    assert body(first.calls[0]) == {"username": "root", "password": "first-pw-1"}
    assert body(login.calls[0]) == {"username": "root", "password": "first-pw-1"}
    assert [r.url.path for r in server.requests] == [
        "/api/v1/auth/bootstrap", "/api/v1/auth/first-user", "/api/v1/auth/login"]
    assert f"Logged in as root at {BASE_URL}" in result.stdout
    assert config.load_session().username == "root"


def test_first_user_password_must_be_confirmed(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": True}, auth=None)
    first = server.on("POST", "/auth/first-user", make_user("root"), status=201, auth=None)
    server.on("POST", "/auth/login", {**LOGIN_ANSWER, "user": make_user("root")}, auth=None)

    result = run("login", "--url", BASE_URL,
                 input="root\nfirst-pw-1\ntypo-pw-1\nfirst-pw-1\nfirst-pw-1\n")

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert body(first.calls[0])["password"] == "first-pw-1"


def test_failed_login_shows_detail_and_saves_nothing(server, run):
    server.on("GET", "/auth/bootstrap", {"needs_first_user": False}, auth=None)
    server.on("POST", "/auth/login", {"detail": "wrong username or password"}, status=401,
              auth=None)

    result = run("login", "--url", BASE_URL, "-u", "alice", "--password", "bad-pw-123")

    assert result.exit_code == 1
    assert "wrong username or password" in result.stderr
    assert config.load_session() is None


def test_logout_revokes_and_removes_token_file(server, run, logged_in):
    logout = server.on("POST", "/auth/logout", status=204)

    result = run("logout")

    assert result.exit_code == 0, result.output
    assert len(logout.calls) == 1
    assert "Logged out" in result.stdout
    assert not config.token_path().exists()


def test_logout_removes_token_file_even_when_server_says_401(server, run, logged_in):
    server.on("POST", "/auth/logout", {"detail": "token expired"}, status=401)

    result = run("logout")

    assert result.exit_code == 0, result.output
    assert "Logged out" in result.stdout
    assert not config.token_path().exists()


def test_logout_removes_token_file_when_server_is_unreachable(server, run, logged_in):
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
    server.on("POST", "/auth/logout", refuse)

    result = run("logout")

    assert result.exit_code == 0, result.output
    assert "could not be revoked" in result.stderr
    assert not config.token_path().exists()


def test_whoami_shows_user_and_grants(server, run, logged_in):
    server.on("GET", "/auth/me", make_user("admin"))

    result = run("whoami")

    assert result.exit_code == 0, result.output
    assert "admin" in result.stdout and "g-1" in result.stdout and BASE_URL in result.stdout


def test_command_without_login_says_how_to_log_in(server, run):
    result = run("node", "list")

    assert result.exit_code == 1
    assert "not logged in: run `kadalu login --url http://127.0.0.1:8080`" in result.stderr
    assert server.requests == []


def test_token_is_not_sent_to_another_server(server, run, logged_in):
    result = run("cluster", "list", "--url", "http://elsewhere.test:8080")

    assert result.exit_code == 1
    assert "not logged in at http://elsewhere.test:8080" in result.stderr
    assert server.requests == []


def test_url_resolution_order(monkeypatch, logged_in):
    session = config.load_session()
    assert config.resolve_url(None) == BASE_URL  # saved at login
    monkeypatch.setenv("KADALU_URL", "http://env.test:1/")
    assert config.resolve_url(None) == "http://env.test:1"
    assert config.resolve_url("http://opt.test:2") == "http://opt.test:2"
    config.delete_session()
    monkeypatch.delenv("KADALU_URL")
    assert config.resolve_url(None) == "http://127.0.0.1:8080"
    assert session.token == TOKEN
