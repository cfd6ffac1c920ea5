"""optiontable.validate refuses text a volfile line cannot hold, digits of other scripts, and
paths or names that would lead a brick out of where it belongs (issue #7 finding 11)."""
import pytest

from contracts.checks import check_option
from optiontable import OptionError, load, validate


def refused(name: str, value: str) -> str:
    with pytest.raises(OptionError) as err:
        validate(name, value)
    return err.value.message


@pytest.mark.parametrize("name,value", [
    ("performance.io-thread-count", "1\u0663"),  # ARABIC-INDIC DIGIT THREE
    ("performance.io-thread-count", "\u0661\u0666"),
    ("performance.io-thread-count", "\uff11\uff16"),  # fullwidth digits
    ("network.ping-timeout", "4\u0662"),
    ("performance.write-behind-window-size", "\u0661MB"),
    ("cluster.min-free-inodes", "\u0665%"),
    ("cluster.min-free-disk", "\u0661\u0660GB"),
    ("performance.cache-priority", "*.jpg:\u0663"),
    ("performance.io-cache-size", "\u0664\u0660MB"),
])
def test_numbers_sizes_times_and_percentages_take_ascii_digits_only(name, value):
    assert "beyond ASCII" in refused(name, value)


def test_ascii_numbers_still_pass():
    assert validate("performance.io-thread-count", "13") == "13"
    assert validate("performance.cache-priority", "*.jpg:3") == "*.jpg:3"


@pytest.mark.parametrize("value", ["/..", "/var/..", "/var/./run", "/var//run", "/var/run/", "var/run", "/",
                                   "/var/run\u00a0x", "/tmp/a\tb"])
def test_path_options_take_normalised_absolute_paths(value):
    with pytest.raises(OptionError):
        validate("server.statedump-path", value)


@pytest.mark.parametrize("value", ["/..", "..", ".", "a/b", "/trash", ".trash/../..", "tr\u00e4sh"])
def test_trash_dir_is_one_directory_name_inside_the_brick(value):
    with pytest.raises(OptionError):
        validate("features.trash-dir", value)
    assert validate("features.trash-dir", ".trashcan") == ".trashcan"
    assert validate("features.trash-dir", "my_trash-2") == "my_trash-2"


@pytest.mark.parametrize("name,good,bad", [
    ("features.snapshot-directory", ".snaps", ["snaps", "../x", ".Snaps", ".a/b"]),
    ("features.trash-eliminate-path", "/tmp,/cache/x", ["tmp", "/a,../b", "/a/../b", "/a,,/b"]),
    ("ssl.own-cert", "/etc/ssl/glusterfs.pem", ["glusterfs.pem", "/etc/ssl/../shadow"]),
    ("ssl.private-key", "/etc/ssl/glusterfs.key", ["/etc/ssl/./k"]),
    ("ssl.ca-list", "/etc/ssl/glusterfs.ca", ["ca"]),
    ("ssl.crl-path", "/etc/ssl/crl", ["/etc/ssl/crl/"]),
    ("ssl.dh-param", "/etc/ssl/dh.pem", ["dh.pem"]),
    ("cluster.dht-xattr-name", "trusted.glusterfs.dht", ["dht", "trusted/x", "a*b.c"]),
    ("performance.xattr-cache-list", "user.*,security.ima", ["user.a;rm", "user.a,,b"]),
    ("cluster.read-subvolume", "vol-client-0", ["vol/client-0", "a:b"]),
])
def test_options_naming_files_or_attributes_have_a_shape(name, good, bad):
    assert validate(name, good) == good
    for value in bad:
        with pytest.raises(OptionError):
            validate(name, value)


@pytest.mark.parametrize("value", ["a b", "a\tb", "a\nb", "a\rb", 'a"b', "a\\b", "a\x00b", "a\x7fb", "a\u0085b",
                                   "a\u2028b", "a\u200bb", "caf\u00e9", "#rest", "volume", "end-volume", "subvolumes",
                                   "option", "type", "x" * 4097])
def test_no_option_value_holds_what_breaks_a_volfile_line(value):
    msg = refused("debug.error-fops", value)
    assert "accepted:" in msg or "does not accept" in msg


def test_every_accepted_value_passes_the_agents_check():
    """What the server stores, the agent takes: no value the server accepts is refused by
    contracts.checks.check_option on the node (which would fail the volume's tasks)."""
    samples = ["on", "13", "4MB", "10%", "/var/run/gluster", ".trashcan", "a#b", "vol-client-0", "user.*"]
    for name, entry in load().items():
        for value in [*samples, *(entry["values"] or []), entry["default"] or ""]:
            try:
                stored = validate(name, value)
            except OptionError:
                continue
            check_option(name, stored)


def test_refusals_name_the_option_and_quote_safely():
    msg = refused("debug.error-fops", "a\x1b[2Jb")
    assert msg.startswith("option debug.error-fops") and "\x1b" not in msg
