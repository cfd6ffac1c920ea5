"""Which address a login is counted against: X-Forwarded-For only counts when a trusted proxy sent it."""
from controlplane.api.client_address import client_address
from controlplane.settings import Settings

TRUSTED = Settings(trusted_proxies="10.0.0.1, 10.1.0.0/16, fd00::/8").trusted_proxy_networks


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_address("203.0.113.5", ["198.51.100.1"], ()) == "203.0.113.5"


def test_an_untrusted_peer_cannot_pick_its_address_with_the_header():
    assert client_address("203.0.113.5", ["198.51.100.1"], TRUSTED) == "203.0.113.5"


def test_a_trusted_proxy_names_the_client():
    assert client_address("10.0.0.1", ["198.51.100.1"], TRUSTED) == "198.51.100.1"


def test_the_first_untrusted_hop_from_the_right_is_the_client():
    # the client wrote a fake first entry; our proxies appended the real hops
    assert client_address("10.0.0.1", ["6.6.6.6, 198.51.100.1", "10.1.4.4"], TRUSTED) == "198.51.100.1"


def test_garbage_in_the_header_stops_at_the_last_vouched_address():
    assert client_address("10.0.0.1", ["not-an-ip"], TRUSTED) == "10.0.0.1"
    assert client_address("10.0.0.1", ["198.51.100.1, 10.1.0.9, bogus"], TRUSTED) == "10.0.0.1"


def test_ipv6_proxies():
    assert client_address("fd00::1", ["2001:db8::7"], TRUSTED) == "2001:db8::7"


def test_only_trusted_proxies_and_no_client_gives_the_innermost_proxy():
    assert client_address("10.0.0.1", ["10.1.0.2"], TRUSTED) == "10.1.0.2"
