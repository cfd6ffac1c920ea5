"""Name and path rules checked at the server (the CLI only parses)."""
import re

from contracts.checks import path_problem, unsafe_chars
from controlplane.services.errors import Invalid

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_PATH = 4096


def check_name(kind: str, name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        shown = name if len(name or "") <= 80 else name[:77] + "..."
        raise Invalid(
            f"invalid {kind} name {shown!r}: use 1-64 characters of letters, digits, '_', '.', '-', "
            "starting with a letter or digit (no spaces or slashes)"
        )
    return name


def check_abs_path(kind: str, path: str) -> str:
    if not path or not path.startswith("/"):
        raise Invalid(f"{kind} {path!r} is not an absolute path: give the full path, starting with '/'")
    if len(path) > MAX_PATH or "\x00" in path:
        raise Invalid(f"{kind} is too long or holds a NUL byte: give a path of at most {MAX_PATH} characters")
    bad = unsafe_chars(path)
    if bad:
        # a path reaches volfiles and command lines on the nodes: a newline there injects options
        raise Invalid(f"{kind} {path!r} contains whitespace, control or quote characters "
                      f"({', '.join(repr(c) for c in bad[:4])}): give a path without them")
    parts = path.split("/")
    if any(p in (".", "..") for p in parts):
        raise Invalid(f"{kind} {path!r} contains '.' or '..': give the normalised absolute path")
    normal = "/" + "/".join(p for p in parts if p)
    if normal == "/":
        raise Invalid(f"{kind} cannot be '/': give a directory below the root")
    problem = path_problem(normal)
    if problem:
        raise Invalid(f"{kind} {normal!r} {problem}")
    return normal
