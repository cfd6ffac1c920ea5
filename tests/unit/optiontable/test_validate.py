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

@pytest.mark.parametrize("value,normalized", [
    ("1MB", "1MB"), ("4mb", "4MB"), ("512KB", "512KB"), ("1GB", "1GB"), ("1048576", "1048576"), ("1.5MB", "1.5MB"),
])
def test_size_with_units(value, normalized):
    assert validate("performance.write-behind-window-size", value) == normalized


@pytest.mark.parametrize("value", ["100KB", "2GB", "1 MB", "1M", "4k", "-1MB", "big"])
def test_size_out_of_range_or_malformed(value):
    msg = refused("performance.write-behind-window-size", value)
    assert "a size from 512KB to 1GB" in msg
    assert "KB, MB, GB" in msg


def test_size_without_maximum():
    assert validate("performance.io-cache-size", "100GB") == "100GB"
    assert "at least 4MB" in refused("performance.io-cache-size", "1MB")


# --- percent, percent-or-size ----------------------------------------------------------------

def test_percent():
    assert validate("cluster.min-free-inodes", "5%") == "5%"
    assert validate("cluster.min-free-inodes", "5") == "5%"
    assert validate("cluster.min-free-inodes", "12.5%") == "12.5%"
    for bad in ("150%", "-5", "five"):
        assert "percentage from 0 to 100" in refused("cluster.min-free-inodes", bad)


def test_percent_or_size():
    assert validate("cluster.min-free-disk", "10%") == "10%"
    assert validate("cluster.min-free-disk", "10gb") == "10GB"
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
    assert d["type"] == "size" and d["default"] == "1MB"
    assert d["min"] == 512 * 1024 and d["max"] == 1 << 30
    assert d["description"]
    assert d["accepts"].startswith("a size from 512KB to 1GB")
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
