"""Geo-replication on one machine (tests/integration/test_georep_e2e.py, bench/georep.py): two
clusters in one control plane (master replica 3 on 127.0.50.1-3, remote distribute on
127.0.50.11-12) and a real sshd (Debian openssh-server) per remote node, with its own host key and
sshd_config reading the keys the node's agent wrote; every process started and stopped by pid."""
import hashlib
import os
import signal
import subprocess
from pathlib import Path

from controlplane.embedded_redis import free_port
from tests.integration.harness import Cluster, Processes, wait_for, wait_listening
from tests.integration.test_volumes_e2e import kadalu

MASTERS = {"m1": "127.0.50.1", "m2": "127.0.50.2", "m3": "127.0.50.3"}
REMOTES = {"r1": "127.0.50.11", "r2": "127.0.50.12"}

SSHD = "/usr/sbin/sshd"


def start_sshd(procs: Processes, root: Path, name: str, address: str, authorized_keys: str, port: int | None = None,
               root_login: str = "forced-commands-only") -> int:
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
PermitRootLogin {root_login}
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



def devices(cp: Cluster, cluster: str, nodes) -> None:
    tasks = []
    for node in nodes:
        path = cp.root / "exports" / node
        path.mkdir(parents=True, exist_ok=True)
        r = cp.api("POST", f"/clusters/{cluster}/nodes/{node}/devices", json={"path": str(path)})
        assert r.status_code == 202, r.text
        tasks.append(r.json()["task"]["id"])
    for task_id in tasks:
        assert cp.wait_task_done(task_id)["phase"] == "done", cp.task(task_id)


def two_clusters(cp: Cluster, extra_keys: str = "") -> int:
    """Agents, devices, sshd on the remote nodes, volume mv (master, replica 3) and rv (remote,
    distribute), both Started. `extra_keys`: another keys file sshd reads too (the bench's plain
    rsync). Returns the sshd port."""
    for cluster, nodes in (("master", MASTERS), ("remote", REMOTES)):
        token = cp.api("POST", "/clusters", json={"name": cluster}).json()["join_token"]
        for name, address in nodes.items():
            cp.start_agent(name, address, token)
        wait_for(lambda c=cluster, n=nodes: cp.node_states(c) == {k: "Online" for k in n}, 60, "agents Online",
                 cp.procs.tails)
    kadalu(cp, "login", "--username", "admin", "--password", "password-123")
    devices(cp, "master", MASTERS)
    devices(cp, "remote", REMOTES)
    port = free_port()
    for name, address in REMOTES.items():
        keys = f"{cp.root / 'agents' / name / 'georep' / 'authorized_keys' / '%u'} {extra_keys}".strip()
        start_sshd(cp.procs, cp.root, name, address, keys, port, "prohibit-password" if extra_keys else "forced-commands-only")
    kadalu(cp, "volume", "create", "-c", "master", "mv", "--replica", "3",
           *[f"{n}:{cp.root / 'exports' / n / 'mv'}" for n in MASTERS], "--wait")
    kadalu(cp, "volume", "create", "-c", "remote", "rv", *[f"{n}:{cp.root / 'exports' / n / 'rv'}" for n in REMOTES],
           "--wait")
    return port


def mount(cp: Cluster, cluster: str, volume: str, mounts: list) -> Path:
    mnt = cp.root / "mnt" / f"{cluster}-{volume}"
    kadalu(cp, "mount", "-c", cluster, volume, str(mnt), "--log-file", str(cp.root / f"mount-{cluster}-{volume}.log"))
    mounts.append(mnt)
    return mnt


def cleanup(cp: Cluster, mounts: list) -> None:
    """Unmount the test's mounts; stop gsyncd groups and lock mounts a failed run left (by their pid files).
    The agents stop first: one still running could start a monitor or mount a lock tmpfs again."""
    for name in [*MASTERS, *REMOTES]:
        cp.procs.stop(f"agent-{name}")
    for mnt in mounts:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
    for pidfile in sorted((cp.root / "agents").glob("*/georep/sessions/*/monitor.pid")):
        try:
            pid = int(pidfile.read_text().strip())
            if "gsyncd" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                group = os.getpgid(pid)
                os.killpg(group, signal.SIGCONT)
                os.killpg(group, signal.SIGKILL)
        except (OSError, ValueError):
            pass
    for mnt in sorted((cp.root / "agents").glob("*/georep/sessions/*/meta")):
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def tree(root: Path) -> dict[str, str]:
    """Every entry below root but gluster's own: a file's sha256, a symlink's target, or 'dir'."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in (".trashcan", ".glusterfs")]
        for d in dirnames:
            out[os.path.normpath(os.path.join(rel, d))] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            key = os.path.normpath(os.path.join(rel, f))
            if os.path.islink(p):
                out[key] = "-> " + os.readlink(p)
            else:
                with open(p, "rb") as fh:
                    out[key] = hashlib.sha256(fh.read()).hexdigest()
    return out
