"""The embedded broker: a private redis-server child on a free local port, data in the state dir.

It starts with an ACL file: the `default` user is off, the control plane has its own user and
password (derived from the server key), and node users are added by controlplane.broker_users
and saved into the same file."""
import hashlib
import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

SERVICE_PORTS = range(20000, 30000)  # below Linux's ephemeral range (32768-60999) and the brick ports


def free_port(host: str = "127.0.0.1") -> int:
    """A port to listen on, free now. Taken below the ephemeral range: a port the kernel hands out
    for bind(0) is also what outgoing connections get as their source port, so one of them (a
    mount, a brick's client) could take it before the listener starts."""
    for _ in range(100):
        port = random.choice(SERVICE_PORTS)
        if port in (24007, 24008):  # GlusterFS management ports
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def write_acl_file(path: Path, controlplane_user: str, controlplane_password: str) -> None:
    """The ACL file Redis starts with: nobody but the control plane; node users already saved in it
    (by ACL SAVE) are kept."""
    kept = []
    if path.exists():
        kept = [line for line in path.read_text().splitlines()
                if line.startswith("user ") and line.split()[1] not in ("default", controlplane_user)]
    digest = hashlib.sha256(controlplane_password.encode()).hexdigest()
    lines = ["user default off resetchannels -@all", f"user {controlplane_user} on #{digest} ~* &* +@all", *kept]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")


def argv(binary: str, port: int, data: Path, appendonly: bool = True) -> list[str]:
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "",
            "--appendonly", "yes" if appendonly else "no", "--protected-mode", "yes",
            "--aclfile", str(data / "users.acl"), "--logfile", str(data / "redis.log")]


def start(state_dir: Path, controlplane_user: str, controlplane_password: str,
          port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start the broker; returns the process and the control plane's URL (with its credentials)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `apt-get install -y redis-server`, or set KADALU_BROKER_URL")
    data = Path(state_dir) / "redis"
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    port = port or _saved_port(data)
    write_acl_file(data / "users.acl", controlplane_user, controlplane_password)
    proc = subprocess.Popen(argv(binary, port, data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_listening("127.0.0.1", port, 10):
        proc.terminate()
        raise RuntimeError(f"redis-server did not start on port {port}: see {data / 'redis.log'}")
    (data / "port").write_text(str(port))
    return proc, f"redis://{controlplane_user}:{controlplane_password}@127.0.0.1:{port}/0"


def _saved_port(data: Path) -> int:
    """The port of the last run, so running agents (told this URL at registration) reconnect."""
    try:
        port = int((data / "port").read_text())
    except (OSError, ValueError):
        return free_port()
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return free_port()  # taken by something else meanwhile: agents must re-register
    return port
