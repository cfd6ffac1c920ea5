"""The client graph (FUSE mount, and the base of the self-heal daemon graph), bottom to top:

protocol/client per brick -> cluster/replicate or cluster/disperse per set ->
cluster/distribute over the sets (only when there are several) -> [features/shard] ->
features/utime -> the performance translators switched on -> debug/io-stats named after the volume.

Volume options are applied last (volgen.options); the switches among them decide which optional
translators are there."""
from contracts.volume_spec import VolumeSpec
from volgen.graph import Xlator, render, stack, xlator
from volgen.options import apply_options, switch_on

# The performance translators glusterd stacks over a volume, bottom to top in its order (the order
# of its volume-set table), with the switch of each and its default. The defaults are the option
# table's (a unit test holds them to it; written out so a volume without options needs no table),
# except performance.client-io-threads: glusterd turns it off for replicate and disperse volumes
# when it creates them, and kadalu leaves it off for every volume unless asked.
PERF_SWITCHES = [
    ("performance.write-behind", "write-behind", "performance/write-behind", True),
    ("performance.read-ahead", "read-ahead", "performance/read-ahead", False),
    ("performance.readdir-ahead", "readdir-ahead", "performance/readdir-ahead", False),
    ("performance.io-cache", "io-cache", "performance/io-cache", False),
    ("performance.open-behind", "open-behind", "performance/open-behind", True),
    ("performance.quick-read", "quick-read", "performance/quick-read", True),
    ("performance.nl-cache", "nl-cache", "performance/nl-cache", False),
    ("performance.stat-prefetch", "md-cache", "performance/md-cache", True),
    ("performance.client-io-threads", "io-threads", "performance/io-threads", False),
]
SHARD_DEFAULT, CTIME_DEFAULT = False, True  # features.shard, features.ctime
# Switches the client graph implements (the others are accepted and inert, see volgen.options).
CLIENT_SWITCHES = {name for name, *_ in PERF_SWITCHES} | {"features.shard", "features.ctime"}


def client_name(spec: VolumeSpec, index: int) -> str:
    return f"{spec.name}-client-{index}"


def protocol_clients(spec: VolumeSpec) -> list[Xlator]:
    """remote-port is given, so clients connect straight to the brick (no glusterd portmapper).

    Every client of the volume (mounts, the self-heal daemon, rebalance) carries the volume's
    credentials when the spec has them: bricks refuse a client without them (volgen.brick)."""
    login = {"username": spec.auth_username, "password": spec.auth_password} \
        if spec.auth_username and spec.auth_password else {}
    return [
        xlator(client_name(spec, i), "protocol/client", {
            "remote-host": b.address,
            "remote-port": str(b.port),
            "remote-subvolume": b.path,
            "transport-type": "tcp",
            "transport.address-family": "inet",
            **login,
        })
        for i, b in enumerate(spec.bricks)
    ]


def set_xlators(spec: VolumeSpec, extra: dict[str, str] | None = None) -> list[Xlator]:
    """One cluster xlator per replica/disperse set; none for a distribute volume.

    `extra` options are added to every set (the self-heal daemon's switches)."""
    if spec.type == "distribute":
        return []
    sets, out, first = spec.sets(), [], 0
    for k, bricks in enumerate(sets):
        children = [client_name(spec, first + j) for j in range(len(bricks))]
        first += len(bricks)
        if spec.type == "disperse":
            opts = {"redundancy": str(spec.redundancy_count)}
            out.append(xlator(f"{spec.name}-disperse-{k}", "cluster/disperse", {**opts, **(extra or {})}, children))
            continue
        # afr-pending-xattr names the trusted.afr.<name> xattr kept per child: the client names,
        # as glusterd does, so bricks stay readable by stock gluster tools.
        opts = {"afr-pending-xattr": ",".join(children)}
        if spec.type == "arbiter":
            opts["arbiter-count"] = str(spec.arbiter_count or 1)
        if len(bricks) >= 3:
            # Writes need a majority of the set: a lone survivor must not accept data the others
            # never see (split brain). Replica 2 keeps afr's default, as glusterd does.
            opts["quorum-type"] = "auto"
        out.append(xlator(f"{spec.name}-replicate-{k}", "cluster/replicate", {**opts, **(extra or {})}, children))
    return out


def data_graph(spec: VolumeSpec) -> list[Xlator]:
    """Clients, sets and distribute: everything below the features/performance layers."""
    clients, sets = protocol_clients(spec), set_xlators(spec)
    children = [x.name for x in (sets or clients)]
    graph = clients + sets
    if len(children) > 1:
        graph.append(xlator(f"{spec.name}-dht", "cluster/distribute", subvolumes=children))
    return graph


def client_graph(spec: VolumeSpec) -> list[Xlator]:
    vol, opts = spec.name, spec.options
    layers = []
    if switch_on(opts, "features.shard", SHARD_DEFAULT):
        layers.append(xlator(f"{vol}-shard", "features/shard"))
    if switch_on(opts, "features.ctime", CTIME_DEFAULT):
        # Same timestamps on every brick of a set (the client stamps them, not each brick).
        layers.append(xlator(f"{vol}-utime", "features/utime", {"noatime": "on"}))
    layers += [xlator(f"{vol}-{suffix}", type_) for name, suffix, type_, default in PERF_SWITCHES
               if switch_on(opts, name, default)]
    layers.append(xlator(vol, "debug/io-stats", {"volume-id": spec.id}))
    return apply_options(stack(data_graph(spec), layers), "client", opts)


def client_volfile(spec: VolumeSpec) -> str:
    """The volfile a client mounts (`glusterfs --volfile-id <vol> -f <this file> <mountpoint>`),
    with the volume's options applied (see volgen.options)."""
    return render(client_graph(spec))
