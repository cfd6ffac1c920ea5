"""Volume options: every name `gluster volume set` accepts in the installed GlusterFS, with its
type, allowed values or range, default, description and the graphs it applies to.

The table is data (`optiontable/data/options-<version>.json`), derived from the installed GlusterFS
by `python -m tools.gen_option_table` (glusterd's volume-set table plus each translator's own option
table); nothing here is typed by hand. The server validates every option with `validate()` before
storing it, and stores the normalized value it returns; volgen trusts stored values. Sizes follow
kadalu's rule (GiB = 2^30, GB = 10^9) and are stored as byte counts, which GlusterFS reads the same
(`optiontable.sizes`).

    >>> validate("performance.write-behind", "disable")
    'off'
    >>> validate("performance.write-behind-window-size", "4MiB")
    '4194304'
    >>> validate("performance.write-behind-window-size", "4MB")
    '4000000'
"""
from __future__ import annotations

import copy
import difflib
import json
import math
import re
from functools import cache
from importlib import resources

from contracts.checks import path_problem
from contracts.sizes import SizeError
from optiontable.sizes import SIZE_TYPES, SIZE_WORDS, option_bytes, range_spelling, stored_default
from optiontable.value_text import shape_problem, text_problem

__all__ = ["GLUSTERFS_VERSION", "OptionError", "load", "names", "validate", "describe", "graphs_of",
           "accepted", "resolve", "not_run"]

GLUSTERFS_VERSION = "10.3"
GRAPHS = ("brick", "client", "shd")

BOOL_TRUE = ("on", "yes", "true", "enable", "1")
BOOL_FALSE = ("off", "no", "false", "disable", "0")
TIME_UNITS = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "days": 86400,
              "w": 604800, "wk": 604800}  # libglusterfs gf_string2time: lower case only

# re.ASCII everywhere: Python's \d also matches other scripts' digits ("1\u0663"), which C's
# strtol and GlusterFS's parsers do not read.
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PERCENT_RE = re.compile(rf"({_NUMBER})%?", re.ASCII)
_TIME_RE = re.compile(r"(\d+)(s|sec|m|min|h|hr|d|days|w|wk)?", re.ASCII)
# strtoll(..., 0) as libglusterfs parses integers: 0x.. hex, 0.. octal (modes like 0777), decimal.
_INT_RE = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)", re.ASCII)
_DOUBLE_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ADDRESS_RE = re.compile(r"[A-Za-z0-9.:*?\[\]_/-]+", re.ASCII)  # names, IPv4/IPv6, wildcards, CIDR
_XLATOR_RE = re.compile(r"[A-Za-z0-9._-]+", re.ASCII)  # xlator names in kadalu's graphs: vol-client-0
_PRIORITY_RE = re.compile(r"[0-9]+", re.ASCII)


class OptionError(ValueError):
    """An option name or value GlusterFS would not accept; the message says what is accepted."""

    def __init__(self, message: str, *, name: str | None = None, suggestions: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.name = name
        self.suggestions = suggestions or []


@cache
def _document(version: str) -> dict:
    ref = resources.files(__package__).joinpath("data", f"options-{version}.json")
    return json.loads(ref.read_text(encoding="utf-8"))


@cache
def _index(version: str) -> dict[str, dict]:
    return {e["name"]: e for e in _document(version)["options"]}


def load(version: str = GLUSTERFS_VERSION) -> dict[str, dict]:
    """{name: entry} for every option (cached; treat the entries as read-only)."""
    return _index(version)


def not_run(version: str = GLUSTERFS_VERSION) -> dict[str, dict]:
    """{name: {"daemon", "default", "description"}}: glusterd's options of daemons kadalu does not
    run and the installed GlusterFS does not even build (gNFS's nfs.*). `validate` takes any safe
    value for them; the server stores it and warns that it changes nothing."""
    return _document(version).get("not_run", {})


def names(version: str = GLUSTERFS_VERSION) -> list[str]:
    return sorted(load(version))


def _suggest(name: str, version: str) -> list[str]:
    table = load(version)
    out = [n for n in table if n.endswith("." + name)]  # glusterd completes "quorum-type" too
    out += difflib.get_close_matches(name, list(table), n=5, cutoff=0.6)
    # Close to the part after the domain ("write-behnd" -> performance.write-behind)
    tail = name.split(".", 1)[-1]
    by_tail: dict[str, list[str]] = {}
    for n in table:
        by_tail.setdefault(n.split(".", 1)[-1], []).append(n)
    for t in difflib.get_close_matches(tail, list(by_tail), n=5, cutoff=0.75):
        out += by_tail[t]
    seen: list[str] = []
    for n in out:
        if n not in seen:
            seen.append(n)
    return seen[:5]


def resolve(name: str, version: str = GLUSTERFS_VERSION) -> dict:
    """The entry of `name`, or OptionError naming the closest options."""
    entry = load(version).get(name)
    if entry is not None:
        return entry
    close = _suggest(name, version)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise OptionError(f"unknown option '{name}' (not a volume option of GlusterFS {version}){hint}",
                      name=name, suggestions=close)


def describe(name: str, version: str = GLUSTERFS_VERSION) -> dict:
    """A copy of the entry of `name`, plus `accepts`: what values it takes, in words. A size's
    default is given as stored values are (a byte count), not in the table's GlusterFS notation."""
    entry = copy.deepcopy(resolve(name, version))
    entry["default"] = stored_default(entry)
    entry["accepts"] = accepted(entry)
    return entry


def graphs_of(name: str, version: str = GLUSTERFS_VERSION) -> list[str]:
    """Which generated graphs the option changes: a subset of brick, client, shd (may be empty:
    an option of a daemon kadalu does not run, e.g. the gNFS server or the bit-rot scrubber)."""
    return list(resolve(name, version)["graphs"])


# --- what each type accepts -------------------------------------------------------------------


def _fmt_num(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _range_words(entry: dict, fmt=_fmt_num) -> str:
    lo, hi = entry.get("min"), entry.get("max")
    if lo is not None and hi is not None:
        return f" from {fmt(lo)} to {fmt(hi)}"
    if lo is not None:
        return f" of at least {fmt(lo)}"
    if hi is not None:
        return f" of at most {fmt(hi)}"
    return ""


def accepted(entry: dict) -> str:
    """What `entry` accepts, in words (used in every refusal)."""
    t = entry["type"]
    if t == "bool":
        return "on or off (also yes/no, true/false, enable/disable, 1/0)"
    if t == "enum":
        return "one of: " + ", ".join(entry["values"])
    if t == "int":
        return "an integer" + _range_words(entry)
    if t == "double":
        return "a number" + _range_words(entry)
    if t == "size":
        return "a size" + _range_words(entry, range_spelling) + f" ({SIZE_WORDS}; e.g. 4MiB)"
    if t == "percent":
        return "a percentage from 0 to 100 (e.g. 10 or 10%)"
    if t == "percent-or-size":
        return "a percentage (e.g. 5%) or a size" + _range_words(entry, range_spelling) + f" ({SIZE_WORDS})"
    if t == "time":
        return ("a duration" + _range_words(entry)
                + " in seconds (a whole number, optionally with a unit s, m/min, h/hr, d/days or w/wk, e.g. 30 or 5m)")
    if t == "path":
        return "a normalised absolute path (no '.' or '..' parts, no '//', no trailing '/')"
    if t == "address":
        return "a host name or IP address"
    if t == "address-list":
        return "a comma-separated list of host names or IP addresses (wildcards like 192.168.* allowed)"
    if t == "priority-list":
        return "a comma-separated list of pattern:priority pairs (e.g. *.jpg:3,*.txt:1)"
    if t == "size-list":
        return f"a comma-separated list of sizes (e.g. 1GiB,500MiB; {SIZE_WORDS})"
    if t == "xlator":
        return "the name of a translator in the graph (letters, digits, '.', '_', '-'), e.g. <volume>-client-0"
    return "printable ASCII text without spaces, quotes or backslashes"


def _bytes(text: str) -> int | None:
    try:
        return option_bytes(text)
    except SizeError:
        return None


def _in_range(entry: dict, n: float) -> bool:
    lo, hi = entry.get("min"), entry.get("max")
    if lo is not None and n < lo:
        return False
    return not (hi is not None and n > hi)


def _c_int(text: str) -> int | None:
    m = _INT_RE.fullmatch(text)
    if not m:
        return None
    digits = m.group(2)
    if digits[:2].lower() == "0x":
        n = int(digits, 16)
    elif digits.startswith("0"):
        n = int(digits, 8)
    else:
        n = int(digits)
    return -n if m.group(1) == "-" else n


def _check(entry: dict, value: str) -> str | None:
    """The normalized value, or None when `entry` does not accept `value`."""
    t = entry["type"]
    if t == "bool":
        low = value.lower()
        return "on" if low in BOOL_TRUE else "off" if low in BOOL_FALSE else None
    if t == "enum":
        for v in entry["values"]:
            if v.lower() == value.lower():
                return v
        return None
    if t == "int":
        n = _c_int(value)
        return value if n is not None and _in_range(entry, n) else None
    if t == "double":
        if not _DOUBLE_RE.fullmatch(value) or not math.isfinite(float(value)):
            return None
        return value if _in_range(entry, float(value)) else None
    if t == "size":
        n = _bytes(value)
        return str(n) if n is not None and _in_range(entry, n) else None
    if t == "percent":
        m = _PERCENT_RE.fullmatch(value)
        return f"{m.group(1)}%" if m and float(m.group(1)) <= 100 else None
    if t == "percent-or-size":
        if value.endswith("%"):
            m = _PERCENT_RE.fullmatch(value)
            return value if m and float(m.group(1)) <= 100 else None
        n = _bytes(value)
        return str(n) if n is not None and _in_range(entry, n) else None
    if t == "time":
        m = _TIME_RE.fullmatch(value)
        if not m:
            return None
        seconds = int(m.group(1)) * TIME_UNITS[m.group(2) or ""]
        return str(seconds) if _in_range(entry, seconds) else None
    if t == "path":
        return value if path_problem(value) is None else None
    if t == "address":
        return value if _ADDRESS_RE.fullmatch(value) else None
    if t == "address-list":
        parts = value.split(",")
        return value if all(_ADDRESS_RE.fullmatch(p) for p in parts) else None
    if t == "priority-list":
        for pair in value.split(","):
            pattern, sep, prio = pair.rpartition(":")
            if not sep or not pattern or not _PRIORITY_RE.fullmatch(prio):
                return None
        return value
    if t == "size-list":
        sizes = [_bytes(p) for p in value.split(",")]
        return ",".join(str(n) for n in sizes) if None not in sizes else None
    if t == "xlator":
        return value if _XLATOR_RE.fullmatch(value) else None
    return value  # str


def validate(name: str, value: str, version: str = GLUSTERFS_VERSION) -> str:
    """The normalized value of option `name` set to `value`, or OptionError saying what `name`
    accepts. Booleans come back as on/off, enum values in the translator's own spelling, sizes
    as byte counts (percentages as given), durations in seconds; other values unchanged
    (surrounding spaces removed)."""
    if not isinstance(value, str):
        value = str(value)
    if name in not_run(version):
        return _not_run_value(name, value.strip())
    entry = resolve(name, version)
    text = value.strip()
    if not text:
        raise OptionError(f"option {name} needs a value: {accepted(entry)}", name=name)
    problem = text_problem(text)
    if problem:
        raise OptionError(f"option {name}: {text[:80]!r} {problem}; accepted: {accepted(entry)}", name=name)
    normalized = _check(entry, text)
    if normalized is None:
        why = _size_problem(entry, text)
        raise OptionError(f"option {name} does not accept {text!r}: "
                          + (f"{why}; accepted: {accepted(entry)}" if why else accepted(entry)), name=name)
    shape = shape_problem(name, normalized)
    if shape:
        raise OptionError(f"option {name} does not accept {text!r}: {shape}", name=name)
    return normalized


def _not_run_value(name: str, text: str) -> str:
    """A value for an option of a daemon kadalu does not run: no table says what it takes, so any
    text that can stand in a volfile (it never reaches one); booleans normalized."""
    problem = "is empty" if not text else text_problem(text)
    if problem:
        raise OptionError(f"option {name}: {text[:80]!r} {problem}", name=name)
    if text.lower() in BOOL_TRUE:
        return "on"
    if text.lower() in BOOL_FALSE:
        return "off"
    return text


def _size_problem(entry: dict, text: str) -> str | None:
    """Why a size-typed option refused `text`, when it is more than "not a size": an ambiguous unit
    ("256M"), a fraction of a byte, more than GlusterFS reads."""
    if entry["type"] not in SIZE_TYPES or text.endswith("%"):
        return None
    for part in text.split(",") if entry["type"] == "size-list" else [text]:
        try:
            option_bytes(part)
        except SizeError as exc:
            if exc.reason:
                return exc.reason
    return None
