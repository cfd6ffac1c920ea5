"""A real sshd (Debian openssh-server) on a loopback address for geo-replication tests: its own
host key and sshd_config, reading the keys the node's agent wrote; started and stopped by pid."""
import subprocess
from pathlib import Path

from controlplane.embedded_redis import free_port
from tests.integration.harness import Processes, wait_for, wait_listening

SSHD = "/usr/sbin/sshd"


def start_sshd(procs: Processes, root: Path, name: str, address: str, authorized_keys: Path, port: int | None = None) -> int:
    d = root / f"sshd-{name}"
    d.mkdir(parents=True, exist_ok=True)
    host_key = d / "host_ed25519"
    if not host_key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = port or free_port()
    config = d / "sshd_config"
    config.write_text(f"""ListenAddress {address}
Port {port}
HostKey {host_key}
PidFile {d / 'sshd.pid'}
AuthorizedKeysFile {authorized_keys}
PermitRootLogin forced-commands-only
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
""")
    procs.start(f"sshd-{name}", [SSHD, "-D", "-e", "-f", str(config)], {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert wait_listening(address, port, 10), f"sshd on {address}:{port} did not start"
    return port


__all__ = ["start_sshd", "wait_for"]
