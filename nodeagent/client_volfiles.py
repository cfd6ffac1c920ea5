"""What this agent's volfile server hands out: FUSE client volfiles of the cluster's volumes, built
from the local metadata copy (any node can serve any volume, control plane up or not), and to whom.

A client volfile carries the volume's credentials, so it goes only to an address the volume's
`auth.allow` admits and its `auth.reject` does not (the volfile server has already checked that
the peer is root on its machine). The lists are read as GlusterFS's auth/addr module reads them,
so one value means the same on the bricks and here."""
import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable

from contracts.states import VOLUME_MOUNTABLE
from contracts.volume_spec import VolumeSpec
from nodeagent.context import AgentContext
from nodeagent.volfile_server import Refused
from volgen import client_volfile

SERVED_STATES = VOLUME_MOUNTABLE
# libglusterfs valid_host_name(): dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(r"(?=.{1,255}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


def _same_address(name: str, peer: str) -> bool:
    try:
        return peer in {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return False


def matches(value: str, peer: str) -> bool:
    """Whether `peer` matches the address list `value` (auth/addr compare_addr_and_update): entries
    separated by commas; an address or host name is compared as an address (a leading "!" is
    ignored there, as GlusterFS does); a CIDR network or a wildcard pattern matches, or with "!"
    matches what it does not cover (and a "!" stays for the entries after it, as in GlusterFS)."""
    negate = False
    for entry in (e.strip() for e in value.split(",")):
        if entry.startswith("!"):
            negate, entry = True, entry[1:]
        if not entry:
            continue
        if _HOST_NAME.fullmatch(entry):
            if _same_address(entry, peer):
                return True
        elif "/" in entry:
            try:
                inside = ipaddress.ip_address(peer) in ipaddress.ip_network(entry, strict=False)
            except ValueError:
                inside = False
            if inside != negate:
                return True
        elif fnmatch.fnmatchcase(peer, entry) != negate:
            return True
    return False


def check_address(spec: VolumeSpec, peer: str) -> None:
    """Raise Refused unless the volume's auth.allow admits `peer` and its auth.reject does not."""
    allow, reject = spec.options.get("auth.allow", "*"), spec.options.get("auth.reject")
    if "(" in allow or (reject and "(" in reject):
        # Per-subdirectory lists ("/dir(addr|addr)") need the mount's subdirectory: fail closed.
        raise Refused(f"volume {spec.name}: per-subdirectory auth.allow/auth.reject lists are not served")
    if reject and matches(reject, peer):
        raise Refused(f"volume {spec.name}: {peer} is in auth.reject")
    if not matches(allow, peer):
        raise Refused(f"volume {spec.name}: {peer} is not in auth.allow ({allow})")


def client_volfile_lookup(ctx: AgentContext) -> Callable[[str, str], str | None]:
    def lookup(key: str, peer: str) -> str | None:
        for entry in ctx.state.load_metadata().get("content", {}).get("volumes", []):
            spec = VolumeSpec.model_validate(entry["spec"])
            if spec.name == key and entry.get("state") in SERVED_STATES:
                check_address(spec, peer)
                return client_volfile(spec)
        return None

    return lookup
