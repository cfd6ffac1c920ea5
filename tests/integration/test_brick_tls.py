"""TLS between clients and bricks with GlusterFS's own transport (volume options server.ssl,
client.ssl, ssl.own-cert, ssl.private-key, ssl.ca-list, auth.ssl-allow), as docs/volumes.md sets
it up: a CA made with the openssl CLI signs the bricks' and the clients' certificates; a client
with a CA-signed certificate whose name auth.ssl-allow lists reads and writes, anything else is
refused. Real glusterfsd bricks on 127.0.61.1-3, libgfapi clients (tests/gfapi_probe.py)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.test_brick_access import REFUSED_WAIT, Bricks, needs_bricks, refused, without_credentials
from volgen import client_volfile

pytestmark = pytest.mark.integration

ADDRESSES = ["127.0.61.1", "127.0.61.2", "127.0.61.3"]


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def make_pki(d: Path) -> None:
    """ca.pem/ca.key; node.pem/key (bricks), client1.pem/key and intruder.pem/key signed by the CA;
    rogue.pem/key: self-signed, with a name the bricks allow."""
    d.mkdir(mode=0o700)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=kadalu-test-ca", cwd=d)
    for name in ("node", "client1", "intruder"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem",
             "-days", "2", "-subj", "/CN=client1", cwd=d)


def tls_options(d: Path, cert: str) -> dict[str, str]:
    return {"server.ssl": "on", "client.ssl": "on", "ssl.own-cert": str(d / f"{cert}.pem"),
            "ssl.private-key": str(d / f"{cert}.key"), "ssl.ca-list": str(d / "ca.pem"), "auth.ssl-allow": "client1"}


@pytest.fixture
def tls_bricks(tmp_path):
    bed = Bricks(tmp_path, ADDRESSES)
    try:
        yield bed
    finally:
        bed.teardown()


@needs_bricks
@pytest.mark.skipif(not shutil.which("openssl"), reason="the openssl command makes the test CA")
def test_tls_client_with_a_ca_signed_allowed_certificate_is_served_and_others_are_refused(tls_bricks, tmp_path):
    pki = tmp_path / "pki"
    make_pki(pki)
    # Every machine keeps its own certificate at the same paths; here the bricks and the clients
    # share one host, so a client's volfile names its own files.
    spec = tls_bricks.volume("tlsvol", "distribute", 2, options=tls_options(pki, "node"))
    tls_bricks.start(spec)
    for brick in spec.bricks:
        assert "IO path is ENABLED" in \
            next(n for n in tls_bricks.nodes if n["id"] == brick.node_id)["layout"].brick_log(brick).read_text()

    def as_client(cert: str, **changes):
        options = {**spec.options, **tls_options(pki, cert), **changes}
        return client_volfile(spec.model_copy(update={"options": options}))

    ops = [["write", "/f", "over tls"], ["read", "/f"]]
    good = tls_bricks.gfapi(spec, as_client("client1"), ops)
    assert good["init"] == "OK" and good["results"] == ["OK", "OK"], good["log"][-3000:]
    assert good["data"]["/f"] == "over tls"
    # The certificate stands in for the password (GlusterFS's auth/login checks ssl-allow instead).
    certified = tls_bricks.gfapi(spec, client_volfile(without_credentials(spec).model_copy(
        update={"options": {**spec.options, **tls_options(pki, "client1")}})), [["read", "/f"]])
    assert certified["init"] == "OK" and certified["data"]["/f"] == "over tls", certified["log"][-3000:]

    def brick_logs() -> str:
        return "".join(n["layout"].brick_log(b).read_text() for b in spec.bricks for n in tls_bricks.nodes
                       if n["id"] == b.node_id)

    intruder = tls_bricks.gfapi(spec, as_client("intruder"), ops, init_timeout=REFUSED_WAIT)
    assert refused(intruder), intruder["log"][-3000:]  # TLS worked, then auth/login refused the name
    assert "Cannot authenticate client" in brick_logs()
    rogue = tls_bricks.gfapi(spec, as_client("rogue"), ops, init_timeout=REFUSED_WAIT)
    assert rogue["init"] != "OK" and "certificate verify failed" in brick_logs(), rogue["log"][-3000:]
    plain = tls_bricks.gfapi(spec, as_client("client1", **{"client.ssl": "off"}), ops, init_timeout=REFUSED_WAIT)
    assert plain["init"] != "OK" and "wrong version number" in brick_logs(), plain["log"][-3000:]
