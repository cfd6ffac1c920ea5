"""Our graphs against the real thing: a private glusterd 10.3 makes a volume of every type with and
without a set of options, and its brick, client and self-heal volfiles are compared with volgen's
for the same volume (same name, id, brick paths and credentials), translator by translator.

The glusterd runs in the foreground (-N) as a child of the test, on its own working, run and log
directories and its own loopback address and port, and is stopped by pid whatever happens; it
never starts a brick (volumes are created and set, never started: glusterd writes every volfile
at create and set). /var/lib/glusterd is checked untouched.

Every difference between the two is either fixed in volgen or listed in KNOWN_DIFFERENCES below
with its reason; an unlisted difference fails the test, and so does a listed one that went away."""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import optiontable
from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.rebalance_process import rebalance_volfile
from nodeagent.gluster.shared_bricks import shared_brick_count
from volgen import brick_volfile, client_volfile, shd_volfile

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("glusterd"),
                                reason="needs root and glusterd (glusterfs-server)")

ADDRESS = "127.0.77.1"  # the private glusterd's; no other test binds it
NODE_ID = "6f1c0d2e-0000-4000-8000-0000000000aa"
MISSING = "<absent>"

# (graph kind, xlator type, option key) -> (ours, glusterd's, why). A value of "*" matches any
# value (paths and ports that differ by construction); MISSING: the option is not there.
KNOWN_DIFFERENCES = {
    ("brick", "storage/posix", "glusterd-uuid"): (
        "*", MISSING, "glusterd passes the node uuid on glusterfsd's command line "
        "(--xlator-option *-posix.glusterd-uuid); kadalu writes it into the graph"),
    ("brick", "protocol/server", "transport.socket.listen-port"): (
        "*", MISSING, "glusterd hands out ports with its portmapper (--brick-port); kadalu's "
        "control plane assigns a fixed port per brick and clients connect to it directly"),
    ("brick", "protocol/server", "strict-auth-accept"): (
        "true", MISSING, "kadalu refuses clients without the volume's credentials (glusterd only for "
        "its shared-storage volume): see volgen.brick"),
    ("brick", "protocol/server", "auth.login.{path}.ssl-allow"): (
        "*", MISSING, "kadalu always writes the TLS name allow-list (glusterd only when auth.ssl-allow "
        "is set); `*` is GlusterFS's own default, so it changes nothing until server.ssl is on"),
    ("brick", "features/marker", "timestamp-file"): (
        "*", "*", "glusterd keeps it in its working directory (vols/<vol>/marker.tstamp); kadalu "
        "next to the brick (<brick>/.glusterfs/marker.tstamp): there is no glusterd directory"),
    ("client", "protocol/client", "remote-port"): (
        "*", MISSING, "clients connect straight to the brick's port (no glusterd portmapper to ask)"),
    ("shd", "protocol/client", "remote-port"): (
        "*", MISSING, "the self-heal daemon connects straight to the brick's port (no portmapper)"),
    ("rebalance", "protocol/client", "remote-port"): (
        "*", MISSING, "the rebalance process connects straight to the brick's port (no portmapper)"),
    ("client", "performance/readdir-ahead", "performance.readdir-ahead"): (
        MISSING, "on", "glusterd writes the volume option's own name onto parallel-readdir's "
        "readdir-ahead translators, a key readdir-ahead does not have (GlusterFS ignores it)"),
    ("rebalance", "performance/readdir-ahead", "performance.readdir-ahead"): (
        MISSING, "on", "the same in glusterd's rebalance graph"),
}

# Options set on the "-opt" variant of every volume, through glusterd's CLI and into our spec
# (values that both spell the same way: no sizes, which kadalu stores as byte counts).
COMMON_OPTIONS = {
    "features.read-only": "on",
    "features.cache-invalidation": "on",
    "network.ping-timeout": "10",
    "diagnostics.brick-log-level": "DEBUG",
    "diagnostics.client-log-level": "WARNING",
    "performance.readdir-ahead": "on",
    "performance.parallel-readdir": "on",
    "performance.stat-prefetch": "off",
    "performance.client-io-threads": "on",
    "performance.nl-cache": "on",
    "features.shard": "on",
    "features.ctime": "off",
    "auth.allow": "127.0.77.*",
    "server.event-threads": "4",
    "features.sdfs": "on",
    "network.compression": "on",
    "debug.trace": "locks",
    "transport.listen-backlog": "512",
}
REPLICATE_OPTIONS = {"cluster.quorum-type": "fixed", "cluster.quorum-count": "2",
                     "cluster.granular-entry-heal": "off", "cluster.self-heal-daemon": "off",
                     "cluster.shd-max-threads": "4"}
DISPERSE_OPTIONS = {"disperse.eager-lock": "off", "disperse.shd-max-threads": "4"}

# name -> (gluster volume create arguments after the name, our type and counts, number of bricks)
VOLUMES = {
    "single": ([], {"type": "distribute"}, 1),
    "dist": ([], {"type": "distribute"}, 2),
    "rep": (["replica", "3"], {"type": "replicate", "replica_count": 3}, 3),
    "rep2": (["replica", "2"], {"type": "replicate", "replica_count": 2}, 2),
    "arb": (["replica", "3", "arbiter", "1"], {"type": "arbiter", "replica_count": 3, "arbiter_count": 1}, 3),
    "ec": (["disperse", "3", "redundancy", "1"], {"type": "disperse", "disperse_count": 3, "redundancy_count": 1}, 3),
    "drep": (["replica", "3"], {"type": "replicate", "replica_count": 3}, 6),
    "dec": (["disperse", "3", "redundancy", "1"], {"type": "disperse", "disperse_count": 3, "redundancy_count": 1}, 6),
}


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _tree(path: Path) -> list[tuple[str, int, float]]:
    if not path.exists():
        return []
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime) for p in path.rglob("*"))


class Glusterd:
    def __init__(self, root: Path):
        self.root, self.work = root, root / "glusterd"
        self.sock = root / "gd.sock"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        for d in (self.work, self.root / "run", self.root / "log"):
            d.mkdir(parents=True)
        port = _free_port(ADDRESS)
        opts = {"working-directory": self.work, "transport.socket.bind-address": ADDRESS,
                "transport.socket.listen-port": port, "run-directory": self.root / "run",
                "glusterd-sockfile": self.sock, "logging-directory": self.root / "log"}
        argv = ["glusterd", "-N", f"--log-file={self.root / 'log' / 'glusterd.log'}",
                f"--pid-file={self.root / 'glusterd.pid'}"]
        for key, value in opts.items():
            argv += ["--xlator-option", f"management.{key}={value}"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"glusterd exited {self.proc.returncode}: see {self.root / 'log'}")
            if self.sock.exists() and self.cli("volume", "list", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("glusterd did not answer on its socket within 30 s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["gluster", f"--glusterd-sock={self.sock}", "--mode=script", *args],
                              capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"gluster {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def volfile(self, vol: str, name: str) -> str:
        return (self.work / "vols" / vol / name).read_text()

    def info(self, vol: str) -> dict[str, str]:
        lines = (self.work / "vols" / vol / "info").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="module")
def glusterd(tmp_path_factory):
    before = _tree(Path("/var/lib/glusterd"))
    gd = Glusterd(tmp_path_factory.mktemp("glusterd"))
    try:
        gd.start()
        yield gd
    finally:
        gd.stop()
        assert gd.proc is None or gd.proc.poll() is not None, "glusterd still running"
        assert _tree(Path("/var/lib/glusterd")) == before, "the private glusterd touched /var/lib/glusterd"


def _parse(text: str) -> list[tuple[str, str, dict[str, str], tuple[str, ...]]]:
    out, cur = [], None
    for line in text.splitlines():
        words = line.split(None, 2)
        if not words:
            continue
        if words[0] == "volume":
            cur = [words[1], "", {}, ()]
        elif words[0] == "type" and cur:
            cur[1] = words[1]
        elif words[0] == "option" and cur:
            cur[2][words[1]] = words[2] if len(words) > 2 else ""
        elif words[0] == "subvolumes" and cur:
            cur[3] = tuple(line.split()[1:])
        elif words[0] == "end-volume" and cur:
            out.append((cur[0], cur[1], cur[2], cur[3]))
            cur = None
    return out


def _differences(kind: str, ours: str, theirs: str, brick_path: str = "") -> list[str]:
    """Unexplained differences, and explained ones that did not happen (the table is stale)."""
    a, b = _parse(ours), _parse(theirs)
    problems = []
    if [(n, t, s) for n, t, _, s in a] != [(n, t, s) for n, t, _, s in b]:
        return [f"{kind}: translator stacks differ:\n ours   {[(n, t) for n, t, _, _ in a]}\n"
                f" glusterd {[(n, t) for n, t, _, _ in b]}"]
    for (name, type_, mine, _), (_, _, gds, _) in zip(a, b, strict=True):
        for key in sorted(set(mine) | set(gds)):
            ours_v, theirs_v = mine.get(key, MISSING), gds.get(key, MISSING)
            listed = KNOWN_DIFFERENCES.get((kind, type_, key.replace(brick_path, "{path}") if brick_path else key))
            if listed:
                want_ours, want_theirs, _ = listed
                if want_ours not in ("*", ours_v) or want_theirs not in ("*", theirs_v) or \
                        (want_ours == "*" and ours_v == MISSING) or (want_theirs == "*" and theirs_v == MISSING):
                    problems.append(f"{kind} {name} ({type_}) {key}: ours {ours_v}, glusterd {theirs_v}: "
                                    f"KNOWN_DIFFERENCES says ours {want_ours}, glusterd {want_theirs}")
            elif ours_v != theirs_v:
                problems.append(f"{kind} {name} ({type_}) option {key}: ours {ours_v}, glusterd {theirs_v}")
    return problems


def _our_spec(gd: Glusterd, vol: str, counts: dict, paths: list[str], options: dict[str, str]) -> VolumeSpec:
    info = gd.info(vol)
    return VolumeSpec(
        id=info["volume-id"], name=vol, **counts,
        options={k: optiontable.validate(k, v) for k, v in options.items()},
        auth_username=info["username"], auth_password=info["password"],
        bricks=[{"id": f"b0000000-0000-4000-8000-{i:012d}", "node_id": NODE_ID, "node_name": "n1",
                 "address": ADDRESS, "path": p, "port": 49152 + i} for i, p in enumerate(paths)])


def _options_for(counts: dict) -> dict[str, str]:
    extra = REPLICATE_OPTIONS if counts["type"] in ("replicate", "arbiter") else \
        DISPERSE_OPTIONS if counts["type"] == "disperse" else {}
    return {**COMMON_OPTIONS, **extra}


CASES = [(vol, variant) for vol in VOLUMES for variant in ("plain", "opt")]


@pytest.mark.parametrize("vol,variant", CASES, ids=[f"{v}-{w}" for v, w in CASES])
def test_volfiles_match_glusterd(glusterd, tmp_path, vol, variant):
    create_args, counts, n = VOLUMES[vol]
    name = f"{vol}{'' if variant == 'plain' else 'opt'}"
    paths = [str(tmp_path / f"b{i}") for i in range(n)]
    glusterd.cli("volume", "create", name, *create_args, *[f"{ADDRESS}:{p}" for p in paths], "force")
    options = _options_for(counts) if variant == "opt" else {}
    for key, value in options.items():
        glusterd.cli("volume", "set", name, key, value)
    for p in paths:  # our bricks' directories exist on the node before their volfile is written
        Path(p).mkdir(exist_ok=True)
    spec = _our_spec(glusterd, name, counts, paths, options)

    problems = []
    for brick in spec.bricks:
        theirs = glusterd.volfile(name, f"{name}.{ADDRESS}.{brick.path.strip('/').replace('/', '-')}.vol")
        ours = brick_volfile(spec, brick, NODE_ID, shared_brick_count(spec, brick))
        problems += _differences("brick", ours, theirs, brick.path)
    # The trusted client volfile: the one glusterd gives its own nodes' clients, with the credentials.
    problems += _differences("client", client_volfile(spec), glusterd.volfile(name, f"trusted-{name}.tcp-fuse.vol"))
    rebalance = glusterd.work / "vols" / name / f"{name}-rebalance.vol"
    if len(spec.sets()) > 1:  # glusterd writes it for volumes with several sets only
        problems += _differences("rebalance", rebalance_volfile(spec), rebalance.read_text())
    else:
        assert not rebalance.exists()
    if counts["type"] != "distribute":
        problems += _differences("shd", shd_volfile(spec), glusterd.volfile(name, f"{name}-shd.vol"))
    else:
        assert not (glusterd.work / "vols" / name / f"{name}-shd.vol").exists()
    assert not problems, "\n".join(problems)
