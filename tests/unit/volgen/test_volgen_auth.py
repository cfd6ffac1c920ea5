"""Who may use a brick: permission checks in every brick graph, client credentials on both ends,
client addresses and TLS from the volume's options (issue #7, finding 16)."""
import pytest

from nodeagent.gluster.rebalance_process import rebalance_volfile
from tests.unit.volgen.samples import CASES, sample_spec
from volgen import brick_volfile, client_volfile, shd_volfile


def _blocks(text: str) -> dict[str, dict]:
    """{xlator name: {"type": ..., "options": {key: value}}}"""
    out, name = {}, None
    for line in text.splitlines():
        words = line.split()
        if line.startswith("volume "):
            name = line.split(" ", 1)[1]
            out[name] = {"type": None, "options": {}}
        elif words[:1] == ["type"]:
            out[name]["type"] = words[1]
        elif words[:1] == ["option"]:
            out[name]["options"][words[1]] = " ".join(words[2:])
    return out


def _of_type(text: str, type_: str) -> list[dict]:
    return [b["options"] for b in _blocks(text).values() if b["type"] == type_]


def _server(spec, i=0) -> dict:
    return _of_type(brick_volfile(spec, spec.bricks[i], "u"), "protocol/server")[0]


@pytest.mark.parametrize("case", CASES)
def test_every_brick_checks_permissions_right_under_locks(case):
    spec = CASES[case]
    for brick in spec.bricks:
        text = brick_volfile(spec, brick, "u")
        blocks = list(_blocks(text).values())
        types = [b["type"] for b in blocks]
        acl = types.index("features/access-control")
        assert types[acl + 1] == "features/locks"
        assert types[acl - 1] == "features/bitrot-stub"  # glusterd's place for it
        assert spec.options.get("features.acl") is None  # (features.acl off is not honoured, volgen.shape)
    off = spec.model_copy(update={"options": {**spec.options, "features.acl": "off"}})
    assert "features/access-control" in [b["type"] for b in _blocks(brick_volfile(off, off.bricks[0], "u")).values()]


@pytest.mark.parametrize("case", CASES)
def test_bricks_demand_the_volume_credentials(case):
    spec = CASES[case]
    user, password = spec.auth_username, spec.auth_password
    for i, brick in enumerate(spec.bricks):
        server = _server(spec, i)
        assert server[f"auth.login.{brick.path}.allow"] == user
        assert server[f"auth.login.{user}.password"] == password
        assert server["strict-auth-accept"] == "true"


@pytest.mark.parametrize("case", CASES)
def test_every_client_of_the_volume_carries_the_credentials(case):
    spec = CASES[case]
    graphs = {"client": client_volfile(spec)}
    if spec.type != "distribute":
        graphs["shd"] = shd_volfile(spec)
    if len(spec.sets()) > 1:
        graphs["rebalance"] = rebalance_volfile(spec)
    for kind, text in graphs.items():
        clients = _of_type(text, "protocol/client")
        assert len(clients) == len(spec.bricks), kind
        for opts in clients:
            assert (opts["username"], opts["password"]) == (spec.auth_username, spec.auth_password), kind


def test_a_spec_without_credentials_gets_no_login_options():
    spec = CASES["replicate3"].model_copy(update={"auth_username": "", "auth_password": ""})
    server = _server(spec)
    assert not [k for k in server if k.startswith("auth.login.") and not k.endswith(".ssl-allow")]
    assert "strict-auth-accept" not in server
    assert "username" not in client_volfile(spec) and "password" not in client_volfile(spec)


def test_auth_allow_and_reject_restrict_client_addresses_on_every_brick():
    spec = sample_spec("r", "replicate", 3, replica_count=3,
                       options={"auth.allow": "10.0.0.*,192.168.1.5", "auth.reject": "10.0.0.9"})
    for i, brick in enumerate(spec.bricks):
        server = _server(spec, i)
        assert server[f"auth.addr.{brick.path}.allow"] == "10.0.0.*,192.168.1.5"
        assert server[f"auth.addr.{brick.path}.reject"] == "10.0.0.9"
        assert server["strict-auth-accept"] == "true"  # an allowed address still needs the password
    assert _server(CASES["replicate3"])[f"auth.addr.{CASES['replicate3'].bricks[0].path}.allow"] == "*"


def test_tls_options_reach_bricks_clients_self_heal_and_rebalance():
    spec = sample_spec("t", "replicate", 6, replica_count=3, options={
        "server.ssl": "on", "client.ssl": "on", "ssl.own-cert": "/k/own.pem", "ssl.private-key": "/k/own.key",
        "ssl.ca-list": "/k/ca.pem"})
    certs = {"transport.socket.ssl-own-cert": "/k/own.pem", "transport.socket.ssl-private-key": "/k/own.key",
             "transport.socket.ssl-ca-list": "/k/ca.pem"}
    server = _server(spec)
    assert server["transport.socket.ssl-enabled"] == "on" and certs.items() <= server.items()
    for text in (client_volfile(spec), shd_volfile(spec), rebalance_volfile(spec)):
        for opts in _of_type(text, "protocol/client"):
            assert opts["transport.socket.ssl-enabled"] == "on" and certs.items() <= opts.items()
