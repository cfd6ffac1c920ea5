"""The client graph (FUSE mount, and the base of the self-heal daemon graph), bottom to top:

protocol/client per brick -> cluster/replicate or cluster/disperse per set ->
cluster/distribute over the sets (only when there are several) -> features/utime ->
a few performance translators -> debug/io-stats named after the volume."""
from contracts.volume_spec import VolumeSpec
from volgen.graph import Xlator, render, stack, xlator


def client_name(spec: VolumeSpec, index: int) -> str:
    return f"{spec.name}-client-{index}"


def protocol_clients(spec: VolumeSpec) -> list[Xlator]:
    """remote-port is given, so clients connect straight to the brick (no glusterd portmapper)."""
    return [
        xlator(client_name(spec, i), "protocol/client", {
            "remote-host": b.address,
            "remote-port": str(b.port),
            "remote-subvolume": b.path,
            "transport-type": "tcp",
            "transport.address-family": "inet",
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
    vol = spec.name
    return stack(data_graph(spec), [
        # Same timestamps on every brick of a set (the client stamps them, not each brick).
        xlator(f"{vol}-utime", "features/utime", {"noatime": "on"}),
        xlator(f"{vol}-write-behind", "performance/write-behind"),
        xlator(f"{vol}-open-behind", "performance/open-behind"),
        xlator(f"{vol}-quick-read", "performance/quick-read"),
        xlator(f"{vol}-md-cache", "performance/md-cache"),
        xlator(vol, "debug/io-stats", {"volume-id": spec.id}),
    ])


def client_volfile(spec: VolumeSpec) -> str:
    """The volfile a client mounts (`glusterfs --volfile-id <vol> -f <this file> <mountpoint>`).

    `spec.options` are not applied here: volume options are mapped onto translators in a later
    layer, so any option (known or not) is accepted and has no effect on this graph yet."""
    return render(client_graph(spec))
