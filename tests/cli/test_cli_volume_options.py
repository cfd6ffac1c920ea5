"""volume set / reset / get / expand, create --size --dry-run, node label."""
from __future__ import annotations

import json

from tests.cli.cli_fakes import body, make_volume

VOL1 = "/clusters/default/volumes/vol1"


def test_set_sends_pairs_and_odd_counts_are_usage_errors(server, run, logged_in):
    route = server.on("POST", f"{VOL1}/options", make_volume(state="Reconfiguring"), status=202)
    result = run("volume", "set", "vol1", "diagnostics.brick-log-level", "DEBUG", "cluster.quorum-type", "auto")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"set": {"diagnostics.brick-log-level": "DEBUG", "cluster.quorum-type": "auto"}}
    odd = run("volume", "set", "vol1", "performance.write-behind")
    assert odd.exit_code == 2 and "pairs" in odd.stderr and len(route.calls) == 1


def test_set_prints_the_servers_warnings(server, run, logged_in):
    answer = {**make_volume(), "warnings": ["features.scrub-freq: for the bit-rot daemons (bitd), which kadalu does not run"]}
    server.on("POST", f"{VOL1}/options", answer, status=202)
    result = run("volume", "set", "vol1", "features.scrub-freq", "daily")
    assert result.exit_code == 0, result.output
    assert "Warning: features.scrub-freq: for the bit-rot daemons (bitd)" in result.stderr
    assert "stored anyway" in result.stderr


def test_reset_sends_names(server, run, logged_in):
    route = server.on("POST", f"{VOL1}/options", make_volume(), status=202)
    assert run("volume", "reset", "vol1", "diagnostics.brick-log-level").exit_code == 0
    assert body(route.calls[0]) == {"reset": ["diagnostics.brick-log-level"]}


def test_get_shows_value_default_and_where_it_applies(server, run, logged_in):
    row = {"name": "performance.write-behind", "value": "off", "default": "on", "changed": True, "type": "bool",
           "accepts": "on or off", "graphs": ["client"], "description": "d"}
    other = {**row, "name": "cluster.quorum-type", "value": "none", "default": "none", "changed": False}
    route = server.on("GET", f"{VOL1}/options", {"data": [row, other], "count": 2})
    result = run("volume", "get", "vol1", "--changed")
    assert result.exit_code == 0, result.output
    assert "performance.write-behind" in result.stdout and "client" in result.stdout
    assert "cluster.quorum-type" not in result.stdout
    one = run("volume", "get", "vol1", "performance.write-behind", "--json")
    assert json.loads(one.stdout)["count"] == 2 and route.calls[1].url.params["name"] == "performance.write-behind"


def test_get_shows_a_stored_size_with_its_exact_spelling(server, run, logged_in):
    row = {"name": "performance.cache-size", "value": str(256 << 20), "default": str(32 << 20), "changed": True,
           "type": "size", "accepts": "a size", "graphs": ["client"], "description": "d"}
    decimal = {**row, "name": "performance.io-cache-size", "value": "500000000"}
    odd = {**row, "name": "performance.nl-cache-limit", "value": "1234567"}
    server.on("GET", f"{VOL1}/options", {"data": [row, decimal, odd], "count": 3})
    result = run("volume", "get", "vol1")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "268435456 (256MiB)" in out and "33554432 (32MiB)" in out and "500000000 (500MB)" in out
    assert "1234567 (" not in out  # no unit divides it: the byte count alone
    raw = json.loads(run("volume", "get", "vol1", "--json").stdout)
    assert raw["data"][0]["value"] == "268435456"  # JSON as the server sent it


def test_expand_posts_bricks(server, run, logged_in):
    route = server.on("POST", f"{VOL1}/expand", make_volume(state="Expanding"), status=202)
    result = run("volume", "expand", "vol1", "n4:/d/b", "n5:/d/b", "n6:/d/b")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"bricks": ["n4:/d/b", "n5:/d/b", "n6:/d/b"], "force": False}


def test_create_size_dry_run_prints_the_plan_and_creates_nothing(server, run, logged_in):
    plan = {"volume": "vol1", "brick_size": 1, "set_size": 3, "set_count": 1, "arbiter_size": None,
            "total_bytes": 3, "bricks": [], "notes": [], "lines": ["set 1: node1:/d/vol1-brick-0-0 (10.0 GiB)"]}
    route = server.on("POST", "/clusters/default/volumes/plan", plan)
    result = run("volume", "create", "vol1", "--replica3", "--size", "10GiB", "--dry-run")
    assert result.exit_code == 0, result.output
    assert body(route.calls[0])["replica"] == 3 and body(route.calls[0])["size"] == "10GiB"
    assert "node1:/d/vol1-brick-0-0" in result.stdout and "nothing was changed" in result.stdout


def test_node_label_sets_the_zone(server, run, logged_in):
    node = {"id": "x", "name": "n1", "address": "127.0.1.1", "zone": "a", "state": "Online", "hostname": "",
            "glusterfs_version": "", "agent_version": "", "last_heartbeat_at": None, "heartbeat_age_seconds": None,
            "registered_at": "2026-11-24T00:00:00Z", "device_count": 0}
    route = server.on("PATCH", "/clusters/default/nodes/n1", node)
    result = run("node", "label", "n1", "--zone", "a")
    assert result.exit_code == 0 and body(route.calls[0]) == {"zone": "a"}


def test_rotate_credentials_posts_and_relays_the_server_message_and_refusal(server, run, logged_in):
    route = server.on("POST", f"{VOL1}/credentials", make_volume(state="Stopped") | {
        "message": "New client credentials: they apply when the volume starts"})
    result = run("volume", "rotate-credentials", "vol1")
    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1 and "apply when the volume starts" in result.stdout
    server.on("POST", "/clusters/prod/volumes/vol1/credentials",
              {"detail": "volume 'vol1' is Started: stop it first (`kadalu volume stop vol1`)"}, status=409)
    refused = run("volume", "rotate-credentials", "-c", "prod", "vol1")
    assert refused.exit_code == 1 and "stop it first" in refused.stderr


def test_expand_retry_and_abort_act_on_the_failed_expand(server, run, logged_in):
    retry = server.on("POST", f"{VOL1}/expand/retry", make_volume(state="Expanding"), status=202)
    abort = server.on("POST", f"{VOL1}/expand/abort", make_volume(state="AbortingExpand"), status=202)
    assert run("volume", "expand", "vol1", "--retry").exit_code == 0 and len(retry.calls) == 1
    assert run("volume", "expand", "vol1", "--abort").exit_code == 0 and len(abort.calls) == 1
    for args in (["--retry", "--abort"], ["--retry", "n4:/d/b"], ["--abort", "--force"], ["--retry", "--sets", "2"],
                 ["--abort", "--dry-run"]):
        result = run("volume", "expand", "vol1", *args)
        assert result.exit_code != 0, args
    assert len(retry.calls) == 1 and len(abort.calls) == 1
