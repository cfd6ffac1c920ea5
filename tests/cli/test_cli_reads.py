"""Read commands: tables and --json."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

import cli.output
from tests.cli.cli_fakes import (
    make_alert,
    make_cluster,
    make_device,
    make_node,
    make_task,
    make_user,
)

STATUS = {**make_cluster("prod"), "nodes_by_state": {"Online": 2, "Unreachable": 1},
          "device_count": 4, "volume_count": 1}
TASK_FAILED = make_task(phase="failed", state="FAILED", error={
    "errno": 2, "code": "ENOENT", "message": "/data/brick1 does not exist",
    "hint": "create the directory on node1 first"})

READS = [
    (["whoami"], "/auth/me", make_user()),
    (["cluster", "list"], "/clusters", {"data": [make_cluster()], "count": 1}),
    (["cluster", "status", "prod"], "/clusters/prod", STATUS),
    (["node", "list", "-c", "prod"], "/clusters/prod/nodes", {"data": [make_node()], "count": 1}),
    (["node", "show", "-c", "prod", "node1"], "/clusters/prod/nodes/node1", make_node()),
    (["device", "list"], "/clusters/default/devices", {"data": [make_device()], "count": 1}),
    (["user", "list"], "/users", {"data": [make_user()], "count": 1}),
    (["task", "list"], "/clusters/default/tasks", {"data": [make_task()], "count": 1}),
    (["task", "show", "t-1"], "/tasks/t-1", TASK_FAILED),
    (["alert", "list"], "/clusters/default/alerts", {"data": [make_alert()], "count": 1}),
]


@pytest.mark.parametrize("args,path,payload", READS, ids=[" ".join(r[0]) for r in READS])
def test_json_flag_prints_the_server_answer(server, run, logged_in, args, path, payload):
    server.on("GET", path, payload)

    result = run(*args, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == payload
    assert result.stdout == json.dumps(payload, indent=2) + "\n"


def test_node_list_renders_names_states_and_heartbeat_age(server, run, logged_in):
    server.on("GET", "/clusters/prod/nodes", {"data": [
        make_node("node1", "Online", age=3.4, devices=2),
        make_node("node2", "Unreachable", age=125),
        make_node("node3", "Registered", age=None, devices=0),
    ], "count": 3})

    result = run("node", "list", "-c", "prod")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for header in ["Name", "Address", "State", "Hostname", "GlusterFS", "Heartbeat age", "Devices"]:
        assert header in result.stdout
    row = {name: next(line for line in lines if f" {name} " in line)
           for name in ("node1", "node2", "node3")}
    assert "Online" in row["node1"] and "3s" in row["node1"] and "11.1" in row["node1"]
    assert "Unreachable" in row["node2"] and "2m 5s" in row["node2"]
    assert "Registered" in row["node3"] and "never" in row["node3"]


def test_node_list_empty(server, run, logged_in):
    server.on("GET", "/clusters/default/nodes", {"data": [], "count": 0})

    result = run("node", "list")

    assert result.exit_code == 0, result.output
    assert "No nodes." in result.stdout


def test_cluster_status_shows_counts(server, run, logged_in):
    server.on("GET", "/clusters/prod", STATUS)

    result = run("cluster", "status", "prod")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "prod" in out and "Unreachable" in out
    assert any("Devices" in line and "4" in line for line in out.splitlines())


def test_device_list_filters_by_node_and_prints_human_sizes(server, run, logged_in):
    route = server.on("GET", "/clusters/default/devices",
                      {"data": [make_device(size=10 * 1024**3, free=512 * 1024**2)], "count": 1})

    result = run("device", "list", "--node", "node1")

    assert result.exit_code == 0, result.output
    assert route.calls[0].url.params["node"] == "node1"
    assert "/data/brick1" in result.stdout
    assert "10.0 GiB" in result.stdout and "512.0 MiB" in result.stdout


def test_task_list_passes_filters(server, run, logged_in):
    route = server.on("GET", "/clusters/prod/tasks", {"data": [make_task()], "count": 1})

    result = run("task", "list", "-c", "prod", "--state", "failed", "--node", "node1",
                 "--limit", "5")

    assert result.exit_code == 0, result.output
    assert dict(route.calls[0].url.params) == {"state": "failed", "node": "node1", "limit": "5"}
    assert "ADD_DEVICE" in result.stdout


def test_task_show_prints_error_hint_spec_and_timestamps(server, run, logged_in):
    server.on("GET", "/tasks/t-1", TASK_FAILED)

    result = run("task", "show", "t-1")

    assert result.exit_code == 0, result.output
    for text in ["ADD_DEVICE", "FAILED", "ENOENT", "/data/brick1 does not exist",
                 "create the directory on node1 first", '"path": "/data/brick1"',
                 "2025-01-01T10:00:00Z"]:
        assert text in result.stdout


def test_user_list_summarises_grants(server, run, logged_in):
    server.on("GET", "/users", {"data": [make_user("bob", grants=[
        {"id": "g-2", "role": "viewer", "scope": "cluster", "cluster": "prod", "name": None},
        {"id": "g-3", "role": "maintainer", "scope": "node", "cluster": "prod", "name": "n1"},
    ])], "count": 1})

    result = run("user", "list")

    assert result.exit_code == 0, result.output
    assert "viewer: cluster prod" in result.stdout
    assert "maintainer: node prod/n1" in result.stdout


def test_alert_list_passes_limit(server, run, logged_in):
    route = server.on("GET", "/clusters/default/alerts", {"data": [make_alert()], "count": 1})

    result = run("alert", "list", "--limit", "3")

    assert result.exit_code == 0, result.output
    assert route.calls[0].url.params["limit"] == "3"
    assert "node2 missed 3 heartbeats" in result.stdout


def test_server_strings_are_not_rich_markup(server, run, logged_in):
    server.on("GET", "/clusters/default/alerts",
              {"data": [{**make_alert(), "message": "disk [bold]full[/bold]"}], "count": 1})

    result = run("alert", "list")

    assert result.exit_code == 0, result.output
    assert "disk [bold]full[/bold]" in result.stdout


def test_node_states_are_coloured_on_a_terminal(server, run, logged_in, monkeypatch):
    monkeypatch.setattr(cli.output, "console", Console(
        force_terminal=True, color_system="standard", width=200, highlight=False))
    server.on("GET", "/clusters/default/nodes", {"data": [
        make_node("node1", "Online"), make_node("node2", "Unreachable"),
        make_node("node3", "Registered")], "count": 3})

    result = run("node", "list")

    assert result.exit_code == 0, result.output
    assert "\x1b[32mOnline" in result.stdout      # green
    assert "\x1b[31mUnreachable" in result.stdout  # red
    assert "\x1b[33mRegistered" in result.stdout   # yellow


def test_alert_list_firing_asks_for_open_alerts_and_shows_state(server, run, logged_in):
    route = server.on("GET", "/clusters/default/alerts", {"data": [
        {**make_alert(), "state": "firing", "count": 3},
        {**make_alert("a-2"), "state": "resolved", "resolved_at": "2025-01-01T10:09:00Z"}], "count": 2})

    result = run("alert", "list", "--firing")

    assert result.exit_code == 0, result.output
    assert route.calls[0].url.params["state"] == "firing"
    assert "firing (x3)" in result.stdout
    assert "resolved 2025-01-01T10:09:00Z" in result.stdout
