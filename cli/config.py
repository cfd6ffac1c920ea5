"""The saved login (token file) and server URL resolution.

The token file is `~/.kadalu/token.json` (directory overridable with KADALU_CONFIG_DIR), mode 0600
in a 0700 directory, holding `{"url", "token", "username", "expires_at"}`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cli.errors import CliError

DEFAULT_URL = "http://127.0.0.1:8080"
CONFIG_DIR_ENV = "KADALU_CONFIG_DIR"
URL_ENV = "KADALU_URL"
TOKEN_FILE = "token.json"


@dataclass
class Session:
    url: str
    token: str
    username: str
    expires_at: str | None = None


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path.home() / ".kadalu"


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def normalize_url(url: str) -> str:
    return url.strip().rstrip("/")


def load_session() -> Session | None:
    """The saved login, or None when there is no token file."""
    path = token_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
        return Session(
            url=str(data["url"]),
            token=str(data["token"]),
            username=str(data.get("username") or ""),
            expires_at=data.get("expires_at"),
        )
    except (ValueError, KeyError, TypeError):
        raise CliError(
            f"the token file {path} is damaged: delete it or run `kadalu login` again"
        ) from None


def save_session(session: Session) -> Path:
    """Write the token file atomically with mode 0600 (directory 0700)."""
    directory = config_dir()
    if not directory.is_dir():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    path = directory / TOKEN_FILE
    tmp = directory / f".{TOKEN_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(session), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def delete_session() -> bool:
    """Remove the token file; True if there was one."""
    try:
        token_path().unlink()
    except FileNotFoundError:
        return False
    return True


def resolve_url(option: str | None, session: Session | None = None) -> str:
    """--url option, then KADALU_URL, then the URL saved at login, then the default."""
    if option:
        return normalize_url(option)
    env = os.environ.get(URL_ENV)
    if env:
        return normalize_url(env)
    if session is None:
        try:
            session = load_session()
        except CliError:
            session = None
    if session is not None and session.url:
        return normalize_url(session.url)
    return DEFAULT_URL
