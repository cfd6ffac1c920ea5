"""The brick process graph (glusterfsd), top to bottom:

protocol/server -> debug/io-stats (named after the brick path) -> features/index ->
performance/io-threads -> features/locks [-> features/arbiter] -> storage/posix

The same order glusterd uses for the translators we keep; the arbiter translator sits directly
above posix (as glusterd puts it) so an arbiter brick stores names and metadata but no data."""
from contracts.volume_spec import BrickSpec, VolumeSpec
from volgen.graph import Xlator, render, stack, xlator
from volgen.options import apply_options


def is_arbiter(spec: VolumeSpec, brick: BrickSpec) -> bool:
    """The last brick of each set is the arbiter of an arbiter volume."""
    if spec.type != "arbiter":
        return False
    return any(s[-1].id == brick.id for s in spec.sets())


def _index_options(spec: VolumeSpec, path: str) -> dict[str, str]:
    opts = {"index-base": f"{path}/.glusterfs/indices"}
    if spec.type == "disperse":
        opts["xattrop64-watchlist"] = "trusted.ec.dirty"
    else:
        # distribute too, like glusterd: a later add-brick that turns it into a replica volume
        # finds pending changes already indexed. The trailing "-" keeps volume "v" from
        # matching the xattrs of volume "v2".
        opts["xattrop-dirty-watchlist"] = "trusted.afr.dirty"
        opts["xattrop-pending-watchlist"] = f"trusted.afr.{spec.name}-"
    return opts


def brick_graph(spec: VolumeSpec, brick: BrickSpec, node_uuid: str) -> list[Xlator]:
    vol, path = spec.name, brick.path
    posix = xlator(f"{vol}-posix", "storage/posix", {
        "directory": path,
        "volume-id": spec.id,
        # Answers getxattr trusted.glusterfs.node-uuid: rebalance and geo-replication split
        # their work between nodes by it, and the self-heal daemon gets the same uuid.
        "glusterd-uuid": node_uuid,
    })
    layers = [xlator(f"{vol}-arbiter", "features/arbiter")] if is_arbiter(spec, brick) else []
    layers += [
        xlator(f"{vol}-locks", "features/locks"),
        xlator(f"{vol}-io-threads", "performance/io-threads"),
        xlator(f"{vol}-index", "features/index", _index_options(spec, path)),
        # Clients name this xlator as remote-subvolume, hence the brick path as its name.
        xlator(path, "debug/io-stats", {"unique-id": path, "volume-id": spec.id}),
        xlator(f"{vol}-server", "protocol/server", {
            "transport-type": "tcp",
            "transport.address-family": "inet",
            "transport.socket.listen-port": str(brick.port),
            # Several nodes may share one host (127.0.1.N in tests, several IPs in production):
            # without this the brick listens on 0.0.0.0 and takes the port on every address.
            "transport.socket.bind-address": brick.address,
            "auth-path": path,
            f"auth.addr.{path}.allow": "*",
            f"auth.login.{path}.ssl-allow": "*",
        }),
    ]
    return stack([posix], layers)


def brick_volfile(spec: VolumeSpec, brick: BrickSpec, node_uuid: str) -> str:
    """The volfile of one brick of `spec`, run on the node whose uuid is `node_uuid`, with the
    volume's brick-side options applied (see volgen.options)."""
    if brick not in spec.bricks:
        raise ValueError(f"brick {brick.id} is not part of volume {spec.name}")
    graph = apply_options(brick_graph(spec, brick, node_uuid), "brick", spec.options, brick_path=brick.path)
    return render(graph)
