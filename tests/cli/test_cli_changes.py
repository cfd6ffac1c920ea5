"""Commands that change clusters, nodes and users."""

from __future__ import annotations

import httpx
import pytest

from tests.cli.cli_fakes import BASE_URL, body, make_cluster, make_user


def test_cluster_add_prints_join_token_and_agent_command(server, run, logged_in):
    route = server.on("POST", "/clusters",
                      {"cluster": make_cluster("prod", 0), "join_token": "jt-secret"}, status=201)

    result = run("cluster", "add", "prod")

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"name": "prod"}
    assert "Cluster prod created" in result.stdout
    assert "Join token: jt-secret" in result.stdout
    assert (f"KADALU_URL={BASE_URL} KADALU_JOIN_TOKEN=jt-secret kadalu-agent --name NODE"
            " --address ADDR --state-dir DIR") in result.stdout


def test_cluster_rotate_token(server, run, logged_in):
    server.on("POST", "/clusters/prod/join-token", {"join_token": "jt-new"})

    result = run("cluster", "rotate-token", "prod")

    assert result.exit_code == 0, result.output
    assert "jt-new" in result.stdout and "KADALU_JOIN_TOKEN=jt-new" in result.stdout


def test_cluster_delete_asks_and_stops_on_no(server, run, logged_in):
    result = run("cluster", "delete", "prod", input="n\n")

    assert result.exit_code == 1
    assert "Delete cluster prod?" in result.output
    assert server.requests == []


@pytest.mark.parametrize("args,answer", [(["--yes"], None), ([], "y\n")])
def test_cluster_delete_when_confirmed(server, run, logged_in, args, answer):
    route = server.on("DELETE", "/clusters/prod", status=204)

    result = run("cluster", "delete", "prod", *args, input=answer)

    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1
    assert "Cluster prod deleted." in result.stdout


def test_node_remove(server, run, logged_in):
    route = server.on("DELETE", "/clusters/prod/nodes/node1", status=204)

    result = run("node", "remove", "-c", "prod", "node1", "--yes")

    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1
    assert "Node node1 removed from cluster prod." in result.stdout


def test_node_allow_rejoin(server, run, logged_in):
    route = server.on("POST", "/clusters/prod/nodes/node1/allow-rejoin",
                      {"node": "node1", "allowed_until": "2026-12-01T16:00:00Z"})

    result = run("node", "allow-rejoin", "-c", "prod", "node1", "--minutes", "30")

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"minutes": 30}
    assert "may register again with the join token until 2026-12-01T16:00:00Z" in result.stdout


def test_node_allow_rejoin_all(server, run, logged_in):
    nodes = {"data": [{"name": "node1"}, {"name": "node2"}], "count": 2}
    server.on("GET", "/clusters/prod/nodes", nodes)
    one = server.on("POST", "/clusters/prod/nodes/node1/allow-rejoin", {"node": "node1", "allowed_until": "T1"})
    two = server.on("POST", "/clusters/prod/nodes/node2/allow-rejoin", {"node": "node2", "allowed_until": "T2"})

    result = run("node", "allow-rejoin", "-c", "prod", "--all")

    assert result.exit_code == 0, result.output
    assert len(one.calls) == len(two.calls) == 1
    assert "Node node2 may register again" in result.stdout
    assert run("node", "allow-rejoin", "-c", "prod").exit_code != 0  # neither a name nor --all


def test_user_add_prompts_for_password_twice(server, run, logged_in):
    route = server.on("POST", "/users", make_user("bob", grants=[]), status=201)

    result = run("user", "add", "bob", input="bob-pw-123\nbob-pw-123\n")

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"username": "bob", "password": "bob-pw-123"}
    assert "User bob created" in result.stdout


def test_user_remove(server, run, logged_in):
    route = server.on("DELETE", "/users/bob", status=204)

    result = run("user", "remove", "bob", "--yes")

    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1


GRANTS = [
    (["viewer"], {"role": "viewer", "scope": "all"}),
    (["maintainer", "-c", "prod"], {"role": "maintainer", "scope": "cluster", "cluster": "prod"}),
    (["admin", "--scope", "node", "-c", "prod", "--name", "n1"],
     {"role": "admin", "scope": "node", "cluster": "prod", "name": "n1"}),
    (["viewer", "--scope", "device", "-c", "prod", "--name", "n1:/data/b1"],
     {"role": "viewer", "scope": "device", "cluster": "prod", "name": "n1:/data/b1"}),
]


@pytest.mark.parametrize("args,expected", GRANTS, ids=[" ".join(g[0]) for g in GRANTS])
def test_user_grant_bodies(server, run, logged_in, args, expected):
    route = server.on("POST", "/users/bob/grants",
                      lambda req: httpx.Response(
                          201, json={"id": "g-9", "cluster": None, "name": None, **body(req)}))

    result = run("user", "grant", "bob", *args)

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == expected
    assert "grant id g-9" in result.stdout


@pytest.mark.parametrize("args", [
    ["viewer", "--scope", "node", "-c", "prod"],          # node scope needs --name
    ["viewer", "--scope", "cluster"],                     # cluster scope needs -c
    ["viewer", "--scope", "all", "-c", "prod"],           # all takes no cluster
])
def test_user_grant_refuses_incomplete_scopes(server, run, logged_in, args):
    result = run("user", "grant", "bob", *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --scope")
    assert server.requests == []


def test_user_grant_rejects_unknown_role(server, run, logged_in):
    result = run("user", "grant", "bob", "superuser")

    assert result.exit_code == 2
    assert server.requests == []


def test_user_revoke(server, run, logged_in):
    route = server.on("DELETE", "/users/bob/grants/g-2", status=204)

    result = run("user", "revoke", "bob", "g-2")

    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1
    assert "Revoked grant g-2 from bob." in result.stdout
