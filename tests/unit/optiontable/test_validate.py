"""optiontable.validate: every type accepted and refused, with what is accepted in the message."""
import pytest

from optiontable import OptionError, accepted, describe, graphs_of, load, names, resolve, validate


def refused(name: str, value: str) -> str:
    with pytest.raises(OptionError) as err:
        validate(name, value)
    return err.value.message


# --- names ---------------------------------------------------------------------------------

def test_unknown_option_is_refused_with_close_names():
    msg = refused("performance.write-behnd", "off")
    assert "unknown option 'performance.write-behnd'" in msg
    assert "performance.write-behind" in msg


def test_a_short_name_suggests_its_full_name():
    with pytest.raises(OptionError) as err:
        validate("quorum-type", "auto")
    assert err.value.suggestions[0] == "cluster.quorum-type"


def test_nothing_close_gives_no_suggestion():
    msg = refused("zzzz.qqqq", "1")
    assert "did you mean" not in msg


def test_options_glusterd_keeps_for_itself_or_for_missing_translators_are_unknown():
    for name in ("cluster.op-version", "cluster.brick-multiplex", "cluster.server-quorum-type", "nfs.disable"):
        with pytest.raises(OptionError, match="unknown option"):
            resolve(name)


# --- bool ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,normalized", [
    ("on", "on"), ("ON", "on"), ("yes", "on"), ("true", "on"), ("enable", "on"), ("1", "on"),
    ("off", "off"), ("No", "off"), ("false", "off"), ("disable", "off"), ("0", "off"), (" off ", "off"),
])
def test_bool_accepts_glusterfs_words_and_normalizes_to_on_off(value, normalized):
    assert validate("performance.write-behind", value) == normalized
    assert validate("cluster.eager-lock", value) == normalized


@pytest.mark.parametrize("value", ["y", "2", "enabled", "maybe", "o n"])
def test_bool_refuses_other_words(value):
    msg = refused("performance.write-behind", value)
    assert "on or off" in msg


# --- int -----------------------------------------------------------------------------------

def test_int_in_range():
    assert validate("performance.io-thread-count", "32") == "32"
    assert validate("performance.io-thread-count", "1") == "1"
    assert validate("performance.io-thread-count", "64") == "64"


@pytest.mark.parametrize("value", ["0", "65", "-1", "4.5", "many", "0x"])
def test_int_out_of_range_or_not_a_number(value):
    msg = refused("performance.io-thread-count", value)
    assert "an integer from 1 to 64" in msg


def test_int_takes_octal_modes_as_glusterfs_does():
    assert validate("storage.create-mask", "0777") == "0777"  # 511, the maximum
    assert "from 0 to 511" in refused("storage.create-mask", "0778")  # not octal
    assert "from 0 to 511" in refused("storage.create-mask", "777")  # decimal 777 > 511


def test_int_with_only_a_minimum():
    assert validate("storage.owner-uid", "-1") == "-1"
    assert validate("storage.owner-uid", "36") == "36"
    assert "at least -1" in refused("storage.owner-uid", "-2")


# --- size ----------------------------------------------------------------------------------

# Stored as the byte count: GlusterFS reads "1MB" as 1 MiB and refuses "1MiB", so only a plain
# number means the same to kadalu (GiB = 2^30, GB = 10^9) and to the volfile's reader.
@pytest.mark.parametrize("value,normalized", [
    ("1MiB", "1048576"), ("4mib", "4194304"), ("512KiB", "524288"), ("1GiB", "1073741824"), ("1Gi", "1073741824"),
    ("1048576", "1048576"), ("1048576B", "1048576"), ("1.5MiB", "1572864"),
    ("1MB", "1000000"), ("600kb", "600000"), ("1GB", "1000000000"),
])
def test_size_with_units(value, normalized):
    assert validate("performance.write-behind-window-size", value) == normalized
    assert validate("performance.write-behind-window-size", normalized) == normalized  # stored values read back


@pytest.mark.parametrize("value", ["100KiB", "500KB", "2GiB", "1.1GB", "1 MiB", "1M", "4k", "-1MiB", "big", "0x100000"])
def test_size_out_of_range_or_malformed(value):
    msg = refused("performance.write-behind-window-size", value)
    assert "a size from 512KiB to 1GiB" in msg
    assert "KiB, MiB, GiB, TiB, PiB are powers of 1024; KB, MB, GB, TB, PB powers of 1000" in msg


def test_size_without_maximum():
    assert validate("performance.io-cache-size", "100GiB") == str(100 << 30)
    assert validate("performance.io-cache-size", "100GB") == str(100 * 10**9)
    assert "at least 4MiB" in refused("performance.io-cache-size", "1MiB")
    assert "at least 4MiB" in refused("performance.io-cache-size", "4MB")  # 4 * 10^6 < 4 MiB


def test_a_bare_letter_unit_is_refused_naming_both_spellings():
    msg = refused("performance.io-cache-size", "256M")
    assert "the unit 'M' is ambiguous: write 256MiB for powers of 1024 or 256MB for powers of 1000" in msg
    assert "accepted: a size of at least 4MiB" in msg


def test_a_size_glusterfs_cannot_read_exactly_is_refused():
    assert "not a whole number of bytes" in refused("performance.io-cache-size", "4.0000001MiB")
    assert "GlusterFS reads sizes up to 9223372036854775807 bytes" in refused("performance.io-cache-size", "8192PiB")
    assert validate("performance.io-cache-size", "9223372036854775807") == "9223372036854775807"


# --- percent, percent-or-size ----------------------------------------------------------------

def test_percent():
    assert validate("cluster.min-free-inodes", "5%") == "5%"
    assert validate("cluster.min-free-inodes", "5") == "5%"
    assert validate("cluster.min-free-inodes", "12.5%") == "12.5%"
    for bad in ("150%", "-5", "five"):
        assert "percentage from 0 to 100" in refused("cluster.min-free-inodes", bad)


def test_percent_or_size():
    assert validate("cluster.min-free-disk", "10%") == "10%"
    assert validate("cluster.min-free-disk", "10gb") == "10000000000"
    assert validate("cluster.min-free-disk", "10GiB") == str(10 << 30)
    assert validate("storage.reserve", "1") == "1"
    for bad in ("101%", "10 GB", "lots"):
        assert "a percentage (e.g. 5%) or a size" in refused("cluster.min-free-disk", bad)


# --- time ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,seconds", [("42", "42"), ("10s", "10"), ("2min", "120"), ("5m", "300"), ("1h", "3600")])
def test_time_normalizes_to_seconds(value, seconds):
    assert validate("network.frame-timeout", value) == seconds


@pytest.mark.parametrize("value", ["1d", "2000", "-1", "1.5", "10S", "5 min"])
def test_time_out_of_range_or_malformed(value):
    assert "a duration from 0 to 1013 in seconds" in refused("network.ping-timeout", value)


# --- double --------------------------------------------------------------------------------

def test_double():
    entry = {"name": "x", "type": "double", "min": 0.5, "max": 2, "values": []}
    assert accepted(entry) == "a number from 0.5 to 2"
    from optiontable import _check
    assert _check(entry, "1.25") == "1.25"
    assert _check(entry, "1e0") == "1e0"
    assert _check(entry, "3") is None
    assert _check(entry, "nan") is None


# --- enum ----------------------------------------------------------------------------------

def test_enum_lists_its_values():
    assert validate("cluster.quorum-type", "auto") == "auto"
    assert validate("cluster.quorum-type", "FIXED") == "fixed"
    assert "one of: none, auto, fixed" in refused("cluster.quorum-type", "majority")


def test_enum_keeps_the_translators_spelling():
    assert validate("diagnostics.brick-log-level", "debug") == "DEBUG"
    assert validate("diagnostics.client-log-level", "Warning") == "WARNING"
    assert "one of: DEBUG, WARNING, ERROR, INFO, CRITICAL, NONE, TRACE" in refused("diagnostics.client-log-level", "loud")


# --- path, addresses, lists, str -------------------------------------------------------------

def test_path_must_be_absolute():
    assert validate("server.statedump-path", "/var/run/gluster") == "/var/run/gluster"
    assert "absolute path" in refused("server.statedump-path", "var/run")
    assert "absolute path" in refused("server.statedump-path", "/var/../etc")


def test_address_list():
    assert validate("auth.allow", "192.168.1.*,10.0.0.1,host.example.com") == "192.168.1.*,10.0.0.1,host.example.com"
    assert validate("auth.allow", "10.0.0.0/8") == "10.0.0.0/8"
    assert "comma-separated list of host names" in refused("auth.allow", "10.0.0.1,,10.0.0.2")


def test_priority_list():
    assert validate("performance.cache-priority", "*.jpg:3,*.txt:1") == "*.jpg:3,*.txt:1"
    assert "pattern:priority" in refused("performance.cache-priority", "*.jpg")


def test_str_takes_anything_a_volfile_line_can_hold():
    assert validate("performance.xattr-cache-list", "user.a,security.b") == "user.a,security.b"
    assert "cannot hold" in refused("performance.xattr-cache-list", "user.a user.b")
    assert "cannot hold" in refused("performance.xattr-cache-list", "a\nb")
    assert "needs a value" in refused("performance.xattr-cache-list", "  ")


# --- describe, graphs ------------------------------------------------------------------------

def test_describe_says_what_an_option_is():
    d = describe("performance.write-behind-window-size")
    assert d["xlator"] == "performance/write-behind" and d["key"] == "cache-size"
    assert d["type"] == "size" and d["default"] == "1048576"  # the table's "1MB" as GlusterFS reads it
    assert d["min"] == 512 * 1024 and d["max"] == 1 << 30
    assert d["description"]
    assert d["accepts"].startswith("a size from 512KiB to 1GiB")
    d["type"] = "changed"
    assert load()["performance.write-behind-window-size"]["type"] == "size"  # a copy


def test_graphs_of():
    assert graphs_of("performance.write-behind") == ["client"]
    assert graphs_of("cluster.quorum-type") == ["client", "shd"]
    assert graphs_of("storage.reserve") == ["brick"]
    assert graphs_of("diagnostics.brick-log-level") == ["brick"]
    assert graphs_of("diagnostics.client-log-level") == ["client", "shd"]
    assert graphs_of("cluster.self-heal-daemon") == ["shd"]
    assert graphs_of("cluster.data-self-heal") == ["client"]
    assert graphs_of("features.scrub-freq") == []  # the bit-rot scrubber, a daemon kadalu does not run
    with pytest.raises(OptionError):
        graphs_of("no.such")


def test_names_sorted_and_complete():
    assert names() == sorted(load())
    assert "performance.write-behind" in names()
