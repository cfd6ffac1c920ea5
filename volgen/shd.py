"""The self-heal daemon graph: the volume's protocol/client xlators, its replicate or disperse
sets switched into daemon mode, and debug/io-stats named after the volume on top.

One daemon runs per volume per node. Which bricks it crawls is decided at run time: afr compares
`--xlator-option *replicate*.node-uuid=<uuid>` with each brick's posix glusterd-uuid; disperse has
no such option and treats a brick as its own when the brick's host name resolves locally."""
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
