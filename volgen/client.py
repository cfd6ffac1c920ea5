"""The client graph (FUSE mount, and the base of the self-heal daemon graph), glusterd 10.3's
(glusterd-volgen.c, client_graph_builder), bottom to top:

protocol/client per brick -> cluster/replicate or cluster/disperse per set -> cluster/distribute
over the sets (always, one set or a distribute volume of one brick too: geo-replication's
changelog records renames only when distribute marks them) -> [features/shard] ->
[features/utime] -> [features/cdc] -> the performance translators switched on -> debug/io-stats
named after the volume.

Volume options are applied last (volgen.options); the switches among them decide which optional
translators are there (volgen.shape). Default option values: volgen.defaults."""
from contracts.volume_spec import VolumeSpec
from volgen.defaults import defaults
from volgen.graph import Xlator, render, stack, xlator
from volgen.options import GraphKind, apply_options, switch_on, with_options
from volgen.shape import DEBUG_SWITCHES

# The performance translators glusterd stacks over a volume, bottom to top in its order (the order
# of its volume-set table), with the switch of each and its default. The defaults are the option
# table's (a unit test holds them to it; written out so a volume without options needs no table),
# except performance.client-io-threads: glusterd turns it off when it creates a replicate (or
# arbiter) volume and leaves it on for the others (client_io_threads_default).
PERF_SWITCHES = [
    ("performance.write-behind", "write-behind", "performance/write-behind", True),
    ("performance.read-ahead", "read-ahead", "performance/read-ahead", False),
    ("performance.readdir-ahead", "readdir-ahead", "performance/readdir-ahead", False),
    ("performance.io-cache", "io-cache", "performance/io-cache", False),
    ("performance.open-behind", "open-behind", "performance/open-behind", True),
    ("performance.quick-read", "quick-read", "performance/quick-read", True),
    ("performance.nl-cache", "nl-cache", "performance/nl-cache", False),
    ("performance.stat-prefetch", "md-cache", "performance/md-cache", True),
    ("performance.client-io-threads", "io-threads", "performance/io-threads", True),
]
SHARD_DEFAULT, CTIME_DEFAULT = False, True  # features.shard, features.ctime
# Switches the client graph implements (the others are accepted and inert, see volgen.options).
CLIENT_SWITCHES = {name for name, *_ in PERF_SWITCHES} | {
    "features.shard", "features.ctime", "network.compression", "performance.parallel-readdir", "cluster.nufa",
    "cluster.switch", "features.cloudsync", "debug.trace", "debug.error-gen", "debug.delay-gen"}


def client_io_threads_default(spec: VolumeSpec) -> bool:
    """glusterd stores performance.client-io-threads off on every replicate volume it creates."""
    return spec.type not in ("replicate", "arbiter")


def client_name(spec: VolumeSpec, index: int) -> str:
    return f"{spec.name}-client-{index}"


def protocol_clients(spec: VolumeSpec, kind: GraphKind = "client") -> list[Xlator]:
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
            **defaults(kind, "protocol/client"),
        })
        for i, b in enumerate(spec.bricks)
    ]


def set_xlators(spec: VolumeSpec, extra: dict[str, str] | None = None, kind: GraphKind = "client") -> list[Xlator]:
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
        # No quorum-type: afr itself picks "auto" (writes need a majority of the set) for three
        # or more bricks and none for two, as under glusterd, which writes none either.
        opts = {"afr-pending-xattr": ",".join(children), "volume-id": spec.id}
        if spec.type == "arbiter":
            opts["arbiter-count"] = str(spec.arbiter_count or 1)
        # glusterd stores cluster.granular-entry-heal on for every replicate volume it creates.
        opts["granular-entry-heal"] = "on"
        out.append(xlator(f"{spec.name}-replicate-{k}", "cluster/replicate",
                          {**opts, **(extra or {}), **defaults(kind, "cluster/replicate")}, children))
    return out


def distribute_type(options: dict[str, str]) -> str:
    """cluster.nufa and cluster.switch replace distribute by its variants (never both: the server
    refuses that, as glusterd does)."""
    if switch_on(options, "cluster.nufa", False):
        return "cluster/nufa"
    if switch_on(options, "cluster.switch", False):
        return "cluster/switch"
    return "cluster/distribute"


def _bytes(text: str) -> int:
    """A stored size (a byte count, optiontable.sizes) or glusterd's default spelling ("10MB": 2^20)."""
    units = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "B": 1}
    for unit, factor in units.items():
        if text.upper().endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * factor
    return int(text)


def _split_rda_cache(spec: VolumeSpec, children: int) -> dict[str, str]:
    """glusterd shares readdir-ahead's cache limit between the readdir-aheads of parallel-readdir
    (one per child of distribute), raising request sizes that no longer fit (glusterd-volgen.c,
    set_volfile_rda_cache_size), over the volume's own values."""
    if children <= 1 or not switch_on(spec.options, "performance.readdir-ahead", False):
        return {}
    rda = defaults("client", "performance/readdir-ahead")
    cache = _bytes(spec.options.get("performance.rda-cache-limit", rda["rda-cache-limit"])) // children
    request = _bytes(spec.options.get("performance.rda-request-size", rda["rda-request-size"]))
    out = {"rda-cache-limit": f"{max(cache, 4096)}B"}
    if cache < request:
        out["rda-request-size"] = f"{max(cache, 4096)}B"
    return out


def data_graph(spec: VolumeSpec, clients_kind: GraphKind = "client") -> list[Xlator]:
    """Clients, sets and distribute: everything below the features/performance layers. With
    performance.parallel-readdir on, a readdir-ahead sits on every child of distribute.
    `clients_kind` "shd": protocol/client as glusterd writes it for its own daemons (rebalance),
    without send-gids."""
    clients, sets = protocol_clients(spec, clients_kind), set_xlators(spec)
    graph = clients + sets
    children = [x.name for x in (sets or clients)]
    if switch_on(spec.options, "performance.parallel-readdir", False):
        opts = {**defaults("client", "performance/readdir-ahead"), "parallel-readdir": "on"}
        rda = [xlator(f"{spec.name}-readdir-ahead-{i}", "performance/readdir-ahead", opts, [child])
               for i, child in enumerate(children)]
        graph += rda
        children = [x.name for x in rda]
    type_ = distribute_type(spec.options)
    return graph + [xlator(f"{spec.name}-dht", type_, defaults("client", type_), children)]


def client_graph(spec: VolumeSpec) -> list[Xlator]:
    vol, opts = spec.name, spec.options
    layers = []
    if switch_on(opts, "features.cloudsync", False):
        layers.append(xlator(f"{vol}-cloudsync", "features/cloudsync"))
    if switch_on(opts, "features.shard", SHARD_DEFAULT):
        layers.append(xlator(f"{vol}-shard", "features/shard"))
    if switch_on(opts, "features.ctime", CTIME_DEFAULT):
        # Same timestamps on every brick of a set (the client stamps them, not each brick).
        layers.append(xlator(f"{vol}-utime", "features/utime", defaults("client", "features/utime")))
    if switch_on(opts, "network.compression", False):
        layers.append(xlator(f"{vol}-cdc", "features/cdc", {"mode": "client"}))
    for name, suffix, type_, default in PERF_SWITCHES:
        if name == "performance.client-io-threads":
            default = client_io_threads_default(spec)
        if name == "performance.readdir-ahead" and switch_on(opts, "performance.parallel-readdir", False):
            continue  # on every child of distribute instead (data_graph)
        if switch_on(opts, name, default):
            layers.append(xlator(f"{vol}-{suffix}", type_, defaults("client", type_)))
    # Debug translators set to "client" sit right under io-stats (glusterd's check_and_add_debug_xl).
    layers += [xlator(f"{vol}-{suffix}", type_) for name, suffix, type_ in DEBUG_SWITCHES
               if opts.get(name) == "client"]
    layers.append(xlator(vol, "debug/io-stats", defaults("client", "debug/io-stats")))
    graph = apply_options(stack(data_graph(spec), layers), "client", opts)
    split = _split_rda_cache(spec, len(spec.sets()) if spec.type != "distribute" else len(spec.bricks))
    if split and switch_on(opts, "performance.parallel-readdir", False):
        graph = [with_options(x, list(split.items())) if x.type == "performance/readdir-ahead" else x for x in graph]
    return graph


def client_volfile(spec: VolumeSpec) -> str:
    """The volfile a client mounts (`glusterfs --volfile-id <vol> -f <this file> <mountpoint>`),
    with the volume's options applied (see volgen.options)."""
    return render(client_graph(spec))
