"""kadalu cluster verify [--repair] [--json]: what it sends, what it prints, its exit status."""

from __future__ import annotations

import json

IN_SYNC = {"cluster": "prod", "in_sync": True, "findings": [], "repairs": [], "refused": [], "nodes": [
    {"node": "node1", "state": "Online", "checked": True, "why_not": "", "report_age_seconds": 1.2, "findings": 0}]}
FINDING = {"kind": "drift_brick_down", "key": "drift_brick_down:n1:b1", "node": "node1", "volume_id": "v1",
           "brick_id": "b1", "severity": "warning", "repair": "run", "refusal": "",
           "message": "brick node1:/e/b1 of volume v1 is not running: `kadalu cluster verify -c prod --repair` restarts it"}
FOREIGN = {**FINDING, "kind": "drift_volume_id", "key": "drift_volume_id:n2:b2", "node": "node2", "repair": "",
           "refusal": "kadalu never overwrites a volume id that is not this volume's", "severity": "critical",
           "message": "the volume-id xattr of brick node2:/e/b2 holds another id"}
DRIFT = {**IN_SYNC, "in_sync": False, "findings": [FINDING, FOREIGN], "nodes": [
    *IN_SYNC["nodes"], {"node": "node3", "state": "Unreachable", "checked": False, "why_not": "node is Unreachable",
                        "report_age_seconds": None, "findings": 0}]}


def test_in_sync_says_so_and_exits_0(server, run, logged_in):
    route = server.on("POST", "/clusters/prod/verify", IN_SYNC)
    result = run("cluster", "verify", "-c", "prod")
    assert result.exit_code == 0, result.output
    assert "1 node(s) checked, the nodes match the database" in result.stdout
    assert json.loads(route.calls[0].content) == {"repair": False}


def test_drift_lists_each_finding_names_unchecked_nodes_and_exits_1(server, run, logged_in):
    server.on("POST", "/clusters/prod/verify", DRIFT)
    result = run("cluster", "verify", "-c", "prod")
    assert result.exit_code == 1
    assert "drift_brick_down" in result.stdout and "drift_volume_id" in result.stdout
    assert "node node3 not checked: node is Unreachable" in result.stderr
    assert "--repair` to repair what is safe" in result.stdout


def test_repair_sends_repair_and_reports_what_was_refused(server, run, logged_in):
    answer = {**DRIFT, "repairs": [{"brick_id": "b1", "node": "node1", "action": "run", "restore_volume_id": False,
                                    "task_id": "t-9", "kinds": ["drift_brick_down"]}],
              "refused": [{"key": FOREIGN["key"], "kind": "drift_volume_id", "node": "node2",
                           "reason": FOREIGN["refusal"]}]}
    route = server.on("POST", "/clusters/prod/verify", answer)
    result = run("cluster", "verify", "-c", "prod", "--repair")
    assert json.loads(route.calls[0].content) == {"repair": True}
    assert result.exit_code == 1  # something was refused
    assert "repair sent to node1: run brick b1 (drift_brick_down); task t-9" in result.stdout
    assert "not repaired on node2 (drift_volume_id): kadalu never overwrites" in result.stderr


def test_json_prints_the_answer(server, run, logged_in):
    server.on("POST", "/clusters/default/verify", IN_SYNC)
    result = run("cluster", "verify", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == IN_SYNC
