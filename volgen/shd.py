"""The self-heal daemon graph: the volume's protocol/client xlators, its replicate or disperse
sets switched into daemon mode, and debug/io-stats named after the volume on top.

One daemon runs per volume per node. Which bricks' indices it crawls is decided at run time, by
both afr and disperse in 10.3: a brick is "local" when the host name in its pathinfo xattr (the
brick host's name) resolves to an address of the daemon's machine. Seen on one machine with
several loopback "nodes": every daemon crawls every brick, which is harmless (heals take locks)."""
from contracts.volume_spec import VolumeSpec
from volgen.client import protocol_clients, set_xlators
from volgen.defaults import defaults
from volgen.graph import Xlator, render, xlator
from volgen.options import apply_options

HEALS_VOLUME_TYPES = ("replicate", "arbiter", "disperse")

# glusterd's build_shd_graph: these, and `self-heal-daemon enable` (afr and ec read either word).
_AFR_DAEMON = {
    "iam-self-heal-daemon": "yes",
    "self-heal-daemon": "enable",
    "data-self-heal": "on",
    "metadata-self-heal": "on",
    "entry-self-heal": "on",
}
_EC_DAEMON = {
    "iam-self-heal-daemon": "yes",
    "self-heal-daemon": "enable",
}


def shd_graph(spec: VolumeSpec) -> list[Xlator]:
    """The self-heal daemon graph of `spec`, with the volume's options for this graph applied (see
    volgen.options): client connection options, replicate/disperse options (cluster.self-heal-daemon
    off idles the daemon), the client log level. The client-side heal switches
    (cluster.data-self-heal, ...) do not reach it: the daemon always heals."""
    if spec.type not in HEALS_VOLUME_TYPES:
        raise ValueError(f"volume {spec.name} is {spec.type}: only {', '.join(HEALS_VOLUME_TYPES)} volumes heal")
    sets = set_xlators(spec, _EC_DAEMON if spec.type == "disperse" else _AFR_DAEMON, kind="shd")
    # Every set hangs under io-stats: each set's healer threads start on their own child-up
    # events, io-stats only gives the graph one top (glusterd's graph too: no distribute).
    top = xlator(spec.name, "debug/io-stats", defaults("shd", "debug/io-stats"), [s.name for s in sets])
    return apply_options(protocol_clients(spec, "shd") + sets + [top], "shd", spec.options)


def shd_volfile(spec: VolumeSpec) -> str:
    """The volfile of the self-heal daemon of `spec` (replicate, arbiter or disperse)."""
    return render(shd_graph(spec))
