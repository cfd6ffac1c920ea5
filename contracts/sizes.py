"""Sizes in kadalu's interface: one rule for `volume create --size`, volume option values and every
size shown to a user.

    KB  MB  GB  TB  PB     powers of 1000 (10^3 ... 10^15), as on disk labels
    KiB MiB GiB TiB PiB    powers of 1024 (2^10 ... 2^50); Ki Mi Gi Ti Pi mean the same
    B, or no unit          bytes

Units are read in any case ("gib", "Gb"); a number may have a decimal point ("1.5GiB") and a space
before its unit ("1.5 GiB"; option values, which are volfile tokens, take no space). A bare letter
("10G", "512M") is refused with a message naming both spellings: the planner used to read it as
GiB, GlusterFS's own parser refuses it, and either guess would surprise someone.

GlusterFS reads sizes its own way (libglusterfs gf_string2bytesize_range, 10.3): "KB" ... "PB" are
powers of 1024 there and "KiB" is refused. Only a plain byte count reads the same to both, so the
server stores option sizes as byte counts (see `optiontable`) and never writes a user's "256MB"
into a volfile, where GlusterFS would read 256 MiB.

Imported by the control plane, the option table and the CLI; it imports nothing of theirs.
"""
from __future__ import annotations

import math
import re

__all__ = ["KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB", "UNITS", "SIZE_RULE",
           "SizeError", "parse_size", "format_size", "spell_size"]

KB, MB, GB, TB, PB = (1000 ** i for i in range(1, 6))
KiB, MiB, GiB, TiB, PiB = (1024 ** i for i in range(1, 6))
_EiB = 1024 ** 6

# Canonical spellings, largest first in each system (spell_size picks the one with the smallest count).
BINARY_UNITS = {"PiB": PiB, "TiB": TiB, "GiB": GiB, "MiB": MiB, "KiB": KiB}
DECIMAL_UNITS = {"PB": PB, "TB": TB, "GB": GB, "MB": MB, "KB": KB}
UNITS = {**BINARY_UNITS, **DECIMAL_UNITS, "B": 1}
_READ = {u.lower(): n for u, n in UNITS.items()} | {u[:2].lower(): n for u, n in BINARY_UNITS.items()} | {"": 1}
_AMBIGUOUS = set("kmgtp")
_MAX_DIGITS = 40  # far beyond any size (2^63 has 19 digits); keeps the arithmetic small

SIZE_RULE = "KiB, MiB, GiB, TiB, PiB are powers of 1024; KB, MB, GB, TB, PB powers of 1000; B or no unit bytes"
_HELP = f"use a number with a unit, e.g. 100GiB, 512MiB, 1.5TiB or 500GB ({SIZE_RULE})"

# ASCII digits only: Python's \d also matches other scripts' digits, which no C parser reads.
_SIZE_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(\s*)([A-Za-z]*)\s*", re.ASCII)


class SizeError(ValueError):
    """A size kadalu does not read. `reason` says what is wrong; the message adds how to write a
    size when the reason alone does not."""

    def __init__(self, text: object, reason: str | None = None, *, with_help: bool = True):
        self.reason = reason
        detail = "; ".join(p for p in (reason, _HELP if with_help or not reason else None) if p)
        super().__init__(f"invalid size {text!r}: {detail}")


def parse_size(text: str, *, allow_zero: bool = False, whole_bytes: bool = False) -> int:
    """The number of bytes `text` means under kadalu's rule (see the module docstring).

    A fraction of a byte is rounded up ("1.3KiB" is 1332), or refused with `whole_bytes`; zero is
    refused unless `allow_zero`. SizeError says what is wrong."""
    if not isinstance(text, str):
        raise SizeError(text)
    if text.strip().startswith("-"):
        raise SizeError(text, "a size cannot be negative")
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise SizeError(text)
    number, unit = m.group(1), m.group(3)
    if unit.lower() in _AMBIGUOUS:
        n, u = number, unit.upper()
        raise SizeError(text, f"the unit {unit!r} is ambiguous: write {n}{u}iB for powers of 1024 or {n}{u}B "
                              "for powers of 1000", with_help=False)
    if unit.lower() not in _READ:
        raise SizeError(text, f"unknown unit {unit!r}")
    whole, _, frac = number.partition(".")
    if len(whole) + len(frac) > _MAX_DIGITS:
        raise SizeError(text, f"more than {_MAX_DIGITS} digits")
    # Exact integer arithmetic: `number` is (whole.frac) = numerator / 10^len(frac).
    scaled = (int(whole or "0") * 10 ** len(frac) + int(frac or "0")) * _READ[unit.lower()]
    result, rest = -(-scaled // 10 ** len(frac)), scaled % 10 ** len(frac)
    if whole_bytes and rest:
        exact = f"{scaled // 10 ** len(frac)}.{str(rest).zfill(len(frac)).rstrip('0')}"
        raise SizeError(text, f"that is {exact} bytes, not a whole number of bytes", with_help=False)
    if result == 0 and not allow_zero:
        raise SizeError(text, "the size must be greater than zero")
    return result


def format_size(n: int | float | None, round_up: bool = False) -> str:
    """`n` bytes for people: "512 B", "1.5 GiB" (binary units, one decimal; "-" for None).
    round_up: never show less than `n` (for "need >= X")."""
    if n is None:
        return "-"
    if abs(n) < KiB:
        return f"{int(n)} B"
    for unit, scale in (("EiB", _EiB), *BINARY_UNITS.items()):
        if abs(n) >= scale:
            v = n / scale
            if round_up:
                v = math.ceil(v * 10 - 1e-9) / 10
            return f"{v:.1f} {unit}"
    raise AssertionError("unreachable: abs(n) >= KiB")


def spell_size(n: int) -> str:
    """The shortest exact spelling of `n` bytes that `parse_size` reads back as `n`: "512KiB",
    "4MiB", "500MB", or the plain byte count ("1234567", "0") when no unit divides it."""
    fits = [(n // scale, unit) for unit, scale in (*BINARY_UNITS.items(), *DECIMAL_UNITS.items())
            if n and n % scale == 0]
    if not fits:
        return str(n)
    count, unit = min(fits)
    return f"{count}{unit}"
