"""The server's state directory is made private at every start (issue #7 finding 14, requirement 8):
real `kadalu-server` processes started on a 0755 directory holding a 0644 database and key."""
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controlplane import state_dir
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def loose_state_dir(tmp_path: Path) -> Path:
    """A state directory as an older version, a restore or a careless operator leaves it."""
    d = tmp_path / "server"
    (d / "redis" / "appendonlydir").mkdir(parents=True)
    (d / "logs").mkdir()
    for name in ("kadalu.db", "kadalu.db-wal", "kadalu.db-shm", "secret.key", "flower.auth", "beat-schedule",
                 "redis/dump.rdb", "redis/appendonlydir/appendonly.aof.1.base.rdb", "logs/api.log"):
        (d / name).write_text("x" * 8 if name != "kadalu.db" else "")
        os.chmod(d / name, 0o644)
    (d / "secret.key").write_text("0" * 64)
    for sub in (d, d / "redis", d / "redis" / "appendonlydir", d / "logs"):
        os.chmod(sub, 0o755)
    return d


def env_for(d: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KADALU_")}
    return {**env, "KADALU_STATE_DIR": str(d), "PYTHONPATH": str(ROOT), **extra}


def server(*args: str) -> list[str]:
    return [sys.executable, "-m", "controlplane.server_cli", *args]


def assert_private(d: Path) -> None:
    assert mode(d) == 0o700
    for name in ("kadalu.db", "kadalu.db-wal", "kadalu.db-shm", "secret.key", "flower.auth", "beat-schedule",
                 "redis/dump.rdb", "redis/appendonlydir/appendonly.aof.1.base.rdb", "logs/api.log"):
        if (d / name).exists():
            assert mode(d / name) == 0o600, name
    for sub in ("redis", "redis/appendonlydir", "logs"):
        assert mode(d / sub) == 0o700, sub


def test_migrate_makes_the_state_dir_and_the_database_private(tmp_path):
    d = loose_state_dir(tmp_path)
    (d / "kadalu.db").unlink()  # migrate creates it: private from the start
    run = subprocess.run(server("migrate"), env=env_for(d), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (d / "kadalu.db").stat().st_size > 0
    assert_private(d)


def test_migrate_on_a_fresh_state_dir_creates_it_private(tmp_path):
    d = tmp_path / "new" / "server"
    run = subprocess.run(server("migrate"), env=env_for(d), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert mode(d) == 0o700 and mode(d / "kadalu.db") == 0o600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_start_makes_an_existing_world_readable_database_private(tmp_path):
    d = loose_state_dir(tmp_path)
    (d / "kadalu.db").unlink()
    assert subprocess.run(server("migrate"), env=env_for(d), cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    os.chmod(d, 0o755)
    os.chmod(d / "kadalu.db", 0o644)
    port = _free_port()
    proc = subprocess.Popen(server("api"), env=env_for(d, KADALU_API_PORT=str(port), KADALU_BROKER_URL=REDIS_URL),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, "kadalu-server api exited"
                time.sleep(0.2)
        else:
            pytest.fail("kadalu-server api did not listen")
        assert_private(d)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_only_the_servers_own_entries_are_touched(tmp_path):
    d = tmp_path / "server"
    d.mkdir()
    other = d / "notes.txt"
    other.write_text("mine")
    os.chmod(other, 0o644)
    target = tmp_path / "elsewhere"
    target.write_text("x")
    os.chmod(target, 0o644)
    (d / "secret.key").symlink_to(target)  # never followed
    state_dir.secure(d)
    assert mode(d) == 0o700 and mode(other) == 0o644 and mode(target) == 0o644


def test_a_sqlite_database_outside_the_state_dir_is_made_private_too(tmp_path):
    db = tmp_path / "db" / "k.db"
    db.parent.mkdir()
    for name in ("k.db", "k.db-wal", "k.db-shm"):
        (db.parent / name).write_text("")
        os.chmod(db.parent / name, 0o644)
    state_dir.secure(tmp_path / "server", f"sqlite:///{db}")
    assert {p.name: mode(p) for p in db.parent.iterdir()} == {"k.db": 0o600, "k.db-wal": 0o600, "k.db-shm": 0o600}
    assert state_dir.sqlite_file("postgresql+psycopg://u@h/db") is None
