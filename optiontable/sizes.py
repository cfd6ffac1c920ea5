"""Option values of the size types: read with kadalu's rule, stored as what GlusterFS reads the same.

A user's size is read with `contracts.sizes` (GiB = 2^30, GB = 10^9). GlusterFS reads "KB" ...
"PB" as powers of 1024 and refuses "KiB" (libglusterfs gf_string2bytesize_range, 10.3), so the
only spelling both read as the same number is a plain byte count: that is what the server stores,
what volgen writes into volfiles and what `volume get` shows ("256MiB" is stored as 268435456,
"256MB" as 256000000). The table's own defaults are in GlusterFS's notation ("32MB" = 32 MiB,
straight from the translators' tables); `gluster_bytes` reads them as GlusterFS does, so a
default is shown as a byte count too.
"""
from __future__ import annotations

import re

from contracts.sizes import SIZE_RULE, SizeError, parse_size, spell_size

SIZE_TYPES = ("size", "percent-or-size", "size-list")
# gf_string2bytesize_range refuses more than INT64_MAX (its `max` is the uint64 bound & 0x7fff...).
GLUSTER_SIZE_MAX = (1 << 63) - 1
SIZE_WORDS = f"a number with a unit: {SIZE_RULE}"

_GLUSTER_UNITS = {"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}
_GLUSTER_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([A-Za-z]*)", re.ASCII)


def option_bytes(text: str) -> int:
    """The byte count of an option size value under kadalu's rule; SizeError (with a message that
    says why) for anything else, a fraction of a byte, or more than GlusterFS reads."""
    n = parse_size(text, allow_zero=True, whole_bytes=True)
    if n > GLUSTER_SIZE_MAX:
        raise SizeError(text, f"GlusterFS reads sizes up to {GLUSTER_SIZE_MAX} bytes (8 EiB)", with_help=False)
    return n


def gluster_bytes(text: str) -> int | None:
    """`text` read the way GlusterFS 10.3 reads a size (KB = 1024, fractions truncated); None if
    GlusterFS would not read it. For the table's defaults, which come from GlusterFS."""
    m = _GLUSTER_SIZE_RE.fullmatch(text.strip())
    if not m or m.group(2).lower() not in _GLUSTER_UNITS:
        return None
    number, scale = m.group(1), _GLUSTER_UNITS[m.group(2).lower()]
    whole, _, frac = number.partition(".")
    return (int(whole or "0") * scale * 10 ** len(frac) + int(frac or "0") * scale) // 10 ** len(frac)


def stored_default(entry: dict) -> str | None:
    """The table's default of a size-typed `entry` in the stored form (a byte count, or a
    percentage as it is); other defaults unchanged."""
    default = entry.get("default")
    if default is None or entry["type"] not in SIZE_TYPES or default.endswith("%"):
        return default
    parts = [gluster_bytes(p) for p in default.split(",")] if entry["type"] == "size-list" else [gluster_bytes(default)]
    if any(p is None for p in parts):
        return default
    return ",".join(str(p) for p in parts)


def range_spelling(n: float) -> str:
    """A bound of a size range, in words a user can type back: "512KiB", "1GiB", "4096"."""
    return spell_size(int(n))
