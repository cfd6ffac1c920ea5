"""The brick process graph (glusterfsd), top to bottom:

protocol/server -> debug/io-stats (named after the brick path) -> features/index ->
performance/io-threads -> features/locks -> features/access-control [-> features/arbiter] ->
storage/posix

The same order glusterd uses for the translators we keep (its server_graph_table); the arbiter
translator sits directly above posix so an arbiter brick stores names and metadata but no data.

Who may use a brick (protocol/server authentication, GlusterFS's auth/addr and auth/login modules):
a client must present the volume's username and password (auth.login; `strict-auth-accept` makes
a client without them a REJECT, not a "don't care" that an address match would turn into an
accept) and come from an address the volume's `auth.allow` admits (`*` unless set). With TLS on
(`server.ssl`), a client certificate signed by the CA stands in for the password, as in GlusterFS.
What a connected client may do is then decided per file by features/access-control, from the
uid/gids the client sends: clients holding the credentials are trusted to send true ones."""
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


def server_options(spec: VolumeSpec, brick: BrickSpec) -> dict[str, str]:
    """protocol/server options; volume options (auth.allow, auth.reject, server.ssl, ssl.*) are
    applied over these afterwards (volgen.options)."""
    path = brick.path
    opts = {
        "transport-type": "tcp",
        "transport.address-family": "inet",
        "transport.socket.listen-port": str(brick.port),
        # Several nodes may share one host (127.0.1.N in tests, several IPs in production):
        # without this the brick listens on 0.0.0.0 and takes the port on every address.
        "transport.socket.bind-address": brick.address,
        "auth-path": path,
        f"auth.addr.{path}.allow": "*",  # the volume's auth.allow replaces it
        f"auth.login.{path}.ssl-allow": "*",  # the volume's auth.ssl-allow replaces it
    }
    if spec.auth_username and spec.auth_password:
        opts[f"auth.login.{path}.allow"] = spec.auth_username
        opts[f"auth.login.{spec.auth_username}.password"] = spec.auth_password
        # Without it auth/login answers "don't care" to a client that sends no username, and
        # auth/addr's accept of its address lets it in (glusterd's default for every volume).
        opts["strict-auth-accept"] = "true"
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
        # POSIX permission checks (mode bits and ACLs) against the caller's uid/gids: without it a
        # brick does whatever a connected client asks, as root (FUSE mounts hide this: the
        # kernel checks there; libgfapi clients such as Samba and NFS-Ganesha do not).
        xlator(f"{vol}-access-control", "features/access-control"),
        xlator(f"{vol}-locks", "features/locks"),
        xlator(f"{vol}-io-threads", "performance/io-threads"),
        xlator(f"{vol}-index", "features/index", _index_options(spec, path)),
        # Clients name this xlator as remote-subvolume, hence the brick path as its name.
        xlator(path, "debug/io-stats", {"unique-id": path, "volume-id": spec.id}),
        xlator(f"{vol}-server", "protocol/server", server_options(spec, brick)),
    ]
    return stack([posix], layers)


def brick_volfile(spec: VolumeSpec, brick: BrickSpec, node_uuid: str) -> str:
    """The volfile of one brick of `spec`, run on the node whose uuid is `node_uuid`, with the
    volume's brick-side options applied (see volgen.options)."""
    if brick not in spec.bricks:
        raise ValueError(f"brick {brick.id} is not part of volume {spec.name}")
    graph = apply_options(brick_graph(spec, brick, node_uuid), "brick", spec.options, brick_path=brick.path)
    return render(graph)
