"""Which file system holds a path: the mount (from /proc/self/mountinfo) whose mount point is the
longest prefix of it, with its type and source device."""
import os
from dataclasses import dataclass

MOUNTINFO = "/proc/self/mountinfo"


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str
    source: str


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse(text: str) -> list[Mount]:
    out = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        out.append(Mount(point=_unescape(fields[4]), fstype=tail[0], source=_unescape(tail[1])))
    return out


def mount_of(path: str, text: str | None = None) -> Mount | None:
    """The mount holding the real path `path` (the last one mounted on the longest matching point)."""
    if text is None:
        with open(MOUNTINFO) as f:
            text = f.read()
    real = os.path.realpath(path)
    best: Mount | None = None
    for m in parse(text):
        point = m.point.rstrip("/") or "/"
        if real == point or real.startswith(point.rstrip("/") + "/") or point == "/":
            if best is None or len(point) >= len(best.point.rstrip("/") or "/"):
                best = m
    return best
