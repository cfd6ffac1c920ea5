"""What text an option value may be at all, whatever its type, and the shapes kadalu demands of
the free-text options that name files, directories or attributes on the nodes.

Values end up as `option <key> <value>` lines in volfiles that root processes (bricks, self-heal
daemons) and clients parse, and on the agents' command lines. GlusterFS's volfile lexer
(libglusterfs graph.l) reads a value as one unquoted token: whitespace ends it, '"' and '\\' start
other tokens, a token starting with '#' is a comment, and the bare words `volume`, `end-volume`,
`subvolumes`, `option` and `type` are keywords. Any of those in a value breaks the graph (the
bricks do not start) or changes it. The agent refuses such values too
(`contracts.checks.check_option`); the server refuses them first, with what is accepted.

The option table's "str" type says nothing of what a value means; the shapes below are kadalu's,
for the options whose value is a path or a name on the nodes (GlusterFS 10.3 reads them as such).
"""
from __future__ import annotations

import re

from contracts.checks import MAX_OPTION_VALUE, path_problem

KEYWORDS = frozenset({"volume", "end-volume", "subvolumes", "subvolumeS", "option", "type"})
_PRINTABLE_ASCII = re.compile(r"[!-~]+")  # no space, no control character, nothing beyond ASCII
_ENTRY_NAME = re.compile(r"[A-Za-z0-9._-]{1,255}", re.ASCII)
_SNAP_DIR = re.compile(r"\.[0-9a-z_-]{1,254}", re.ASCII)  # glusterd's rule for snapshot-directory
_XATTR = re.compile(r"[A-Za-z0-9._-]{1,255}", re.ASCII)
_XATTR_PATTERN = re.compile(r"[A-Za-z0-9._*-]{1,255}", re.ASCII)


def text_problem(value: str) -> str | None:
    """Why `value` cannot stand as an option value in a volfile line; None if it can."""
    if len(value) > MAX_OPTION_VALUE:
        return f"is longer than {MAX_OPTION_VALUE} characters"
    if not _PRINTABLE_ASCII.fullmatch(value):
        bad = sorted({c for c in value if not "!" <= c <= "~"})
        shown = ", ".join(repr(c) for c in bad[:4])
        return (f"contains spaces, control characters or characters beyond ASCII ({shown}), "
                "which a volfile line cannot hold")
    if '"' in value or "\\" in value:
        return "contains a quote '\"' or a backslash, which a volfile line cannot hold"
    if value.startswith("#"):
        return "starts with '#', which a volfile reads as a comment"
    if value in KEYWORDS:
        return "is a volfile keyword"
    return None


def _entry_name(value: str) -> str | None:
    if not _ENTRY_NAME.fullmatch(value) or value in (".", ".."):
        return "a directory name (letters, digits, '.', '_', '-'; no '/', not '.' or '..'), e.g. .trashcan"
    return None


def _snapshot_dir(value: str) -> str | None:
    if not _SNAP_DIR.fullmatch(value):
        return "a directory name starting with '.' then up to 254 of 0-9, a-z, '_', '-', e.g. .snaps"
    return None


def _absolute_path(value: str) -> str | None:
    problem = path_problem(value)
    return f"a normalised absolute path (this one {problem})" if problem else None


def _path_list(value: str) -> str | None:
    for part in value.split(","):
        problem = path_problem(part)
        if problem:
            return f"a comma-separated list of normalised absolute paths ({part!r} {problem})"
    return None


def _xattr(value: str) -> str | None:
    if not _XATTR.fullmatch(value) or "." not in value:
        return "an extended attribute name (namespace.name: letters, digits, '.', '_', '-'), e.g. trusted.glusterfs.dht"
    return None


def _xattr_list(value: str) -> str | None:
    if not all(_XATTR_PATTERN.fullmatch(p) for p in value.split(",")):
        return "a comma-separated list of extended attribute names ('*' as a wildcard), e.g. user.*,security.ima"
    return None


# option name -> check returning what is accepted when the value does not fit
SHAPES = {
    "features.trash-dir": _entry_name,
    "features.snapshot-directory": _snapshot_dir,
    "features.trash-eliminate-path": _path_list,
    "ssl.ca-list": _absolute_path,
    "ssl.crl-path": _absolute_path,
    "ssl.dh-param": _absolute_path,
    "ssl.own-cert": _absolute_path,
    "ssl.private-key": _absolute_path,
    "cluster.dht-xattr-name": _xattr,
    "performance.xattr-cache-list": _xattr_list,
}


def shape_problem(name: str, value: str) -> str | None:
    """What option `name` accepts, when kadalu gives it a shape and `value` does not fit; else None."""
    check = SHAPES.get(name)
    return check(value) if check else None
