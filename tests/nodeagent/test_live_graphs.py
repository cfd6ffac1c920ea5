"""How the agent decides to give a running daemon a new graph in place or to leave it for a restart
(nodeagent/live_graphs.py), and where a daemon reads its graph from (nodeagent/gluster/processes.py).
Real processes stand in for daemons: only their command line is read."""
import subprocess
import sys
from pathlib import Path

import pytest

from nodeagent.gluster.pids import cmdline, wait_for
from nodeagent.gluster.processes import ProcessLayout, graph_source, shd_argv
from nodeagent.live_graphs import apply, on_local_file
from nodeagent.local_volfiles import served_volfile_lookup, socket_path
from nodeagent.volfile_server import VolfileServer
from tests.nodeagent.agent_factory import agent
from tests.unit.volgen.samples import sample_spec

GRAPH = ("volume v-posix\n    type storage/posix\n{}end-volume\n\n"
         "volume v-server\n    type protocol/server\n    subvolumes v-posix\nend-volume\n")


def graph(option: str = "", server_type: str = "protocol/server") -> str:
    return GRAPH.format(f"    option {option}\n" if option else "").replace("protocol/server", server_type)


@pytest.fixture
def daemon():
    """A process whose command line says what a daemon's would: started from a volfile server or not."""
    procs = []

    def start(*args: str) -> int:
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *args])
        procs.append(p)
        assert wait_for(lambda: cmdline(p.pid)[-len(args):] == list(args), 10)  # exec'd
        return p.pid

    yield start
    for p in procs:
        p.kill()
        p.wait()


def test_apply_goes_live_only_for_a_daemon_on_the_volfile_server_and_the_same_shape(tmp_path, daemon):
    ctx = agent(tmp_path, (str(tmp_path),))
    volfile = tmp_path / "served.vol"
    assert apply(ctx, "k", volfile, graph(), None) == "written" and volfile.read_text() == graph()
    assert apply(ctx, "k", volfile, graph(), None) == "unchanged"
    live = daemon("-s", "/run/x.socket", "--volfile-server-transport", "unix", "--volfile-id", "k")
    assert apply(ctx, "k", volfile, graph("directory /b"), live) == "live"
    assert volfile.read_text() == graph("directory /b")
    # a translator of another type: the brick cannot build it live; the served graph stays
    assert apply(ctx, "k", volfile, graph("directory /b", "debug/trace"), live) == "restart"
    assert volfile.read_text() == graph("directory /b")
    # a daemon started from a local file never refetches: only a restart changes it
    legacy = daemon("--volfile-id", "k", "-f", str(volfile))
    assert apply(ctx, "k", volfile, graph("directory /c"), legacy) == "restart"
    assert volfile.read_text() == graph("directory /b")


def test_daemons_read_the_volfile_server_when_it_answers_else_the_last_served_file(tmp_path):
    state = tmp_path / "state"
    sock = str(tmp_path / "run" / "volfile.socket")
    layout = ProcessLayout(state, sock)
    volfile = layout.served_volfile("v.n1.b")
    assert graph_source(layout, "v.n1.b", volfile) == ["--volfile-id", "v.n1.b", "-f", str(volfile)]
    server = VolfileServer("", served_volfile_lookup(state), unix_path=sock)
    server.start()
    try:
        assert graph_source(layout, "v.n1.b", volfile) == ["-s", sock, "--volfile-server-transport", "unix",
                                                           "--volfile-id", "v.n1.b"]
    finally:
        server.stop()
    assert graph_source(ProcessLayout(state), "v.n1.b", volfile)[-2:] == ["-f", str(volfile)]


def test_a_daemon_on_a_local_file_is_moved_only_when_the_volfile_server_answers(tmp_path, daemon):
    state, sock = tmp_path / "state", str(tmp_path / "run" / "volfile.socket")
    legacy = daemon("--volfile-id", "k", "-f", str(tmp_path / "k.vol"))
    follower = daemon("-s", sock, "--volfile-server-transport", "unix", "--volfile-id", "k")
    assert not on_local_file(ProcessLayout(state, sock), legacy)  # nothing answers there: a restart gains nothing
    assert not on_local_file(ProcessLayout(state), legacy)
    server = VolfileServer("", served_volfile_lookup(state), unix_path=sock)
    server.start()
    try:
        assert on_local_file(ProcessLayout(state, sock), legacy)
        assert not on_local_file(ProcessLayout(state, sock), follower)
    finally:
        server.stop()


def test_self_heal_daemons_fetch_from_the_volfile_server_under_a_name_that_is_not_multiplexed(tmp_path):
    state, sock = tmp_path / "state", str(tmp_path / "run" / "volfile.socket")
    spec = sample_spec("v", "replicate", 3, replica_count=3)
    server = VolfileServer("", served_volfile_lookup(state), unix_path=sock)
    server.start()
    try:
        argv = shd_argv(ProcessLayout(state, sock), spec, "node-uuid")
    finally:
        server.stop()
    # glusterfs 10.3 treats "glustershd" as its multiplexed daemon, which needs glusterd's attach data
    assert argv[argv.index("--process-name") + 1] not in ("glustershd", "")
    assert argv[argv.index("-s") + 1] == sock and "-f" not in argv
    assert argv[argv.index("--volfile-id") + 1] == "shd/v"
    assert "*replicate*.node-uuid=node-uuid" in argv


def test_served_files_are_named_by_the_hash_of_their_key(tmp_path):
    layout = ProcessLayout(tmp_path)
    path = layout.served_volfile("../../etc/passwd")
    assert path.parent == tmp_path / "volfiles" / "served" and ".." not in path.name
    assert served_volfile_lookup(tmp_path)("../../etc/passwd", "local") is None


def test_socket_path_is_short_and_per_state_dir(tmp_path):
    a, b = socket_path(tmp_path / "a"), socket_path(tmp_path / "b")
    assert a != b and len(a) < 108 and Path(a).name == "volfile.socket"
