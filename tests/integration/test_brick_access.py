"""Bricks enforce permissions and authenticate their clients (issue #7, finding 16), on real
glusterfsd bricks started from our volfiles, reached through libgfapi (what Samba and NFS-Ganesha
use; on a FUSE mount the kernel would check permissions, here only the bricks do).

Loopback addresses 127.0.60.1-3 play three nodes; 127.0.60.8/.9 are client addresses."""
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.bricks import prepare_brick
from nodeagent.gluster.processes import ProcessLayout, start_brick
from nodeagent.runner import Runner
from tests.gluster_testbed import spread_volume, unmount_and_stop
from volgen import client_volfile

pytestmark = pytest.mark.integration

ADDRESSES = ["127.0.60.1", "127.0.60.2", "127.0.60.3"]
ALLOWED_CLIENT, OTHER_CLIENT = "127.0.60.9", "127.0.60.8"
NOBODY = 65534
PROBE = (Path(__file__).parent.parent / "gfapi_probe.py").read_text()
SYSTEM_PYTHON = "/usr/bin/python3"  # readable by an unprivileged user, unlike a venv under /root
PROBE_TIMEOUT = 90
REFUSED_WAIT = 8.0  # a refused client hears AUTH_FAILED within milliseconds; a bound, not a timing claim


def _missing() -> str:
    if not (shutil.which("glusterfsd") and shutil.which("setpriv")):
        return "glusterfsd (glusterfs-server) and setpriv (util-linux) are needed"
    if os.geteuid() != 0:
        return "bricks (trusted.* xattrs) and dropping to another uid need root"
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} is needed to run the libgfapi probe as an unprivileged user"
    try:
        import ctypes
        ctypes.CDLL("libgfapi.so.0")
    except OSError:
        return "libgfapi.so.0 is missing (Debian: libgfapi0)"
    return ""


needs_bricks = pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")


class Bricks:
    """Three loopback "nodes"; remembers pid files and scratch dirs for teardown."""

    def __init__(self, root: Path, addresses: list[str] = ADDRESSES):
        self.root, self.runner, self.ports = root, Runner(), set()
        self.nodes = [{"id": str(uuid.uuid4()), "name": f"node{i + 1}", "address": a,
                       "layout": ProcessLayout(root / f"node{i + 1}" / "state")} for i, a in enumerate(addresses)]
        self.pidfiles: list[Path] = []
        self.scratch: list[str] = []

    def volume(self, name: str, type_: str, bricks: int, options: dict | None = None, **counts) -> VolumeSpec:
        return spread_volume(self.root, self.nodes, self.ports, name, type_, bricks, options=options or {},
                              auth_username=str(uuid.uuid4()), auth_password=str(uuid.uuid4()), **counts)

    def start(self, spec: VolumeSpec) -> None:
        for brick in spec.bricks:
            node = next(n for n in self.nodes if n["id"] == brick.node_id)
            os.makedirs(os.path.dirname(brick.path), exist_ok=True)
            prepare_brick(brick.path, spec.id)
            self.pidfiles.append(node["layout"].brick_pidfile(brick))
            start_brick(node["layout"], spec, brick, node["id"], self.runner)

    def gfapi(self, spec: VolumeSpec, volfile: str, ops: list, uid: int = 0, init_timeout: float = 30) -> dict:
        """Run the libgfapi probe as `uid` against `volfile`; its answer, with the client log."""
        scratch = tempfile.mkdtemp(prefix="kadalu-gfapi-")
        self.scratch.append(scratch)
        os.chown(scratch, uid, uid)
        log, probe = os.path.join(scratch, "gfapi.log"), os.path.join(scratch, "probe.py")
        Path(probe).write_text(PROBE)
        argv = [SYSTEM_PYTHON, probe]
        if uid:
            argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *argv]
        done = subprocess.run(argv, input=json.dumps({"volume": spec.name, "volfile": volfile, "ops": ops, "log": log,
                                                 "init_timeout": init_timeout}),
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT, cwd=scratch)
        text = Path(log).read_text() if os.path.exists(log) else ""
        assert done.returncode == 0, done.stderr + text[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        out["log"] = text
        return out

    def teardown(self) -> None:
        try:
            unmount_and_stop([], self.pidfiles, self.runner)
        finally:
            for d in self.scratch:
                shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bricks(tmp_path):
    bed = Bricks(tmp_path)
    try:
        yield bed
    finally:
        bed.teardown()


def without_credentials(spec: VolumeSpec) -> VolumeSpec:
    return spec.model_copy(update={"auth_username": "", "auth_password": ""})


def from_address(volfile: str, address: str) -> str:
    """The client volfile with every protocol/client bound to `address` (a client on another host)."""
    line = "    option transport-type tcp\n"
    assert line in volfile
    return volfile.replace(line, line + f"    option transport.socket.source-addr {address}\n")


def refused(out: dict) -> bool:
    """The bricks turned the client away: it never got a usable volume (libgfapi 10.3 waits in
    glfs_init after AUTH_FAILED; the probe gives up on it), and its log says why."""
    return out["init"] != "OK" and "AUTH_FAILED" in out["log"]


@needs_bricks
def test_an_unprivileged_libgfapi_client_gets_eacces_and_eperm_from_the_bricks(bricks):
    spec = bricks.volume("perm", "replicate", 3, replica_count=3)
    bricks.start(spec)
    volfile = client_volfile(spec)
    setup = bricks.gfapi(spec, volfile, [
        ["mkdir", "/private", "700"], ["write", "/secret", "root only"], ["chmod", "/secret", "600"],
        ["write", "/victim", "keep me"], ["write", "/mine", "root's mode"]])
    assert setup["init"] == "OK" and setup["results"] == ["OK"] * 5, setup

    attempts = [["truncate", "/secret"], ["read", "/secret"], ["creat", "/private/new"], ["unlink", "/victim"],
                ["chmod", "/mine", "777"], ["read", "/victim"]]
    nobody = bricks.gfapi(spec, volfile, attempts, uid=NOBODY)
    assert nobody["init"] == "OK", nobody["log"][-3000:]
    assert nobody["results"] == ["EACCES", "EACCES", "EACCES", "EACCES", "EPERM", "OK"], nobody
    assert nobody["data"]["/victim"] == "keep me"  # connected and served: only the forbidden calls failed
    for brick in spec.bricks:
        b = Path(brick.path)
        assert (b / "secret").read_text() == "root only" and (b / "victim").exists()
        assert not (b / "private" / "new").exists()
        assert oct((b / "mine").stat().st_mode & 0o777) == oct(0o644)

    root = bricks.gfapi(spec, volfile, attempts[:5])  # the same calls as root: the test can fail
    assert root["results"] == ["OK"] * 5, root
    for brick in spec.bricks:
        b = Path(brick.path)
        assert (b / "secret").stat().st_size == 0 and not (b / "victim").exists()
        assert (b / "private" / "new").exists() and (b / "mine").stat().st_mode & 0o777 == 0o777


@needs_bricks
def test_a_client_without_the_volume_credentials_is_refused(bricks):
    spec = bricks.volume("creds", "distribute", 2)
    bricks.start(spec)
    for brick in spec.bricks:  # the password is on the node only where root alone reads it
        node = next(n for n in bricks.nodes if n["id"] == brick.node_id)
        volfile = node["layout"].brick_volfile(spec, brick)
        assert spec.auth_password in volfile.read_text() and volfile.stat().st_mode & 0o077 == 0
    ops = [["write", "/f", "data"], ["read", "/f"]]
    good = bricks.gfapi(spec, client_volfile(spec), ops)
    assert good["init"] == "OK" and good["results"] == ["OK", "OK"], good

    for name, wrong in [("none", without_credentials(spec)),
                        ("wrong password", spec.model_copy(update={"auth_password": str(uuid.uuid4())})),
                        ("another volume's", spec.model_copy(update={"auth_username": str(uuid.uuid4())}))]:
        out = bricks.gfapi(spec, client_volfile(wrong), ops, init_timeout=REFUSED_WAIT)
        assert refused(out), (name, out["init"], out["log"][-3000:])
    brick_logs = "".join(n["layout"].brick_log(b).read_text() for b in spec.bricks for n in bricks.nodes
                         if n["id"] == b.node_id)
    assert "Cannot authenticate client" in brick_logs


@needs_bricks
def test_client_addresses_auth_reject_refuses_even_with_credentials_auth_allow_never_without(bricks):
    """GlusterFS's auth/addr answers "don't care" for an address outside auth.allow (only
    auth.reject answers "refuse"), and the password's accept then lets a client in: auth.allow on a
    brick refuses only clients without the credentials, which strict-auth-accept refuses anyway.
    So auth.allow is enforced where the credentials are handed out (the volfile server, see
    test_volfile_server.py), and auth.reject is the brick-side address block."""
    spec = bricks.volume("addr", "distribute", 1, options={"auth.allow": ALLOWED_CLIENT, "auth.reject": OTHER_CLIENT})
    bricks.start(spec)
    ops = [["write", "/f", "data"], ["read", "/f"]]
    allowed = bricks.gfapi(spec, from_address(client_volfile(spec), ALLOWED_CLIENT), ops)
    assert allowed["init"] == "OK" and allowed["results"] == ["OK", "OK"], allowed
    rejected = bricks.gfapi(spec, from_address(client_volfile(spec), OTHER_CLIENT), ops, init_timeout=REFUSED_WAIT)
    assert refused(rejected), rejected["log"][-3000:]
    no_creds = bricks.gfapi(spec, from_address(client_volfile(without_credentials(spec)), ALLOWED_CLIENT), ops,
                            init_timeout=REFUSED_WAIT)
    assert refused(no_creds), no_creds["log"][-3000:]
    elsewhere = bricks.gfapi(spec, from_address(client_volfile(spec), "127.0.60.7"), ops)
    assert elsewhere["init"] == "OK", "GlusterFS changed: auth.allow now refuses clients with credentials; update docs"
