"""What optiontable accepts, libglusterfs parses to the same number (its own gf_string2* parsers,
the ones xlator_option_validate uses). optiontable may be stricter (it refuses hex durations, sizes
with spaces before the unit), never looser. Sizes are read with kadalu's rule (GB = 10^9, GiB =
2^30) and stored as byte counts, which libglusterfs reads as that same number."""
import ctypes
import functools

import pytest

from contracts.sizes import parse_size
from optiontable import _c_int, _check, describe, load

try:
    LIB = ctypes.CDLL("libglusterfs.so.0")
except OSError:
    LIB = None

pytestmark = pytest.mark.skipif(LIB is None, reason="libglusterfs is not installed")


def gluster(fn: str, ctype, text: str):
    out = ctype()
    ok = getattr(LIB, fn)(text.encode(), ctypes.byref(out)) == 0
    return out.value if ok else None


def entry(type_: str) -> dict:
    return {"name": "x", "type": type_, "min": None, "max": None, "values": []}


SAMPLES = ["0", "1", "10", "010", "0777", "0x1f", "-5", "+5", "1.5", ".5", "1e3", "abc", "", "10s", "10sec", "5m",
           "5min", "2h", "2hr", "1d", "1days", "1w", "1wk", "10S", "1M", "1MB", "1mb", "4KB", "4Kb", "1GB", "1TB",
           "1PB", "1EB", "512B", "1.5MB", "1 MB", "1KiB", "50%", "50.5%", "150%", "on", "Yes", "TRUE", "disable",
           "enabled", "2"]
SIZE_SAMPLES = ["1MiB", "1mib", "4KiB", "1GiB", "1Gi", "1.5MiB", "0.5KiB", "1.3KiB", "1 MiB", "1G", "1024B", "0B",
                "9223372036854775807", "9223372036854775808", "8EiB", "1e3KB", "0x10"]


@pytest.mark.parametrize("text", SAMPLES + SIZE_SAMPLES)
def test_sizes(text):
    ours = _check(entry("size"), text)
    if ours is not None:
        # stored as a byte count, which libglusterfs reads as the number kadalu's rule gives
        theirs = gluster("gf_string2bytesize_uint64", ctypes.c_uint64, ours)
        assert theirs is not None, f"{ours!r} refused by libglusterfs"
        assert theirs == int(ours) == parse_size(text, allow_zero=True)


def test_glusterfs_reads_units_otherwise_hence_byte_counts():
    size = functools.partial(gluster, "gf_string2bytesize_uint64", ctypes.c_uint64)
    assert size("256MB") == 256 << 20 != parse_size("256MB")  # what a volfile must never get from a user
    assert size("256MiB") is None
    assert size(_check(entry("size"), "256MiB")) == 256 << 20 and size(_check(entry("size"), "256MB")) == 256 * 10**6


def test_table_defaults_shown_as_stored_mean_what_glusterfs_reads():
    size = functools.partial(gluster, "gf_string2bytesize_uint64", ctypes.c_uint64)
    for name, e in load().items():
        if e["type"] == "size" and e["default"] is not None:
            shown = describe(name)["default"]
            assert shown.isdigit() and size(shown) == size(e["default"]) == parse_size(shown, allow_zero=True), name


@pytest.mark.parametrize("text", SAMPLES)
def test_durations(text):
    ours = _check(entry("time"), text)
    if ours is not None:
        # normalized to seconds, which libglusterfs reads back as the same number
        assert gluster("gf_string2time", ctypes.c_long, ours) == int(ours)
        if not text.startswith("0") or text == "0":
            assert gluster("gf_string2time", ctypes.c_long, text) == int(ours)


@pytest.mark.parametrize("text", SAMPLES)
def test_booleans(text):
    ours = _check(entry("bool"), text)
    theirs = gluster("gf_string2boolean", ctypes.c_int, text)
    if ours is not None:
        assert theirs == (1 if ours == "on" else 0)
    else:
        assert theirs is None


@pytest.mark.parametrize("text", SAMPLES)
def test_integers(text):
    ours = _check(entry("int"), text)
    if ours is not None:
        assert gluster("gf_string2int", ctypes.c_int, ours) == _c_int(ours)  # 0777 is octal there too


@pytest.mark.parametrize("text", SAMPLES)
def test_percentages(text):
    ours = _check(entry("percent"), text)
    if ours is not None:
        assert gluster("gf_string2percent", ctypes.c_double, ours) == float(ours.rstrip("%"))
        assert 0 <= float(ours.rstrip("%")) <= 100
