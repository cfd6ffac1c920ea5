import pytest

from controlplane.services.errors import Invalid
from controlplane.services.names import check_abs_path, check_name


@pytest.mark.parametrize("name", ["node1", "my-cluster", "a.b_c", "9x", "x" * 64])
def test_good_names(name):
    assert check_name("node", name) == name


@pytest.mark.parametrize("name", ["", "a b", "a/b", "x" * 65, "-x", ".x", "a\nb", "ä"])
def test_bad_names_say_what_is_allowed(name):
    with pytest.raises(Invalid, match="letters, digits"):
        check_name("node", name)


def test_paths_are_normalised():
    assert check_abs_path("p", "/exports//b1/") == "/exports/b1"


@pytest.mark.parametrize("path", ["", "rel", "/a/../b", "/./a", "/", "/a\x00b", "/" + "a" * 5000,
                                  "/a b", "/a\nb", "/a\tb", '/a"b', "/a\\b", "/a\x7fb"])
def test_bad_paths(path):
    with pytest.raises(Invalid):
        check_abs_path("p", path)
