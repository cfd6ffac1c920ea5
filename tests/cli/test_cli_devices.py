"""device add/remove and waiting for their tasks."""

from __future__ import annotations

import pytest

from tests.cli.cli_fakes import body, make_device, make_task

NODE_DEVICES = "/clusters/default/nodes/node1/devices"
FAILED_ERROR = {"errno": 28, "code": "ENOSPC", "message": "no space left on /data",
                "hint": "free some space on node1 or use another path"}


@pytest.mark.parametrize("args", [[], ["--path", "/data/b1", "--device", "/dev/sdb"]],
                         ids=["neither", "both"])
def test_device_add_needs_exactly_one_of_path_or_device(server, run, logged_in, args):
    result = run("device", "add", "node1", *args)

    assert result.exit_code == 2
    assert "exactly one of --path DIR or --device /dev/X" in result.stderr
    assert server.requests == []


@pytest.mark.parametrize("args,expected", [
    (["--path", "/data/brick1"], {"path": "/data/brick1"}),
    (["--device", "/dev/sdb"], {"device": "/dev/sdb"}),
])
def test_device_add_sends_request_and_prints_task_id(server, run, logged_in, args, expected):
    route = server.on("POST", NODE_DEVICES,
                      {"device": make_device(state="Adding"), "task": make_task("t-42")},
                      status=202)

    result = run("device", "add", "node1", *args)

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == expected
    assert "Device add request sent (task t-42)." in result.stdout
    assert "kadalu task show t-42" in result.stdout


def test_device_add_wait_polls_until_done_and_prints_size(server, run, logged_in):
    server.on("POST", NODE_DEVICES,
              {"device": make_device(state="Adding", size=None, free=None), "task": make_task()},
              status=202)
    poll = server.on("GET", "/tasks/t-1",
                     make_task(),
                     make_task(phase="running", state="ADDING"),
                     make_task(phase="done", state="ADDED"))
    server.on("GET", "/clusters/default/devices",
              {"data": [make_device(size=20 * 1024**3, free=19 * 1024**3)], "count": 1})

    result = run("device", "add", "node1", "--path", "/data/brick1", "--wait")

    assert result.exit_code == 0, result.output
    assert len(poll.calls) == 3
    assert "Device node1:/data/brick1 is Ready: size 20.0 GiB, free 19.0 GiB." in result.stdout


def test_device_add_wait_reports_failure_with_hint(server, run, logged_in):
    server.on("POST", NODE_DEVICES, {"device": make_device(state="Adding"), "task": make_task()},
              status=202)
    server.on("GET", "/tasks/t-1", make_task(phase="running", state="ADDING"),
              make_task(phase="failed", state="FAILED", error=FAILED_ERROR))

    result = run("device", "add", "node1", "--path", "/data/brick1", "--wait")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "no space left on /data" in result.stderr
    assert "ENOSPC" in result.stderr
    assert "hint: free some space on node1 or use another path" in result.stderr


def test_device_add_wait_times_out_with_exit_2(server, run, logged_in):
    server.on("POST", NODE_DEVICES, {"device": make_device(state="Adding"), "task": make_task()},
              status=202)
    server.on("GET", "/tasks/t-1", make_task(phase="running", state="ADDING"))

    result = run("device", "add", "node1", "--path", "/data/brick1", "--wait", "--timeout", "0")

    assert result.exit_code == 2
    assert "task t-1 is still ADDING" in result.stderr
    assert "kadalu task show t-1" in result.stderr


def test_device_remove_finds_id_by_node_and_path(server, run, logged_in):
    listing = server.on("GET", "/clusters/default/devices", {"data": [
        make_device(path="/data/other", device_id="d-7"),
        make_device(path="/data/brick1", device_id="d-9"),
    ], "count": 2})
    delete = server.on("DELETE", "/clusters/default/devices/d-9",
                       {"device": make_device(state="Removing", device_id="d-9"),
                        "task": make_task("t-5", kind="REMOVE_DEVICE")}, status=202)

    result = run("device", "remove", "node1", "/data/brick1/", "--yes")

    assert result.exit_code == 0, result.output
    assert listing.calls[0].url.params["node"] == "node1"
    assert len(delete.calls) == 1 and "force" not in delete.calls[0].url.params
    assert "Device remove request sent (task t-5)." in result.stdout


def test_device_remove_force_handles_204(server, run, logged_in):
    server.on("GET", "/clusters/default/devices", {"data": [make_device()], "count": 1})
    delete = server.on("DELETE", "/clusters/default/devices/d-1", status=204)

    result = run("device", "remove", "node1", "/data/brick1", "--force", "--yes")

    assert result.exit_code == 0, result.output
    assert delete.calls[0].url.params["force"] == "true"
    assert "Device node1:/data/brick1 removed." in result.stdout


def test_device_remove_wait(server, run, logged_in):
    server.on("GET", "/clusters/default/devices", {"data": [make_device()], "count": 1})
    server.on("DELETE", "/clusters/default/devices/d-1",
              {"device": make_device(state="Removing"), "task": make_task("t-6")}, status=202)
    server.on("GET", "/tasks/t-6", make_task("t-6", phase="done", state="REMOVED"))

    result = run("device", "remove", "node1", "/data/brick1", "--yes", "--wait")

    assert result.exit_code == 0, result.output
    assert "Device node1:/data/brick1 removed." in result.stdout


def test_device_remove_unknown_path(server, run, logged_in):
    server.on("GET", "/clusters/default/devices", {"data": [make_device()], "count": 1})

    result = run("device", "remove", "node1", "/data/nope", "--yes")

    assert result.exit_code == 1
    assert "node node1 of cluster default has no device /data/nope" in result.stderr


def test_device_remove_accepts_202_without_task(server, run, logged_in):
    server.on("GET", "/clusters/default/devices", {"data": [make_device()], "count": 1})
    server.on("DELETE", "/clusters/default/devices/d-1",
              {"device": make_device(state="Removing"), "task": None}, status=202)

    result = run("device", "remove", "node1", "/data/brick1", "--yes")

    assert result.exit_code == 0, result.output
    assert "Device node1:/data/brick1 removed." in result.stdout
