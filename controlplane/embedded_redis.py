"""The embedded broker: a private redis-server child on a free local port, data in the state dir."""
import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
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


def start(state_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: `apt-get install -y redis-server`, or set KADALU_BROKER_URL")
    data = Path(state_dir) / "redis"
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    port = port or _saved_port(data)
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "",
            "--appendonly", "yes", "--protected-mode", "yes", "--logfile", str(data / "redis.log")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_listening("127.0.0.1", port, 10):
        proc.terminate()
        raise RuntimeError(f"redis-server did not start on port {port}: see {data / 'redis.log'}")
    (data / "port").write_text(str(port))
    return proc, f"redis://127.0.0.1:{port}/0"


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
