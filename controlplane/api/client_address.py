"""The address a request comes from, for per-address limits. X-Forwarded-For is anyone's to write,
so it is believed only when the peer is one of KADALU_TRUSTED_PROXIES, and then only up to the
first hop that is not a trusted proxy itself."""
import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from controlplane.api.deps import SettingsDep


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: list[str], trusted: tuple) -> str:
    """Walk X-Forwarded-For from the right (the hop nearest to us) while the sender is trusted."""
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    address = peer
    while _is_trusted(address, trusted) and hops:
        candidate = _ip(hops.pop())
        if candidate is None:
            break  # garbage from a client: stop at the last address a trusted proxy vouched for
        address = str(candidate)
    return address


def _is_trusted(address: str, trusted: tuple) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in trusted)


def get_client_address(request: Request, settings: SettingsDep) -> str:
    peer = request.client.host if request.client else "unknown"
    return client_address(peer, request.headers.getlist("x-forwarded-for"), settings.trusted_proxy_networks)


ClientAddress = Annotated[str, Depends(get_client_address)]
