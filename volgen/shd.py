"""The self-heal daemon graph: the volume's protocol/client xlators, its replicate or disperse
sets switched into daemon mode, and debug/io-stats named after the volume on top.

One daemon runs per volume per node. Which bricks' indices it crawls is decided at run time, by
both afr and disperse in 10.3: a brick is "local" when the host name in its pathinfo xattr (the
brick host's name) resolves to an address of the daemon's machine. Seen on one machine with
several loopback "nodes": every daemon crawls every brick, which is harmless (heals take locks)."""
from contracts.volume_spec import VolumeSpec
from volgen.client import protocol_clients, set_xlators
from volgen.graph import render, xlator

HEALS_VOLUME_TYPES = ("replicate", "arbiter", "disperse")

_AFR_DAEMON = {
    "iam-self-heal-daemon": "yes",
    "self-heal-daemon": "on",
    "data-self-heal": "on",
    "metadata-self-heal": "on",
    "entry-self-heal": "on",
}
_EC_DAEMON = {
    "iam-self-heal-daemon": "yes",
    "self-heal-daemon": "on",
}


def shd_volfile(spec: VolumeSpec) -> str:
    """The volfile of the self-heal daemon of `spec` (replicate, arbiter or disperse).

    `spec.options` are not applied here: volume options are mapped onto translators in a later
    layer, so any option (known or not) is accepted and has no effect on this graph yet."""
    if spec.type not in HEALS_VOLUME_TYPES:
        raise ValueError(f"volume {spec.name} is {spec.type}: only {', '.join(HEALS_VOLUME_TYPES)} volumes heal")
    sets = set_xlators(spec, _EC_DAEMON if spec.type == "disperse" else _AFR_DAEMON)
    # Every set hangs under io-stats: each set's healer threads start on their own child-up
    # events, io-stats only gives the graph one top.
    top = xlator(spec.name, "debug/io-stats", {"volume-id": spec.id}, [s.name for s in sets])
    return render(protocol_clients(spec) + sets + [top])
