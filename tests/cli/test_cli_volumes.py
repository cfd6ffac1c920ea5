"""volume create/start/stop/delete/list/status/info, mount/umount and failurereport."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

import cli.commands.mount as mount_mod
from cli import volfile_relay
from tests.cli.cli_fakes import (
    VOLFILE,
    body,
    make_brick,
    make_failure,
    make_volume,
)

VOLUMES = "/clusters/default/volumes"
VOL1 = f"{VOLUMES}/vol1"


def created(state="Creating", **kwargs):
    return make_volume(state=state, health=None, **kwargs)


# --- create ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args,expected", [
    (["n1:/d/b", "n2:/d/b", "n3:/d/b", "--replica", "3"],
     {"bricks": ["n1:/d/b", "n2:/d/b", "n3:/d/b"], "replica": 3, "force": False, "start": True}),
    (["n1:/d/b", "n2:/d/b", "n3:/d/arb", "--replica", "3", "--arbiter", "1"],
     {"bricks": ["n1:/d/b", "n2:/d/b", "n3:/d/arb"], "replica": 3, "arbiter": 1,
      "force": False, "start": True}),
    (["n1:/d/b", "n2:/d/b", "n3:/d/b", "--disperse", "3", "--redundancy", "1"],
     {"bricks": ["n1:/d/b", "n2:/d/b", "n3:/d/b"], "disperse": 3, "redundancy": 1,
      "force": False, "start": True}),
    (["n1:/d/b1", "n1:/d/b2", "--force", "--no-start"],
     {"bricks": ["n1:/d/b1", "n1:/d/b2"], "force": True, "start": False}),
], ids=["replicate", "arbiter", "disperse", "distribute"])
def test_volume_create_body_shape(server, run, logged_in, args, expected):
    route = server.on("POST", VOLUMES, created(), status=202)

    result = run("volume", "create", "vol1", *args)

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {"name": "vol1", **expected}
    assert "Volume create request sent." in result.stdout
    assert "Volume vol1 is Creating." in result.stdout


def test_volume_create_brick_path_may_contain_colons(server, run, logged_in):
    route = server.on("POST", "/clusters/prod/volumes", created(), status=202)

    result = run("volume", "create", "-c", "prod", "vol1", "node1:/data/a:b")

    assert result.exit_code == 0, result.output
    assert body(route.calls[0])["bricks"] == ["node1:/data/a:b"]


@pytest.mark.parametrize("brick", ["node1", "node1:", ":/data/b1", ""])
def test_volume_create_bad_brick_is_a_usage_error(server, run, logged_in, brick):
    result = run("volume", "create", "vol1", "node2:/data/b1", brick)

    assert result.exit_code == 2
    assert "NODE:/PATH" in result.stderr
    assert server.requests == []


def test_volume_create_wait_until_started(server, run, logged_in):
    server.on("POST", VOLUMES, created(), status=202)
    poll = server.on("GET", VOL1, created("Creating"), created("Created"), created("Starting"),
                     make_volume(state="Started", health="Up"))

    result = run("volume", "create", "vol1", "n1:/d/b", "n2:/d/b", "n3:/d/b", "--replica", "3",
                 "--wait")

    assert result.exit_code == 0, result.output
    assert len(poll.calls) == 4  # Created is still in progress: a start was requested
    assert "Volume vol1 is Started (health Up)." in result.stdout


def test_volume_create_no_start_wait_ends_at_created(server, run, logged_in):
    server.on("POST", VOLUMES, created(), status=202)
    poll = server.on("GET", VOL1, created("Creating"), created("Created"), created("Starting"))

    result = run("volume", "create", "vol1", "n1:/d/b", "--no-start", "--wait")

    assert result.exit_code == 0, result.output
    assert len(poll.calls) == 2
    assert "Volume vol1 is Created." in result.stdout


def test_volume_create_wait_failure_prints_reason(server, run, logged_in):
    server.on("POST", VOLUMES, created(), status=202)
    server.on("GET", VOL1, created("Creating"), created(
        "CreateFailed", reason="node2: brick directory /d/b is not empty (use another path)"))

    result = run("volume", "create", "vol1", "n1:/d/b", "n2:/d/b", "--replica", "2", "--wait")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "volume vol1 is CreateFailed" in result.stderr
    assert "brick directory /d/b is not empty (use another path)" in result.stderr
    assert "kadalu failurereport -c default" in result.stderr


def test_volume_create_wait_timeout_names_unreachable_nodes(server, run, logged_in):
    server.on("POST", VOLUMES, created(), status=202)
    server.on("GET", VOL1, created("Creating", waiting_for=["node2"]))

    result = run("volume", "create", "vol1", "n1:/d/b", "--wait", "--timeout", "0")

    assert result.exit_code == 2
    assert "still Creating after 0s" in result.stderr
    assert "waiting for node(s) node2 (Unreachable)" in result.stderr


def test_volume_create_refusal_shows_server_detail(server, run, logged_in):
    server.on("POST", VOLUMES, {"detail": "brick n1:/d/b: node n1 is not in cluster default"},
              status=422)

    result = run("volume", "create", "vol1", "n1:/d/b")

    assert result.exit_code == 1
    assert "Error: brick n1:/d/b: node n1 is not in cluster default" in result.stderr


# --- start / stop / delete ------------------------------------------------------------------

@pytest.mark.parametrize("args,expected", [([], {"force": False}), (["--force"], {"force": True})])
def test_volume_start_body(server, run, logged_in, args, expected):
    route = server.on("POST", f"{VOL1}/start", make_volume(state="Starting", health=None),
                      status=202)

    result = run("volume", "start", "vol1", *args)

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == expected
    assert "Volume start request sent." in result.stdout


def test_volume_start_wait_failure(server, run, logged_in):
    server.on("POST", f"{VOL1}/start", make_volume(state="Starting", health=None), status=202)
    server.on("GET", VOL1, make_volume(state="StartFailed", health="Down",
                                       reason="brick node1:/data/b1 did not start"))

    result = run("volume", "start", "vol1", "--wait")

    assert result.exit_code == 1
    assert "brick node1:/data/b1 did not start" in result.stderr


def test_volume_stop_asks_first(server, run, logged_in):
    result = run("volume", "stop", "vol1", input="n\n")

    assert result.exit_code == 1
    assert "Stop volume vol1 of cluster default?" in result.output
    assert server.requests == []


def test_volume_stop_yes_wait(server, run, logged_in):
    route = server.on("POST", f"{VOL1}/stop", make_volume(state="Stopping", health=None),
                      status=202)
    server.on("GET", VOL1, make_volume(state="Stopping", health=None),
              make_volume(state="Stopped", health=None))

    result = run("volume", "stop", "vol1", "--yes", "--wait")

    assert result.exit_code == 0, result.output
    assert body(route.calls[0]) == {}
    assert "Volume stop request sent." in result.stdout
    assert "Volume vol1 is Stopped." in result.stdout


@pytest.mark.parametrize("args,purge", [([], "false"), (["--purge"], "true")])
def test_volume_delete_sends_purge_and_mentions_brick_data(server, run, logged_in, args, purge):
    route = server.on("DELETE", VOL1, make_volume(state="Deleting", health=None), status=202)

    result = run("volume", "delete", "vol1", "--yes", *args)

    assert result.exit_code == 0, result.output
    assert route.calls[0].url.params["purge"] == purge
    assert "Volume delete request sent." in result.stdout
    left = "The data is left on the bricks" in result.stdout
    assert left == (purge == "false")


def test_volume_delete_wait_until_404(server, run, logged_in):
    server.on("DELETE", VOL1, make_volume(state="Deleting", health=None), status=202)
    poll = server.on("GET", VOL1, make_volume(state="Deleting", health=None),
                     httpx.Response(404, json={"detail": "volume vol1 not found"}))

    result = run("volume", "delete", "vol1", "--yes", "--wait")

    assert result.exit_code == 0, result.output
    assert len(poll.calls) == 2
    assert "Volume vol1 deleted." in result.stdout


def test_volume_delete_wait_failure(server, run, logged_in):
    server.on("DELETE", VOL1, make_volume(state="Deleting", health=None), status=202)
    server.on("GET", VOL1, make_volume(state="DeleteFailed", health=None,
                                       reason="node3 could not remove the brick"))

    result = run("volume", "delete", "vol1", "--yes", "--wait")

    assert result.exit_code == 1
    assert "node3 could not remove the brick" in result.stderr


# --- list / status / info -------------------------------------------------------------------

def _bricks(n, per_set):
    return [make_brick(f"node{i % 3 + 1}", f"/data/b{i}", set_=i // per_set)
            for i in range(n)]


LIST = {"data": [
    make_volume("rep3"),
    make_volume("drep", bricks=_bricks(6, 3)),
    make_volume("ec", replica=0, disperse=3, redundancy=1, health="Degraded"),
    make_volume("arb", arbiter=1),
    make_volume("dist", replica=0, bricks=_bricks(2, 1), state="Stopped", health=None),
    make_volume("bad", state="CreateFailed", health=None, reason="x"),
], "count": 6}


def test_volume_list_renders_types(server, run, logged_in):
    server.on("GET", VOLUMES, LIST)

    result = run("volume", "list")

    assert result.exit_code == 0, result.output
    for header in ["Name", "Type", "State", "Health", "Bricks"]:
        assert header in result.stdout
    lines = result.stdout.splitlines()
    row = {name: next(line for line in lines if f" {name} " in line)
           for name in ("rep3", "drep", "ec", "arb", "dist", "bad")}
    assert "replicate 3" in row["rep3"] and "Up" in row["rep3"]
    assert "distributed-replicate 2x3" in row["drep"] and " 6 " in row["drep"]
    assert "disperse 3 (redundancy 1)" in row["ec"] and "Degraded" in row["ec"]
    assert "arbiter 2+1" in row["arb"]
    assert "distribute 2" in row["dist"] and "Stopped" in row["dist"]
    assert "CreateFailed" in row["bad"]


def test_volume_list_json_is_the_server_answer(server, run, logged_in):
    server.on("GET", VOLUMES, LIST)

    result = run("volume", "list", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == LIST


def test_volume_list_empty(server, run, logged_in):
    server.on("GET", "/clusters/prod/volumes", {"data": [], "count": 0})

    result = run("volume", "list", "-c", "prod")

    assert result.exit_code == 0, result.output
    assert "No volumes." in result.stdout


def test_volume_status_renders_bricks_and_health(server, run, logged_in):
    volume = make_volume(health="Degraded", reason="brick node2:/data/b1 is offline",
                         waiting_for=["node2"], bricks=[
                             make_brick("node1", "/data/b1", size=10 * 1024**3,
                                        free=4 * 1024**3),
                             make_brick("node2", "/data/b1", online=False, port=None, pid=None),
                             make_brick("node3", "/data/b1", port=49153, pid=777)])
    server.on("GET", VOL1, volume)

    result = run("volume", "status", "vol1")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "v-vol1" in out and "replicate 3" in out and "Started" in out
    assert "Degraded" in out
    assert "brick node2:/data/b1 is offline" in out
    assert "Waiting for" in out and "node2 (Unreachable)" in out
    for header in ["Set", "Node", "Path", "Port", "PID", "Online", "Used", "Free"]:
        assert header in out
    lines = [line for line in out.splitlines() if "/data/b1" in line]  # brick rows
    row1 = next(line for line in lines if " node1 " in line)
    row2 = next(line for line in lines if " node2 " in line)
    row3 = next(line for line in lines if " node3 " in line)
    assert "49152" in row1 and "4242" in row1 and "yes" in row1
    assert "6.0 GiB" in row1 and "4.0 GiB" in row1  # used = size - free
    assert " no " in row2
    assert "49153" in row3 and "777" in row3


def test_volume_status_health_is_coloured(server, run, logged_in, monkeypatch):
    from rich.console import Console

    import cli.output
    monkeypatch.setattr(cli.output, "console", Console(
        force_terminal=True, color_system="standard", width=200, highlight=False))
    import cli.commands.volume as volume_mod
    monkeypatch.setattr(volume_mod, "console", cli.output.console)
    server.on("GET", VOL1, make_volume(health="Down", state="StartFailed"))

    result = run("volume", "status", "vol1")

    assert result.exit_code == 0, result.output
    assert "\x1b[31mDown" in result.stdout


def test_volume_info_lists_bricks_and_arbiter(server, run, logged_in):
    server.on("GET", VOL1, make_volume(arbiter=1, bricks=_bricks(6, 3)))

    result = run("volume", "info", "vol1")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "distributed-arbiter 2x(2+1)" in out
    assert "Replica count" in out and "Brick count" in out
    assert "node1:/data/b0" in out and "node3:/data/b5" in out
    assert out.count("arbiter") >= 3  # the type plus the last brick of each set
    assert "Port" not in out and "PID" not in out


@pytest.mark.parametrize("cmd", ["status", "info"])
def test_volume_status_info_json(server, run, logged_in, cmd):
    volume = make_volume()
    server.on("GET", VOL1, volume)

    result = run("volume", cmd, "vol1", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == volume


def test_volume_status_not_found(server, run, logged_in):
    server.on("GET", VOL1, {"detail": "volume vol1 not found in cluster default"}, status=404)

    result = run("volume", "status", "vol1")

    assert result.exit_code == 1
    assert "Error: volume vol1 not found in cluster default" in result.stderr


# --- mount / umount -------------------------------------------------------------------------

class FakeSystem:
    """The edges of cli.commands.mount: running a command, reading /proc/mounts, and starting and
    stopping a mount's volfile relay (cli.volfile_relay.start/stop)."""

    def __init__(self, mounts_after_run: bool = True, returncode: int = 0) -> None:
        self.relays: list[tuple] = []
        self.relays_stopped: list[str] = []
        self.relay_error: OSError | None = None
        self.calls: list[list[str]] = []
        self.mounts = ""
        self.mounts_after_run = mounts_after_run
        self.returncode = returncode
        self.missing: set[str] = set()
        self.umount_codes: list[int] = []

    def run(self, argv, timeout):
        self.calls.append(list(argv))
        if argv[0] in self.missing:
            raise FileNotFoundError(argv[0])
        if argv[0] == "glusterfs":
            if self.mounts_after_run:
                self.mounts += f"vol1 {argv[-1]} fuse.glusterfs rw,relatime 0 0\n"
            return subprocess.CompletedProcess(argv, self.returncode, "", "")
        code = self.umount_codes.pop(0) if self.umount_codes else 0
        error = "umount: target is busy." if code else ""
        return subprocess.CompletedProcess(argv, code, "", error)

    def read(self):
        return "proc /proc proc rw 0 0\n" + self.mounts

    def start_relay(self, mountpoint, servers, port, log_file):
        if self.relay_error:
            raise self.relay_error
        self.relays.append((mountpoint, servers, port, log_file))
        return {"socket": Path("/run/kadalu/mounts/x/volfile.sock"), "client_pid": Path("/run/kadalu/mounts/x/glusterfs.pid")}

    def stop_relay(self, mountpoint):
        self.relays_stopped.append(mountpoint)


@pytest.fixture
def system(monkeypatch, tmp_path):
    fake = FakeSystem()
    monkeypatch.setattr(mount_mod, "run_command", fake.run)
    monkeypatch.setattr(volfile_relay, "start", fake.start_relay)
    monkeypatch.setattr(volfile_relay, "stop", fake.stop_relay)
    monkeypatch.setattr(mount_mod, "read_proc_mounts", fake.read)
    monkeypatch.setattr(mount_mod, "LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setattr(mount_mod, "MOUNT_TIMEOUT", 0.05)
    monkeypatch.setattr(mount_mod, "MOUNT_POLL", 0.01)
    return fake


def test_mount_fetches_from_the_volume_nodes_volfile_servers(server, run, logged_in, system, tmp_path):
    bricks = [make_brick(node="n1"), make_brick(node="n2"), make_brick(node="n1", path="/data/b2")]
    vol = make_volume(bricks=bricks)
    server.on("GET", "/clusters/prod/volumes/vol1", vol)
    target = tmp_path / "mnt" / "vol1"
    result = run("mount", "-c", "prod", "vol1", str(target))
    assert result.exit_code == 0, result.output
    log = tmp_path / "log" / "kadalu-prod-vol1.log"
    # Through the mount's relay, which reaches the volume's nodes from a privileged port.
    assert system.relays == [(str(target), ["10.0.0.1", "10.0.0.2"], 24007, tmp_path / "log" / "kadalu-prod-vol1-relay.log")]
    assert system.calls == [["glusterfs", "--process-name", "fuse", "-l", str(log),
                             "-s", "/run/kadalu/mounts/x/volfile.sock", "--volfile-server-transport", "unix",
                             "--volfile-id", "vol1", "-p", "/run/kadalu/mounts/x/glusterfs.pid", str(target)]]
    assert "follows changes" in result.stdout and system.relays_stopped == []


def test_mount_stops_its_relay_when_glusterfs_fails_and_reports_a_relay_that_cannot_start(
        server, run, logged_in, system, tmp_path):
    server.on("GET", "/clusters/prod/volumes/vol1", make_volume(bricks=[make_brick(node="n1")]))
    system.returncode, system.mounts_after_run = 1, False
    target = tmp_path / "mnt" / "vol1"
    result = run("mount", "-c", "prod", "vol1", str(target))
    assert result.exit_code == 1 and "glusterfs exited with code 1" in result.stderr
    assert system.relays_stopped == [str(target)]

    system.relay_error = PermissionError("`kadalu mount` must run as root: FUSE mounts need it")
    result = run("mount", "-c", "prod", "vol1", str(target))
    assert result.exit_code == 1 and "must run as root" in result.stderr
    assert len(system.calls) == 1  # glusterfs was not run again


def test_mount_local_volfile_saves_it_and_runs_glusterfs(server, run, logged_in, system, tmp_path,
                                                isolated_env):
    route = server.on("GET", "/clusters/prod/volumes/vol1/volfile",
                      httpx.Response(200, text=VOLFILE))
    target = tmp_path / "mnt" / "vol1"

    result = run("mount", "-c", "prod", "vol1", str(target), "--local-volfile")

    assert result.exit_code == 0, result.output
    assert len(route.calls) == 1
    volfile = isolated_env / "volfiles" / "prod.vol1.vol"
    assert volfile.read_text() == VOLFILE
    assert stat.S_IMODE(os.stat(volfile).st_mode) == 0o600
    assert target.is_dir()
    log = tmp_path / "log" / "kadalu-prod-vol1.log"
    assert system.calls == [["glusterfs", "--process-name", "fuse", "-l", str(log),
                             "--volfile-id", "vol1", "-f", str(volfile), str(target)]]
    assert f"Mounted volume vol1 of cluster prod on {target}." in result.stdout


def test_mount_log_falls_back_to_config_dir(server, run, logged_in, system, tmp_path,
                                            monkeypatch, isolated_env):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(mount_mod, "LOG_DIR", str(tmp_path / "file" / "log"))  # not writable
    server.on("GET", f"{VOL1}/volfile", httpx.Response(200, text=VOLFILE))

    result = run("mount", "vol1", str(tmp_path / "m"), "--local-volfile", "--log-file", str(tmp_path / "my.log"))
    assert result.exit_code == 0, result.output
    assert system.calls[-1][4] == str(tmp_path / "my.log")

    result = run("mount", "vol1", str(tmp_path / "m2"), "--local-volfile")
    assert result.exit_code == 0, result.output
    assert system.calls[-1][4] == str(isolated_env / "kadalu-default-vol1.log")


def test_mount_logs_are_private_glusterfs_writes_the_volfile_with_its_credentials_there(
        server, run, logged_in, system, tmp_path):
    server.on("GET", f"{VOL1}/volfile", httpx.Response(200, text=VOLFILE))
    mine = tmp_path / "mine.log"
    mine.write_text("older lines\n")
    os.chmod(mine, 0o644)
    assert run("mount", "vol1", str(tmp_path / "m"), "--local-volfile", "--log-file", str(mine)).exit_code == 0
    assert run("mount", "vol1", str(tmp_path / "m2"), "--local-volfile").exit_code == 0
    for log in (mine, tmp_path / "log" / "kadalu-default-vol1.log"):
        assert stat.S_IMODE(log.stat().st_mode) == 0o600, log
    assert mine.read_text() == "older lines\n"  # appended to, never truncated
    (tmp_path / "plain-file").write_text("")
    refused = run("mount", "vol1", str(tmp_path / "m3"), "--local-volfile", "--log-file",
                  str(tmp_path / "plain-file" / "x.log"))
    assert refused.exit_code == 1 and "cannot write the log file" in refused.stderr


def test_mount_failure_prints_log_tail(server, run, logged_in, system, tmp_path):
    system.mounts_after_run = False
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    lines = [f"[2025-01-01] line {i}" for i in range(30)]
    lines[-1] = "[2025-01-01] E [fuse-bridge.c] failed to connect to 10.0.0.1:24007"
    (log_dir / "kadalu-default-vol1.log").write_text("\n".join(lines) + "\n")
    server.on("GET", f"{VOL1}/volfile", httpx.Response(200, text=VOLFILE))

    result = run("mount", "vol1", str(tmp_path / "m"), "--local-volfile")

    assert result.exit_code == 1
    assert "failed to connect to 10.0.0.1:24007" in result.stderr
    assert "line 15" in result.stderr and "line 5\n" not in result.stderr
    assert "did not show up as a fuse.glusterfs mount" in result.stderr


def test_mount_glusterfs_exit_code(server, run, logged_in, system, tmp_path):
    system.returncode = 1
    system.mounts_after_run = False
    server.on("GET", f"{VOL1}/volfile", httpx.Response(200, text=VOLFILE))

    result = run("mount", "vol1", str(tmp_path / "m"), "--local-volfile")

    assert result.exit_code == 1
    assert "glusterfs exited with code 1" in result.stderr


def test_mount_without_glusterfs_says_what_to_install(server, run, logged_in, system, tmp_path):
    system.missing.add("glusterfs")
    server.on("GET", f"{VOL1}/volfile", httpx.Response(200, text=VOLFILE))

    result = run("mount", "vol1", str(tmp_path / "m"), "--local-volfile")

    assert result.exit_code == 1
    assert "install glusterfs-client" in result.stderr
    assert "Traceback" not in result.output


def test_mount_refuses_odd_names_before_any_request(server, run, logged_in, system, tmp_path):
    result = run("mount", "../etc", str(tmp_path / "m"))

    assert result.exit_code == 2
    assert server.requests == [] and system.calls == []


def test_umount_and_lazy_fallback(run, system, tmp_path):
    result = run("umount", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert system.calls == [["umount", str(tmp_path / "m")]]
    assert "Unmounted" in result.stdout

    system.calls.clear()
    system.umount_codes = [32, 0]
    result = run("umount", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert system.calls == [["umount", str(tmp_path / "m")], ["umount", "-l", str(tmp_path / "m")]]
    assert "lazy" in result.stdout

    system.umount_codes = [32, 32]
    result = run("umount", str(tmp_path / "m"))
    assert result.exit_code == 1
    assert "target is busy" in result.stderr
    assert system.relays_stopped == [str(tmp_path / "m")] * 2  # the mount's relay goes with it, not before


# --- failurereport --------------------------------------------------------------------------

def test_failurereport_renders_hints(server, run, logged_in):
    route = server.on("GET", "/failures", {"data": [
        make_failure(),
        make_failure(node="node3", kind="CREATE_BRICK", errno="ENODE_UNREACHABLE",
                     code="node_unreachable", message="node3 is Unreachable",
                     hint="start the kadalu agent on node3"),
    ], "count": 2})

    result = run("failurereport", "-c", "default", "--limit", "5")

    assert result.exit_code == 0, result.output
    assert dict(route.calls[0].url.params) == {"cluster": "default", "limit": "5"}
    out = result.stdout
    for header in ["When", "Volume", "Node", "Kind", "Errno", "Message", "How to fix"]:
        assert header in out
    assert " ENOENT " in out and "enoent" not in out and "START_BRICK" in out
    assert "brick directory /data/b1 does not exist" in out
    assert "create /data/b1 on node2" in out
    assert "ENODE_UNREACHABLE" in out and "start the kadalu agent on node3" in out


def test_failurereport_empty_and_json(server, run, logged_in):
    route = server.on("GET", "/failures", {"data": [], "count": 0})

    result = run("failurereport")
    assert result.exit_code == 0, result.output
    assert "No failures." in result.stdout
    assert dict(route.calls[0].url.params) == {}

    result = run("failurereport", "--json")
    assert json.loads(result.stdout) == {"data": [], "count": 0}


def test_volume_list_follows_the_cursor_through_every_page(server, run, logged_in):
    first = {"data": [make_volume(name="vol1")], "count": 1, "next_cursor": "after-vol1"}
    last = {"data": [make_volume(name="vol2")], "count": 1, "next_cursor": None}
    route = server.on("GET", "/clusters/prod/volumes", first, last)

    result = run("volume", "list", "-c", "prod", "--json")

    assert result.exit_code == 0, result.output
    assert [v["name"] for v in json.loads(result.stdout)["data"]] == ["vol1", "vol2"]
    assert [c.url.params.get("cursor") for c in route.calls] == [None, "after-vol1"]
    assert route.calls[0].url.params["limit"] == "1000"
