"""A private PostgreSQL server for fault tests: its own data directory (initdb), its own port, started
and stopped by the pid in its postmaster.pid, so a test can restart it without touching the
machine's shared server. PostgreSQL refuses to run as root: it runs as the `postgres` user."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from controlplane.embedded_redis import free_port, wait_listening
from controlplane.migrate import upgrade

BIN = Path("/usr/lib/postgresql/15/bin")


def available() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return (BIN / "initdb").exists() and os.geteuid() == 0 and shutil.which("runuser") is not None


class PrivatePostgres:
    def __init__(self):
        # not under pytest's tmp_path: the postgres user cannot enter root's 0700 directories
        self.dir = Path(tempfile.mkdtemp(prefix="kadalu-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "postgres.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kadalu"
        user = pwd.getpwnam("postgres")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        os.chmod(self.dir, 0o700)

    def _as_postgres(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, text=True, **kw)

    def init(self) -> "PrivatePostgres":
        self._as_postgres([str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                           "-E", "UTF8"])
        self.start()
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE kadalu"))
        admin.dispose()
        upgrade(self.url)
        return self

    def start(self) -> None:
        argv = ["runuser", "-u", "postgres", "--", str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.dir), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]
        with open(self.log, "ab") as log:
            subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        assert wait_listening("127.0.0.1", self.port, 30), f"postgres did not start:\n{self.log.read_text()[-2000:]}"
        # accepting TCP is not accepting queries: wait for the end of its start-up
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            probe = subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_isready"), "-h", "127.0.0.1",
                                    "-p", str(self.port)], capture_output=True)
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("postgres did not accept connections")

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> None:
        """SIGINT: PostgreSQL's fast shutdown (clients disconnected, no recovery needed); SIGKILL: a crash."""
        pid = self.pid()
        if not pid:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        while wait_listening("127.0.0.1", self.port, 0.1) and time.monotonic() < deadline:
            time.sleep(0.05)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
