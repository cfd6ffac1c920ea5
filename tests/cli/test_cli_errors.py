"""Server and connection errors reach the user as one line on stderr, never a traceback."""

from __future__ import annotations

import socket

import httpx

from tests.cli.cli_fakes import BASE_URL


def assert_clean_failure(result, code=1):
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit)  # exited on purpose, no uncaught exception
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_server_4xx_detail_goes_to_stderr(server, run, logged_in):
    detail = "cluster prod still has 2 nodes: remove them first (kadalu node remove)"
    server.on("DELETE", "/clusters/prod", {"detail": detail}, status=409)

    result = run("cluster", "delete", "prod", "--yes")

    assert_clean_failure(result)
    assert result.stderr.strip() == f"Error: {detail}"


def test_validation_422_errors_are_rendered_as_field_and_message(server, run, logged_in):
    server.on("POST", "/clusters", {
        "detail": "invalid request: body.name: String should match pattern '^[A-Za-z0-9]' (2 problems in all, "
                  "the first 2 listed in `errors`); fix the request and send it again",
        "errors": [
            {"type": "string_pattern_mismatch", "loc": ["body", "name"], "msg": "String should match pattern '^[A-Za-z0-9]'"},
            {"type": "extra_forbidden", "loc": ["body", "colour"], "msg": "Extra inputs are not permitted"},
        ]}, status=422)

    result = run("cluster", "add", "bad_name")

    assert_clean_failure(result)
    assert result.stderr.strip().splitlines() == ["Error: name: String should match pattern '^[A-Za-z0-9]'",
                                                  "colour: Extra inputs are not permitted"]


def test_413_says_the_body_is_too_large(server, run, logged_in):
    detail = "the request body is larger than 1048576 bytes: send less (the server's limit is KADALU_MAX_REQUEST_BYTES)"
    server.on("POST", "/clusters", {"detail": detail}, status=413)

    result = run("cluster", "add", "c1")

    assert_clean_failure(result)
    assert result.stderr.strip() == f"Error: {detail}"


def test_validation_422_list_detail_of_an_older_server_is_still_rendered(server, run, logged_in):
    server.on("POST", "/clusters", {"detail": [
        {"type": "string_pattern_mismatch", "loc": ["body", "name"],
         "msg": "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'", "input": "-x"},
        {"type": "extra_forbidden", "loc": ["body", "colour"], "msg": "Extra inputs are not permitted",
         "input": "red"},
    ]}, status=422)

    result = run("cluster", "add", "bad_name")

    assert_clean_failure(result)
    assert "name: String should match pattern" in result.stderr
    assert "colour: Extra inputs are not permitted" in result.stderr
    assert "body" not in result.stderr


def test_401_adds_a_login_hint(server, run, logged_in):
    server.on("GET", "/clusters", {"detail": "token expired"}, status=401)

    result = run("cluster", "list")

    assert_clean_failure(result)
    assert "token expired" in result.stderr
    assert f"kadalu login --url {BASE_URL}" in result.stderr


def test_server_error_without_json_body(server, run, logged_in):
    server.on("GET", "/clusters", httpx.Response(502, text="Bad Gateway"))

    result = run("cluster", "list")

    assert_clean_failure(result)
    assert "HTTP 502" in result.stderr and "Bad Gateway" in result.stderr


def test_connection_refused_gives_friendly_message(run):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    result = run("login", "--url", url, "-u", "alice", "--password", "pw-123456")

    assert_clean_failure(result)
    assert f"cannot reach the server at {url}:" in result.stderr
    assert "check --url / KADALU_URL" in result.stderr


def test_timeout_is_reported_as_unreachable(server, run, logged_in):
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)
    server.on("GET", "/clusters/default/nodes", slow)

    result = run("node", "list")

    assert_clean_failure(result)
    assert f"cannot reach the server at {BASE_URL}: no answer within" in result.stderr


def test_url_without_scheme_is_refused(run):
    result = run("login", "--url", "kadalu.test:8080", "-u", "a", "--password", "pw-123456")

    assert_clean_failure(result)
    assert "must start with http:// or https://" in result.stderr


def test_damaged_token_file_is_reported(run, isolated_env):
    isolated_env.mkdir()
    (isolated_env / "token.json").write_text("{not json")

    result = run("cluster", "list")

    assert_clean_failure(result)
    assert "token.json is damaged" in result.stderr
