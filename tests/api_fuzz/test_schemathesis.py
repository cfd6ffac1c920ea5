"""schemathesis over the whole API: a real server process on PostgreSQL, every check, bounded examples.

The run must find no server error and no answer that disagrees with the OpenAPI document (status
code, content type, headers, body schema). Names of real resources (a cluster with a registered
node, a device, a volume, users) are fed to path, query and body fields 80% of the time, so the
fuzzer reaches past the 404 of a random name. Generation is deterministic: a failure reproduces.

Select with `-m api_fuzz` (or leave it out with `-m "not api_fuzz"`). FUZZ_REPORTS=json,ndjson
keeps every request and answer in the report directory next to schemathesis's own output.txt.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from contracts.messages import TaskResult
from controlplane.models import Task
from controlplane.services import reconcile
from tests.api_process import api_process, empty_database

pytestmark = pytest.mark.api_fuzz

API = "/api/v1"
SEED = 20240607
MAX_EXAMPLES = 15
PASSWORD = "password-123"


def _ok(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json() if r.content else {}


def _login(client: httpx.Client, username: str) -> str:
    return _ok(client.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD}), 200)["token"]


def _device_ready(database_url: str, task_id: str) -> None:
    """Play the agent's ADD_DEVICE success the way the control worker applies it (no agent runs here)."""
    engine = create_engine(database_url)
    with Session(engine) as s:
        task = s.get(Task, task_id)
        reconcile.apply_result(s, TaskResult(task_id=task.id, node_id=task.node_id, ok=True,
                                             data={"size_bytes": 100 << 30, "free_bytes": 100 << 30}))
    engine.dispose()


def make_world(url: str, database_url: str) -> dict:
    """An admin, a cluster c1 with node n1, a Ready device and a volume on it, another user; their names and ids."""
    with httpx.Client(base_url=url, timeout=30) as client:
        _ok(client.post(f"{API}/auth/first-user", json={"username": "admin", "password": PASSWORD}), 201)
        admin = {"Authorization": f"Bearer {_login(client, 'admin')}"}
        join = _ok(client.post(f"{API}/clusters", json={"name": "c1"}, headers=admin), 201)["join_token"]
        node = _ok(client.post(f"{API}/agent/register",
                               json={"join_token": join, "name": "n1", "address": "127.0.1.1"}), 200)
        added = _ok(client.post(f"{API}/clusters/c1/nodes/n1/devices", json={"path": "/exports/d1"}, headers=admin), 202)
        _device_ready(database_url, added["task"]["id"])
        _ok(client.post(f"{API}/clusters/c1/volumes", json={"name": "v1", "bricks": ["n1:/exports/d1/b1"]},
                        headers=admin), 202)
        _ok(client.post(f"{API}/users", json={"username": "u1", "password": PASSWORD}, headers=admin), 201)
        grant = _ok(client.post(f"{API}/users/u1/grants", json={"role": "viewer"}, headers=admin), 201)
        # logout is fuzzed with a token of its own, so it can't end the admin's session
        _ok(client.post(f"{API}/users", json={"username": "leaver", "password": PASSWORD}, headers=admin), 201)
        # revoke-sessions is fuzzed on a user of its own too, so it can't end the admin's session either
        _ok(client.post(f"{API}/users", json={"username": "quitter", "password": PASSWORD}, headers=admin), 201)
        # DELETE /users/{username} is fuzzed on a user of its own: a fuzzed delete of quitter (or leaver) in one
        # phase made the stateful phase's revoke-sessions on quitter a 404 for a user it had just created
        _ok(client.post(f"{API}/users", json={"username": "goner", "password": PASSWORD}, headers=admin), 201)
        return {
            "admin_token": admin["Authorization"].split()[1], "leaver_token": _login(client, "leaver"),
            "quitter_token": _login(client, "quitter"),
            "node_auth": f"Node {node['node_id']}:{node['node_secret']}", "node_id": node["node_id"],
            "join_token": join, "device_id": added["device"]["id"], "task_id": added["task"]["id"],
            "grant_id": grant["id"],
        }


def _toml(value) -> str:
    """A TOML literal for str / list / dict (JSON strings are valid TOML basic strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def dictionaries(world: dict) -> dict[str, tuple[list, list[str]]]:
    """Values that exist (or are valid) on the server, and the parameters they are fed to."""
    return {
        "cluster": (["c1", "default"], ["path.cluster", "query.cluster"]),
        "node": (["n1", world["node_id"]], ["path.node", "query.node"]),
        "volume": (["v1"], ["path.volume"]),
        "device": ([world["device_id"]], ["path.device_id"]),
        "task": ([world["task_id"]], ["path.task_id"]),
        # not "admin": revoke-sessions and password on the admin would end the fuzzing session's token
        "username": (["u1", "leaver", "quitter"], ["path.username"]),
        "grant": ([world["grant_id"]], ["path.grant_id"]),
        "join_token": ([world["join_token"]], ["body.join_token"]),
        "node_id": ([world["node_id"]], ["body.node_id"]),
        "new_name": (["v2", "c2", "n2", "u2"], ["body.name", "body.username"]),
        "brick": (["n1:/exports/d1/b2", "n1:/exports/d1/b3"], ["body.bricks[*]"]),
        "device_path": (["/exports/d2"], ["body.path"]),
        "size": (["1GiB", "100MiB"], ["body.size"]),
        "role": (["viewer", "maintainer", "admin"], ["body.role"]),
        "scope": (["all", "cluster", "volume"], ["body.scope"]),
        "task_state": (["queued", "running", "done", "failed"], ["query.state"]),
        "option": (["performance.write-behind", "cluster.quorum-type"], ["query.name", "body.reset[*]"]),
    }


def write_config(path: Path, world: dict) -> None:
    # deterministic generation and one worker: the same requests in the same order on every run
    lines = [f"seed = {SEED}", "workers = 1", "continue-on-failure = true", "",
             "[generation]", f"max-examples = {MAX_EXAMPLES}", "deterministic = true", "database = \"none\"", "",
             "[checks]", "enabled = true",
             # a schema can't say which option names exist or which bricks form sets: the services
             # refuse such values with 422 (documented), so valid-looking data may get 422 too
             "positive_data_acceptance.expected-statuses = [\"2xx\", \"401\", \"403\", \"404\", \"409\", \"422\", \"429\"]",
             # a body over KADALU_MAX_REQUEST_BYTES is refused before it is parsed
             "negative_data_rejection.expected-statuses = [\"400\", \"401\", \"403\", \"404\", \"409\", \"413\", \"422\"]",
             "",
             "[headers]", f"Authorization = {_toml('Bearer ' + world['admin_token'])}", "",
             "[parameters]"]
    known = dictionaries(world)
    lines += [f"{json.dumps(key)} = {_toml({'dictionary': name, 'probability': 0.8})}"
              for name, (_values, keys) in known.items() for key in keys]
    for name, (values, _keys) in known.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {_toml(values)}"]
    for regex, auth in ((f"^{API}/agent/(metadata|heartbeat)$", world["node_auth"]),
                        (f"^{API}/auth/logout$", "Bearer " + world["leaver_token"]),
                        (f"^{API}/auth/revoke-sessions$", "Bearer " + world["quitter_token"])):
        lines += ["", "[[operations]]", f"include-path-regex = {_toml(regex)}", f"headers = {_toml({'Authorization': auth})}"]
    lines += ["", "[[operations]]", f"include-path-regex = {_toml(f'^{API}/users/[^/]+/revoke-sessions$')}",
              f"parameters = {_toml({'path.username': 'quitter'})}"]
    lines += ["", "[[operations]]", f"include-path-regex = {_toml(f'^{API}/users/[^/]+$')}", 'include-method = "DELETE"',
              f"parameters = {_toml({'path.username': 'goner'})}"]
    path.write_text("\n".join(lines) + "\n")


def run_schemathesis(url: str, config: Path, report_dir: Path) -> tuple[subprocess.CompletedProcess, dict]:
    argv = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json",
            "--checks", "all", "--report", os.environ.get("FUZZ_REPORTS", "json"), "--report-dir", str(report_dir),
            "--no-color", "--request-timeout", "30"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=report_dir)
    (report_dir / "output.txt").write_text(done.stdout + done.stderr)
    reports = list(report_dir.glob("*.json"))
    assert reports, f"schemathesis wrote no report:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done, json.loads(reports[0].read_text())


def test_whole_api_conforms_to_its_schema_under_fuzzing(pg_database, redis_client, tmp_path):
    empty_database(pg_database)
    with api_process(pg_database, tmp_path / "server") as server:
        world = make_world(server.url, pg_database)
        config = tmp_path / "schemathesis.toml"
        write_config(config, world)
        (tmp_path / "report").mkdir()
        done, report = run_schemathesis(server.url, config, tmp_path / "report")
        server_log = server.tail(60)
    ops, cases = report["operations"], report["test_cases"]
    print(f"schemathesis: {ops['tested']}/{ops['total']} operations, {cases['generated']} test cases, "
          f"{cases['with_failures']} with failures, {len(report['failures'])} kinds of failure, "
          f"{sum(e['count'] for e in report['errors'])} errors, {report['running_time']} s")
    summary = "\n".join(f"- {f['title']} ({f['count']}x): {', '.join(f['operations'])}" for f in report["failures"])
    if "too many clients" in server_log:
        summary += "\n(PostgreSQL refused connections: its max_connections is exhausted by other clients)"
    assert report["complete"] and not report["errors"] and not report["failures"] and done.returncode == 0, (
        f"{summary}\n\n{done.stdout[-20000:]}\n{done.stderr[-3000:]}\n--- server log\n{server_log}")
    assert ops["tested"] == ops["total"], ops
