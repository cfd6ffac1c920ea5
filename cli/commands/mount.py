"""kadalu mount / umount: FUSE-mount a volume on this machine with the glusterfs client.

The only edges to the system are `run_command` (runs an argv list, never through a shell) and
`read_proc_mounts` (the text of /proc/mounts); tests replace those two.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import deque
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli import config, options, volfile_relay
from cli.client import connect, seg
from cli.errors import CliError
from cli.output import err_console, exit_with_error, say, spinner, warn

LOG_DIR = "/var/log/glusterfs"
PROC_MOUNTS = "/proc/mounts"
FUSE_TYPE = "fuse.glusterfs"
MOUNT_TIMEOUT = 20.0  # seconds to wait for the mount to show up in /proc/mounts
MOUNT_POLL = 0.25
COMMAND_TIMEOUT = 60.0  # glusterfs daemonizes; its foreground part ends quickly
LOG_TAIL_LINES = 20
INSTALL_HINT = (
    "the `glusterfs` command was not found: install glusterfs-client"
    " (e.g. `apt install glusterfs-client` or `dnf install glusterfs-fuse`)"
)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def run_command(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run argv (no shell) and capture its output. Raises FileNotFoundError if argv[0] is
    missing and subprocess.TimeoutExpired on timeout."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


def read_proc_mounts() -> str:
    with open(PROC_MOUNTS, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes (\\040...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounted_type(mountpoint: str) -> str | None:
    """The filesystem type mounted at `mountpoint` (the last mount there), or None."""
    try:
        text = read_proc_mounts()
    except OSError:
        return None
    found = None
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and _unescape(fields[1]) == mountpoint:
            found = fields[2]
    return found


def _check_name(kind: str, value: str) -> None:
    # Names end up in file names: refuse anything that is not a plain kadalu name.
    if not SAFE_NAME.match(value):
        exit_with_error(
            f"invalid {kind} name {value!r}: use 1-64 characters of [A-Za-z0-9_.-],"
            " starting with a letter or digit", code=2)


def _ensure_private_dir(directory: Path) -> None:
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)


def save_volfile(cluster: str, volume: str, text: str) -> Path:
    """Write `<config dir>/volfiles/<cluster>.<volume>.vol` atomically with mode 0600."""
    base = config.config_dir()
    _ensure_private_dir(base)
    directory = base / "volfiles"
    _ensure_private_dir(directory)
    path = directory / f"{cluster}.{volume}.vol"
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CliError(f"cannot save the volfile to {path}: {exc.strerror or exc}") from None
    return path


def _writable_log(path: Path) -> bool:
    """Create (or keep) the log with mode 0600: glusterfs writes its volfile into it ("Final
    graph"), credentials included, and only appends to a file that already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def default_log_file(cluster: str, volume: str) -> Path:
    """/var/log/glusterfs/kadalu-<cluster>-<volume>.log, else the same name in the config dir."""
    name = f"kadalu-{cluster}-{volume}.log"
    preferred = Path(LOG_DIR) / name
    if _writable_log(preferred):
        return preferred
    fallback = config.config_dir() / name
    _ensure_private_dir(fallback.parent)
    return fallback


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip("\n")
    except OSError as exc:
        return f"(cannot read {path}: {exc.strerror or exc})"


def _print_log_tail(path: Path) -> None:
    err_console.print(f"Last lines of {path}:", markup=False, highlight=False)
    err_console.print(log_tail(path) or "(the log is empty)", markup=False, highlight=False,
                      soft_wrap=True)


def _wait_until_mounted(mountpoint: str) -> bool:
    deadline = time.monotonic() + MOUNT_TIMEOUT
    with spinner(f"Waiting for {mountpoint} to be mounted"):
        while True:
            if mounted_type(mountpoint) == FUSE_TYPE:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(MOUNT_POLL, remaining))


def _fail(target: str, log: Path | None, message: str) -> None:
    """A failed mount: stop its relay (if any), show the log's tail, exit with `message`."""
    volfile_relay.stop(target)
    if log is not None:
        _print_log_tail(log)
    exit_with_error(message)


def mount(
    volume: Annotated[str, typer.Argument(metavar="VOLUME", help="Volume name.",
                                          show_default=False)],
    mountpoint: Annotated[str, typer.Argument(
        metavar="MOUNTPOINT", help="Directory to mount on (created if missing).",
        show_default=False)],
    cluster: options.Cluster = "default",
    log_file: Annotated[Optional[str], typer.Option(
        "--log-file", help="glusterfs client log (default:"
        " /var/log/glusterfs/kadalu-CLUSTER-VOLUME.log, else in the config dir).",
        show_default=False)] = None,
    volfile_server_port: Annotated[int, typer.Option(
        "--volfile-server-port", help="Port of the node agents' volfile servers.")] = 24007,
    local_volfile: Annotated[bool, typer.Option(
        "--local-volfile", help="Mount from a volfile saved locally instead of the nodes' volfile"
        " servers (the mount then never follows expands or option changes).")] = False,
    url: options.Url = None,
) -> None:
    """Mount a volume with the GlusterFS FUSE client (as root). The client fetches its volfile from
    the node agents (up to three of the volume's nodes, through a relay that proves to them it runs
    as root) and follows changes (expand, client options) live; with --local-volfile it uses a copy
    saved from the API (needs the maintainer role on the volume)."""
    _check_name("cluster", cluster)
    _check_name("volume", volume)
    target = os.path.abspath(mountpoint)
    volfile_path = None
    with connect(url) as client:
        if local_volfile:
            volfile = client.get_text(f"/clusters/{seg(cluster)}/volumes/{seg(volume)}/volfile")
            volfile_path = save_volfile(cluster, volume, volfile)
        else:
            info = client.get(f"/clusters/{seg(cluster)}/volumes/{seg(volume)}")
            servers = list(dict.fromkeys(b["address"] for b in info.get("bricks", [])))[:3]
            if not servers:
                exit_with_error(f"volume {volume} has no bricks to mount from")
    try:
        os.makedirs(target, exist_ok=True)
    except OSError as exc:
        exit_with_error(f"cannot create the mount point {target}: {exc.strerror or exc}")
    target = os.path.realpath(target)
    current = mounted_type(target)
    if current is not None:
        exit_with_error(f"{target} is already a mount point ({current}); unmount it first"
                        f" with `kadalu umount {target}`")
    log = Path(log_file) if log_file else default_log_file(cluster, volume)
    if log_file and not _writable_log(log):
        exit_with_error(f"cannot write the log file {log}: choose another --log-file")
    relay_log = log.with_name(f"{log.stem}-relay.log")
    if volfile_path is not None:
        argv = ["glusterfs", "--process-name", "fuse", "-l", str(log), "--volfile-id", volume,
                "-f", str(volfile_path), target]
    else:
        # The nodes hand the volfile (it holds the volume's credentials) only to root, seen by a
        # privileged source port, which glusterfs's own management connection never has: it
        # talks to them through a relay (cli/volfile_relay.py) and still follows changes.
        try:
            relay = volfile_relay.start(target, servers, volfile_server_port, relay_log)
        except OSError as exc:
            exit_with_error(f"cannot mount {volume}: {exc}")
        # -s before --volfile-server-transport: glusterfs resets the transport when it reads -s.
        argv = ["glusterfs", "--process-name", "fuse", "-l", str(log), "-s", str(relay["socket"]),
                "--volfile-server-transport", "unix", "--volfile-id", volume, "-p", str(relay["client_pid"]),
                target]
    try:
        result = run_command(argv, COMMAND_TIMEOUT)
    except FileNotFoundError:
        _fail(target, None, INSTALL_HINT)
    except subprocess.TimeoutExpired:
        _fail(target, log, f"glusterfs did not return within {COMMAND_TIMEOUT:g}s while mounting {volume} on {target}")
    if result.returncode != 0:
        output = (result.stderr or result.stdout or "").strip()
        _fail(target, log, f"glusterfs exited with code {result.returncode} while mounting"
                           f" {volume} on {target}" + (f": {output}" if output else ""))
    if not _wait_until_mounted(target):
        _fail(target, log, f"{target} did not show up as a {FUSE_TYPE} mount within"
                           f" {MOUNT_TIMEOUT:g}s; see the log above ({log})")
    say(f"Mounted volume {volume} of cluster {cluster} on {target}.")
    say(f"Volfile: {volfile_path}" if volfile_path else f"Volfile from: {', '.join(servers)} (follows changes)")
    say(f"Log: {log}")


def umount(
    mountpoint: Annotated[str, typer.Argument(metavar="MOUNTPOINT", help="The mount point.",
                                              show_default=False)],
) -> None:
    """Unmount a volume (`umount MOUNTPOINT`, then `umount -l` if that fails)."""
    target = os.path.abspath(mountpoint)
    try:
        result = run_command(["umount", target], COMMAND_TIMEOUT)
        if result.returncode == 0:
            volfile_relay.stop(target)  # it would end by itself once glusterfs has gone
            say(f"Unmounted {target}.")
            return
        first = (result.stderr or result.stdout or "").strip()
        lazy = run_command(["umount", "-l", target], COMMAND_TIMEOUT)
    except FileNotFoundError:
        exit_with_error("the `umount` command was not found (install util-linux)")
    except subprocess.TimeoutExpired:
        exit_with_error(f"umount {target} did not return within {COMMAND_TIMEOUT:g}s")
    if lazy.returncode == 0:
        volfile_relay.stop(target)
        if first:
            warn(f"umount {target} failed ({first}); detached it lazily (umount -l)")
        say(f"Unmounted {target} (lazy: it is released once no process uses it).")
        return
    second = (lazy.stderr or lazy.stdout or "").strip()
    exit_with_error(f"cannot unmount {target}: {second or first or 'umount failed'}")
