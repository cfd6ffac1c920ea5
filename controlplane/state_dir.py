"""The server's state directory is private to the server's user: it holds the SQLite database
(password and token hashes, volume client credentials), the secret key every node secret derives
from, Flower's password and the embedded broker's data. Made so at every start of every server
process, whatever modes an older version, a restore or an operator left behind (a 0755 directory
with a 0644 database stays readable by every local user otherwise).

Only the entries the server itself keeps there are touched (the state directory may be set to a
directory that holds other things too)."""
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
UMASK = 0o077  # what a server process and its children create afterwards is private too

# Top-level files of the state directory (fnmatch-free: exact names and name prefixes).
FILES = ("kadalu.db", "secret.key", "flower.auth")
PREFIXES = ("kadalu.db-", "beat-schedule")  # SQLite's -wal/-shm/-journal; beat's shelve files
TREES = ("redis", "logs")  # the embedded broker's data, the `up` children's logs: ours throughout


def _chmod(path: Path, dir_mode: int, file_mode: int) -> None:
    """Regular files and directories only; a symlink is left alone (never followed)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if stat.S_IMODE(st.st_mode) != dir_mode:
            os.chmod(path, dir_mode)
    elif stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != file_mode:
        os.chmod(path, file_mode)


def _tree(root: Path) -> None:
    if not root.is_dir() or root.is_symlink():
        return
    _chmod(root, PRIVATE_DIR, PRIVATE_FILE)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in [*dirnames, *filenames]:
            _chmod(Path(dirpath) / name, PRIVATE_DIR, PRIVATE_FILE)


def sqlite_file(database_url: str | None) -> Path | None:
    """The database file of a SQLite URL (sqlite:///relative or sqlite:////absolute), else None."""
    if not database_url or not database_url.startswith("sqlite:///"):
        return None
    path = database_url[len("sqlite:///"):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def secure(state_dir: Path, database_url: str | None = None) -> None:
    """Create the state directory if needed; make it 0700 and what the server keeps in it private.
    A SQLite database kept elsewhere (KADALU_DATABASE_URL) has its files made 0600 too."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _chmod(state_dir, PRIVATE_DIR, PRIVATE_FILE)
    for entry in state_dir.iterdir():
        if entry.name in FILES or entry.name.startswith(PREFIXES):
            _chmod(entry, PRIVATE_DIR, PRIVATE_FILE)
        elif entry.name in TREES:
            _tree(entry)
    db = sqlite_file(database_url)
    if db is not None and db.parent.is_dir():
        for entry in db.parent.iterdir():
            if entry.name == db.name or entry.name.startswith(db.name + "-"):
                _chmod(entry, PRIVATE_DIR, PRIVATE_FILE)


def start_private(state_dir: Path, database_url: str | None = None) -> None:
    """At the start of a server process: private umask for this process and its children, then
    `secure()`."""
    os.umask(UMASK)
    secure(state_dir, database_url)
