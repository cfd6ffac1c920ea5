"""Which client addresses the volfile server hands a volume's volfile to: auth.allow / auth.reject
read the way GlusterFS's auth/addr module reads them on the bricks."""
import pytest

from contracts.volume_spec import VolumeSpec
from nodeagent.client_volfiles import check_address, matches
from nodeagent.volfile_server import Refused, privileged_port


@pytest.mark.parametrize("value,peer,expected", [
    ("*", "10.1.2.3", True),
    ("10.0.0.*", "10.0.0.5", True),
    ("10.0.0.*", "10.0.1.5", False),
    ("10.0.0.0/24", "10.0.0.9", True),
    ("10.0.0.0/24", "10.0.1.9", False),
    ("!10.0.0.0/24", "10.0.1.9", True),  # negated network: what it does not cover
    ("!10.0.0.*", "10.0.0.1", False),
    ("10.0.0.1, 10.0.0.2", "10.0.0.2", True),
    ("10.0.0.1", "10.0.0.12", False),  # an address is an address, not a prefix
    ("localhost", "127.0.0.1", True),  # host names are resolved
    ("!10.0.0.1", "10.0.0.1", True),  # GlusterFS ignores "!" before a plain address
])
def test_address_lists_match_as_glusterfs_auth_addr_does(value, peer, expected):
    assert matches(value, peer) is expected


def _spec(**options) -> VolumeSpec:
    brick = {"id": "b0000000-0000-4000-8000-000000000001", "node_id": "6f1c0d2e-0000-4000-8000-000000000001",
             "node_name": "n1", "address": "10.0.0.1", "port": 49152, "path": "/bricks/v"}
    return VolumeSpec(id="a1b2c3d4-0000-4000-8000-000000000001", name="v", type="distribute", bricks=[brick],
                      options=options)


def test_without_auth_allow_every_address_may_fetch_and_auth_reject_wins():
    check_address(_spec(), "192.0.2.7")
    spec = _spec(**{"auth.allow": "10.0.0.0/8", "auth.reject": "10.9.9.9"})
    check_address(spec, "10.1.1.1")
    with pytest.raises(Refused, match="10.9.9.9 is in auth.reject"):
        check_address(spec, "10.9.9.9")
    with pytest.raises(Refused, match=r"192.0.2.7 is not in auth.allow \(10.0.0.0/8\)"):
        check_address(spec, "192.0.2.7")


def test_per_subdirectory_lists_fail_closed():
    with pytest.raises(Refused, match="per-subdirectory"):
        check_address(_spec(**{"auth.allow": "/(10.0.0.1|10.0.0.2)"}), "10.0.0.1")


def test_only_privileged_source_ports_pass_the_default_peer_check():
    assert privileged_port("10.0.0.1", 1023) is None
    assert "not privileged" in privileged_port("10.0.0.1", 1024)
    assert "kadalu mount" in privileged_port("10.0.0.1", 49151)
