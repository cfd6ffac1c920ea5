"""`kadalu volume expand` without bricks (the control plane chooses them), its --dry-run, and
`kadalu cluster status` without a name."""
from __future__ import annotations

import json

from tests.cli.cli_fakes import body, make_cluster, make_volume

VOL1 = "/clusters/default/volumes/vol1"
STATUS = {**make_cluster("default"), "nodes_by_state": {"Online": 3}, "device_count": 3, "volume_count": 1}
PLAN = {"volume": "vol1", "brick_size": 10 << 30, "set_size": 3, "set_count": 1, "arbiter_size": None,
        "total_bytes": 30 << 30, "bricks": [], "notes": [],
        "lines": ["1 set(s) of 3 brick(s), data bricks of 10.0 GiB; 30.0 GiB of raw space",
                  "  set 1: n4:/d/vol1-brick-1-0  10.0 GiB"]}


def test_expand_without_bricks_asks_the_server_to_choose_and_names_the_new_bricks(server, run, logged_in):
    vol = make_volume(state="Expanding")
    vol["bricks"] = [{"node": "n1", "path": "/d/vol1-brick-0-0", "state": "Started"},
                     {"node": "n4", "path": "/d/vol1-brick-1-0", "state": "Creating"}]
    route = server.on("POST", f"{VOL1}/expand", vol, status=202)
    result = run("volume", "expand", "vol1")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"bricks": [], "force": False}
    assert "n4:/d/vol1-brick-1-0" in result.stdout and "n1:/d/vol1-brick-0-0" not in result.stdout
    run("volume", "expand", "vol1", "--sets", "2")
    run("volume", "expand", "vol1", "--size", "+100GiB")
    assert body(route.calls[1])["sets"] == 2 and body(route.calls[2])["size"] == "+100GiB"


def test_expand_dry_run_prints_the_plan_and_sends_no_expand(server, run, logged_in):
    plan = server.on("POST", f"{VOL1}/expand/plan", PLAN)
    result = run("volume", "expand", "vol1", "--dry-run", "--sets", "1")
    assert result.exit_code == 0, result.output
    assert body(plan.calls[0]) == {"bricks": [], "force": False, "sets": 1}
    assert "nothing was changed" in result.stdout and "n4:/d/vol1-brick-1-0" in result.stdout
    raw = run("volume", "expand", "vol1", "--dry-run", "--json")
    assert json.loads(raw.stdout)["set_count"] == 1


def test_expand_refusals_are_relayed_and_bad_combinations_are_usage_errors(server, run, logged_in):
    detail = ("cannot add 1 set of 3 (replica 3, 10.0 GiB bricks) to volume vol1: need 3 nodes ...; "
              "Fix: register a device with at least 10.0 GiB free on another node (`kadalu device add`)")
    server.on("POST", f"{VOL1}/expand", {"detail": detail}, status=409)
    refused = run("volume", "expand", "vol1")
    assert refused.exit_code == 1 and "register a device" in refused.stderr
    for args in (["n4:/d/b", "--sets", "2"], ["n4:/d/b", "--dry-run"], ["--sets", "0"]):
        assert run("volume", "expand", "vol1", *args).exit_code != 0, args


def test_cluster_status_without_a_name_shows_the_default_and_names_the_others(server, run, logged_in):
    server.on("GET", "/clusters", {"data": [make_cluster("default"), make_cluster("mycluster")], "count": 2})
    shown = server.on("GET", "/clusters/default", STATUS)
    result = run("cluster", "status")
    assert result.exit_code == 0, result.output
    assert len(shown.calls) == 1
    assert "Cluster default (the default cluster" in result.stdout and "mycluster" in result.stdout


def test_cluster_status_without_a_name_shows_the_only_cluster_the_user_sees(server, run, logged_in):
    server.on("GET", "/clusters", {"data": [make_cluster("prod")], "count": 1})
    server.on("GET", "/clusters/prod", {**STATUS, "name": "prod"})
    result = run("cluster", "status")
    assert result.exit_code == 0, result.output
    assert "Cluster prod (the only cluster you can see)" in result.stdout


def test_cluster_status_without_a_name_and_no_default_lists_the_clusters(server, run, logged_in):
    server.on("GET", "/clusters", {"data": [make_cluster("a"), make_cluster("b")], "count": 2})
    result = run("cluster", "status")
    assert result.exit_code == 2
    assert "none is named default" in result.stderr and "(a, b)" in result.stderr
    server.on("GET", "/clusters", {"data": [], "count": 0})
    nothing = run("cluster", "status")
    assert nothing.exit_code == 1 and "kadalu cluster add" in nothing.stderr
