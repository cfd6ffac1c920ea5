"""Which volume options change the SHAPE of a graph (add, remove or retype a translator) and which
change only option values; and the options that change nothing because they belong to daemons
kadalu deliberately does not run. (The control plane and the agents decide "in place or restart"
by comparing volfile shapes, volgen.topology; this module says which options can cause which.)

A running glusterfs process takes a new graph of the same shape in place (glusterfsd's reconfigure:
each translator's reconfigure() gets its new options); a new shape needs a graph switch (clients
do that live) or a restart (bricks). The shape of a volfile is its ordered list of (name, type):
`shape()` reads it from volfile text, so two volfiles can be compared without knowing why they differ.

As in glusterd 10.3, the brick translators that features switch on and off are always in the brick
graph with the feature off (features/read-only with `read-only off`, features/worm, features/trash,
changelog, bitrot-stub, leases, upcall, selinux, marker, barrier, quota): `features.read-only on`
is a value, taken in place by a running brick. Only the options below add or remove translators.
"""
from volgen.options import GraphKind
from volgen.topology import graph_shape

# Options whose value decides whether a translator is in a graph of that kind (or its type).
# Any change of one of these between two specs can change the graph's shape; no other option can
# (the volume's type and its bricks aside).
SHAPE_OPTIONS: dict[GraphKind, frozenset[str]] = {
    "brick": frozenset({
        "features.sdfs",  # features/sdfs above quota
        "features.tag-namespaces",  # features/namespace above quota
        "network.compression",  # features/cdc above quota (and on clients)
        "debug.trace", "debug.error-gen", "debug.delay-gen",  # a debug translator above the named one
    }),
    "client": frozenset({
        "performance.write-behind", "performance.read-ahead", "performance.readdir-ahead",
        "performance.io-cache", "performance.open-behind", "performance.quick-read", "performance.nl-cache",
        "performance.stat-prefetch", "performance.client-io-threads",
        "performance.parallel-readdir",  # readdir-ahead on every child of distribute
        "features.shard", "features.ctime", "features.cloudsync", "network.compression",
        "cluster.nufa", "cluster.switch",  # distribute's type
        "debug.trace", "debug.error-gen", "debug.delay-gen",  # a debug translator under io-stats
    }),
    "shd": frozenset(),
}

# Debug translators (glusterd's check_and_add_debug_xl): the value names the translator to sit
# above, by glusterd's keys (brick: "posix", "locks", "io-threads", ...; client: "client").
DEBUG_SWITCHES = (("debug.trace", "trace", "debug/trace"), ("debug.error-gen", "error-gen", "debug/error-gen"),
                  ("debug.delay-gen", "delay-gen", "debug/delay-gen"))

# Options accepted (glusterd accepts them too) that change no graph kadalu generates, and why.
# `volume set` stores them and answers with this reason as a warning (docs/volumes.md lists them).
_GNFS = "for the gNFS server, which kadalu does not run (serve NFS with NFS-Ganesha over libgfapi)"
_BITD = "for the bit-rot signer and scrubber daemons (bitd), which kadalu does not run"
_SNAPD = "for user-serviceable snapshots (snapd and snapview translators), which kadalu does not run"
_GFPROXY = "for the gfproxy daemon (gfproxyd), which kadalu does not run"
NO_EFFECT: dict[str, str] = {
    **{name: _GNFS for name in (
        "performance.nfs.flush-behind", "performance.nfs.io-cache", "performance.nfs.io-threads",
        "performance.nfs.quick-read", "performance.nfs.read-ahead", "performance.nfs.stat-prefetch",
        "performance.nfs.strict-o-direct", "performance.nfs.strict-write-ordering",
        "performance.nfs.write-behind", "performance.nfs.write-behind-trickling-writes",
        "performance.nfs.write-behind-window-size")},
    **{name: _BITD for name in (
        "features.bitrot", "features.scrub", "features.scrub-freq", "features.scrub-throttle",
        "features.signer-threads", "features.expiry-time")},
    **{name: _SNAPD for name in ("features.uss", "features.snapshot-directory", "features.show-snapshot-directory")},
    **{name: _GFPROXY for name in ("features.failover-hosts", "features.timeout")},
    # Not a daemon: kadalu keeps features/access-control in every brick graph, whatever this says.
    "features.acl": "not honoured: kadalu keeps features/access-control on every brick (permission checks "
                    "for libgfapi clients that the kernel does not check)",
}


def no_effect_reasons() -> dict[str, str]:
    """NO_EFFECT and the gNFS options the option table lists apart (optiontable.not_run: nfs.*)."""
    from optiontable import not_run
    return {**{name: _GNFS for name in not_run()}, **NO_EFFECT}


def shape(volfile: str) -> list[tuple[str, str]]:
    """The ordered (name, type) of every translator in volfile text (volgen.topology.graph_shape)."""
    return graph_shape(volfile)


def changes_shape(kind: GraphKind, names: set[str] | list[str]) -> bool:
    """Whether changing the options `names` can change the shape of a `kind` graph."""
    return bool(SHAPE_OPTIONS[kind] & set(names))
