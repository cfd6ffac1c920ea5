"""High availability on one machine, with real processes (docs/high-availability.md):

- PostgreSQL 15 primary + streaming-replication standby (initdb, pg_basebackup; run as the
  `postgres` user), reached through one multi-host URL with target_session_attrs=read-write;
- Redis master + replica watched by three redis-sentinel processes, reached through Celery's
  native sentinel:// URL and KADALU_BROKER_MASTER_NAME;
- two API replicas, two control workers and two heartbeat workers, one beat (kadalu-server
  api/worker/heartbeat-worker/beat).

`python -m tools.ha_local up DIR` starts it and prints the URLs; `down DIR` stops what it
started, by pid. tests/integration/test_ha.py drives the same class through failures."""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from controlplane import broker_users, embedded_redis
from controlplane.embedded_redis import free_port, wait_listening

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MASTER_NAME = "kadalu"
SECRET_KEY = "ha-demo-secret-key"
PY = sys.executable


def _run(argv: list[str], user: str | None = None, **kw) -> subprocess.CompletedProcess:
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def _stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _answers(url: str, timeout: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


class Postgres:
    """One PostgreSQL instance in a directory of its own, owned by `postgres` (it refuses root)."""

    def __init__(self, root: Path, name: str):
        self.dir, self.port = root / name, free_port()
        self.log = root / f"{name}.log"

    @property
    def pid(self) -> int | None:
        try:
            return int((self.dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def initdb(self) -> None:
        _run([str(PG_BIN / "initdb"), "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"], user="postgres")
        with open(self.dir / "postgresql.conf", "a") as f:
            f.write(self._conf())

    def basebackup_from(self, primary: "Postgres") -> None:
        _run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
              "-D", str(self.dir), "-R", "-X", "stream", "-c", "fast"], user="postgres")
        with open(self.dir / "postgresql.conf", "a") as f:
            f.write(self._conf())

    def _conf(self) -> str:
        return (f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nfsync = on\n")

    def start(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-w", "-t", "60", "start"], user="postgres")

    def promote(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-w", "-t", "60", "promote"], user="postgres")

    def kill(self) -> None:
        """The primary's machine dies: SIGKILL to the postmaster (its children exit with it)."""
        if self.pid:
            _stop_pid(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.pid and _pid_alive(self.pid):
            _stop_pid(self.pid, signal.SIGINT, timeout=20)  # fast shutdown


class HAStack:
    def __init__(self, root: Path, api_replicas: int = 2, workers: int = 2):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "logs").mkdir(exist_ok=True)
        # PostgreSQL runs as `postgres`: its directories live outside root's private temp dirs.
        self.pg_root = Path(tempfile.mkdtemp(prefix="kadalu-ha-pg-"))
        os.chmod(self.pg_root, 0o755)
        pg_uid = pwd.getpwnam("postgres")
        os.chown(self.pg_root, pg_uid.pw_uid, pg_uid.pw_gid)
        self.primary, self.standby = Postgres(self.pg_root, "primary"), Postgres(self.pg_root, "standby")
        self.redis_ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.api_ports = [free_port() for _ in range(api_replicas)]
        self.workers = workers
        self.procs: dict[str, subprocess.Popen] = {}
        self.redis_password = broker_users.controlplane_password(SECRET_KEY)
        self.extra_env: dict[str, str] = {}  # e.g. a brick port range of its own

    # URLs
    @property
    def database_url(self) -> str:
        hosts = "&".join(f"host=127.0.0.1:{pg.port}" for pg in (self.primary, self.standby))
        return f"postgresql+psycopg://postgres@/kadalu?{hosts}&target_session_attrs=read-write&connect_timeout=3"

    @property
    def broker_url(self) -> str:
        return ";".join(f"sentinel://{broker_users.CONTROLPLANE_USER}:{self.redis_password}@127.0.0.1:{p}"
                        for p in self.sentinel_ports) + "/0"

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.api_ports]

    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KADALU_")}
        return env | {
            "KADALU_STATE_DIR": str(self.root / "server" / name),
            "KADALU_DATABASE_URL": self.database_url,
            "KADALU_BROKER_URL": self.broker_url,
            "KADALU_BROKER_MASTER_NAME": MASTER_NAME,
            "KADALU_SECRET_KEY": SECRET_KEY,
            "KADALU_BROKER_SYNC_INTERVAL": "2",
            "KADALU_HEARTBEAT_INTERVAL": "1",
            "KADALU_NODE_TIMEOUT": "10",  # above a broker failover (a few seconds)
            "KADALU_REDISPATCH_AFTER": "5",
        } | self.extra_env

    # processes
    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.root / "logs" / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or self.env(name),
                                            cwd=Path(__file__).resolve().parents[1], start_new_session=True)
        return self.procs[name]

    def start_postgres(self) -> None:
        self.primary.initdb()
        self.primary.start()
        _run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres", "kadalu"])
        self.standby.basebackup_from(self.primary)
        self.standby.start()

    def start_redis(self) -> None:
        master, replica = self.redis_ports
        for i, port in enumerate(self.redis_ports):
            data = self.root / f"redis{i}"
            data.mkdir(exist_ok=True)
            embedded_redis.write_acl_file(data / "users.acl", broker_users.CONTROLPLANE_USER, self.redis_password)
            argv = embedded_redis.argv("redis-server", port, data, appendonly=True)
            if port == replica:
                argv += ["--replicaof", "127.0.0.1", str(master), "--masteruser", broker_users.CONTROLPLANE_USER,
                         "--masterauth", self.redis_password]
            self.spawn(f"redis{i}", argv)
            assert wait_listening("127.0.0.1", port, 10), f"redis-server on {port} did not start"
        for i, port in enumerate(self.sentinel_ports):
            data = self.root / f"sentinel{i}"
            data.mkdir(exist_ok=True)
            conf = data / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {data}\nlogfile {data / 'sentinel.log'}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n"
                f"sentinel auth-user {MASTER_NAME} {broker_users.CONTROLPLANE_USER}\n"
                f"sentinel auth-pass {MASTER_NAME} {self.redis_password}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 10000\n")
            os.chmod(conf, 0o600)
            self.spawn(f"sentinel{i}", [shutil.which("redis-sentinel") or "redis-sentinel", str(conf)])
            assert wait_listening("127.0.0.1", port, 10), f"redis-sentinel on {port} did not start"

    def start_controlplane(self) -> None:
        server = [PY, "-m", "controlplane.server_cli"]
        _run([*server, "migrate"], env=self.env("migrate"), cwd=Path(__file__).resolve().parents[1])
        for i, port in enumerate(self.api_ports):
            self.spawn(f"api{i + 1}", [*server, "api"], self.env(f"api{i + 1}") | {"KADALU_API_PORT": str(port)})
        for i in range(self.workers):
            self.spawn(f"worker{i + 1}", [*server, "worker"])
            self.spawn(f"heartbeats{i + 1}", [*server, "heartbeat-worker"])
        self.spawn("beat", [*server, "beat"])
        for url in self.api_urls:
            if not _answers(f"{url}/api/v1/health", 60):
                raise RuntimeError(f"API replica {url} did not start: {self.tails()}")

    def up(self) -> "HAStack":
        self.start_postgres()
        self.start_redis()
        self.start_controlplane()
        return self

    def redis_master_port(self) -> int:
        import redis

        answer = redis.Redis(host="127.0.0.1", port=self.sentinel_ports[0], socket_timeout=2).execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return int(answer[1])

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def tails(self, lines: int = 20) -> str:
        out = []
        for log in sorted((self.root / "logs").glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def down(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
        for pg in (self.standby, self.primary):
            pg.stop()
        shutil.rmtree(self.pg_root, ignore_errors=True)

    def describe(self) -> dict:
        return {"api": self.api_urls, "database_url": self.database_url,
                "broker_url": self.broker_url.replace(self.redis_password, "***"), "master_name": MASTER_NAME,
                "pids": {n: p.pid for n, p in self.procs.items()} | {"pg-primary": self.primary.pid,
                                                                      "pg-standby": self.standby.pid},
                "pg_dir": str(self.pg_root)}


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("up",):
        print("usage: python -m tools.ha_local up DIR   (Ctrl-C stops everything it started)", file=sys.stderr)
        sys.exit(2)
    stack = HAStack(Path(argv[1]).resolve())
    try:
        stack.up()
        print(json.dumps(stack.describe(), indent=2), flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stack.down()


if __name__ == "__main__":
    main(sys.argv[1:])
