"""Checks on values that cross the control plane / agent boundary.

Both sides apply them: the server before it stores a value, the agent before a value reaches a
path, a volfile or a command line. Nothing here trusts its input."""
import ipaddress
import re
import uuid

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")
OPTION_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}$")
CREDENTIAL_RE = re.compile(r"^[A-Za-z0-9-]{0,64}$")
MAX_PATH = 4096
MAX_OPTION_VALUE = 4096


def is_uuid(value: object) -> bool:
    """A canonical UUID string (lower-case, hyphenated): safe as a file name and in a volfile."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def check_uuid(value: str, what: str = "id") -> str:
    if not is_uuid(value):
        raise ValueError(f"{what} {str(value)[:60]!r} is not a canonical UUID")
    return value


def check_name(value: str, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise ValueError(f"{what} {str(value)[:80]!r} is not 1-64 letters, digits, '_', '.', '-'")
    return value


def check_address(value: str) -> str:
    """An IP address or a DNS name; returned normalised."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if not isinstance(value, str) or not HOSTNAME_RE.fullmatch(value):
        raise ValueError(f"address {str(value)[:80]!r} is not an IP address or a DNS name")
    return value.lower()


def unsafe_chars(text: str) -> list[str]:
    """Whitespace, control characters and the volfile lexer's quote/escape characters in `text`."""
    return sorted({c for c in text if c.isspace() or not c.isprintable() or c in '"\\'})


def path_problem(path: str) -> str | None:
    """Why `path` is not a normalised absolute path safe for file names, volfiles and argv; None if it is."""
    if not isinstance(path, str) or not path.startswith("/"):
        return "is not an absolute path (give the full path, starting with '/')"
    if len(path) > MAX_PATH:
        return f"is longer than {MAX_PATH} characters"
    bad = unsafe_chars(path)
    if bad:
        return f"contains whitespace, control or quote characters ({', '.join(repr(c) for c in bad[:4])})"
    parts = path.split("/")
    if any(p in (".", "..") for p in parts):
        return "contains '.' or '..' (give the normalised absolute path)"
    if path != "/" + "/".join(p for p in parts if p):
        return "is not normalised (no '//' and no trailing '/')"
    if path == "/":
        return "is the root directory"
    return None


def check_path(value: str, what: str = "path") -> str:
    problem = path_problem(value)
    if problem:
        raise ValueError(f"{what} {str(value)[:120]!r} {problem}")
    return value


def under(path: str, root: str) -> bool:
    """`path` is `root` or inside it (both normalised absolute paths)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def check_option(name: str, value: str) -> None:
    if not isinstance(name, str) or not OPTION_NAME_RE.fullmatch(name):
        raise ValueError(f"option name {str(name)[:80]!r} is not lower-case letters, digits, '.', '_', '-'")
    if not isinstance(value, str) or len(value) > MAX_OPTION_VALUE:
        raise ValueError(f"option {name} has no value or one longer than {MAX_OPTION_VALUE} characters")
    if unsafe_chars(value):
        raise ValueError(f"option {name} value contains whitespace, control or quote characters")
