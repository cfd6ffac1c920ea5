"""The quota daemon (glusterfs --process-name quotad) of this node, from a volfile we generate
(volgen.quotad) for the volumes with quota on that have a brick here and run.

Bricks' features/quota ask it for a directory's size summed over the whole volume, over the unix
socket /var/run/gluster/quotad.socket: a path GlusterFS 10.3 compiles in (volgen.quotad). So one
quotad serves a machine. Where several agents share a machine (tests on 127.0.x.y addresses), the
first one's daemon holds the socket and the others find it served and start none; every daemon of a
volume serves the same sizes (its graph is the whole volume), so any of them answers the bricks."""
import logging
from pathlib import Path

from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.diagnose import failure, log_size
from nodeagent.gluster.pids import running_pid, stop_pid
from nodeagent.gluster.processes import unix_socket_answers, write_atomic
from nodeagent.runner import Runner
from volgen.quotad import QUOTAD_SOCKET, quotad_volfile

log = logging.getLogger(__name__)


def paths(state_dir: Path) -> tuple[Path, Path, Path]:
    """(volfile, pid file, log) of this agent's quota daemon."""
    root = Path(state_dir)
    return root / "volfiles" / "quotad.vol", root / "run" / "quotad.pid", root / "logs" / "quotad.log"


def argv(volfile: Path, pidfile: Path, logfile: Path) -> list[str]:
    # as glusterd's quotad service starts it: its replicate graphs never heal (glusterd-quotad-svc.c)
    return ["glusterfs", "--process-name", "quotad", "--volfile-id", "gluster/quotad", "-f", str(volfile),
            "-p", str(pidfile), "-l", str(logfile),
            "--xlator-option", "*replicate*.data-self-heal=off",
            "--xlator-option", "*replicate*.metadata-self-heal=off",
            "--xlator-option", "*replicate*.entry-self-heal=off"]


def sync(state_dir: Path, specs: list[VolumeSpec], runner: Runner, socket_path: str = QUOTAD_SOCKET,
         timeout: float = 20.0) -> str:
    """Make this node's quota daemon serve `specs` (none: stop it). Returns what was done:
    "stopped", "absent", "unchanged", "started", "restarted" or "served-elsewhere"."""
    volfile, pidfile, logfile = paths(state_dir)
    pid = running_pid(pidfile, "glusterfs")
    if not specs:
        if pid:
            stop_pid(pidfile)
            volfile.unlink(missing_ok=True)
            return "stopped"
        return "absent"
    text = quotad_volfile(specs)
    old = volfile.read_text() if volfile.exists() else None
    if pid and old == text:
        return "unchanged"
    how = "started"
    if pid:
        stop_pid(pidfile)  # started from a local file: a new graph needs a restart (no client waits on it)
        how = "restarted"
    elif unix_socket_answers(socket_path):
        return "served-elsewhere"
    write_atomic(volfile, text)
    Path(socket_path).parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.unlink(missing_ok=True)
    offset = log_size(logfile)
    done = runner.run(argv(volfile, pidfile, logfile), timeout=timeout)
    if done.returncode != 0 or running_pid(pidfile, "glusterfs") is None:
        stop_pid(pidfile)
        raise failure("quota daemon", logfile, offset, f"glusterfs exited with {done.returncode}: {done.stderr.strip()}")
    log.info("quota daemon %s for volumes %s", how, ", ".join(s.name for s in specs))
    return how


def stop(state_dir: Path) -> bool:
    return stop_pid(paths(state_dir)[1])
