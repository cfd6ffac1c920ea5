"""The brick process graph (glusterfsd), glusterd 10.3's (glusterd-volgen.c, server_graph_table),
bottom to top:

storage/posix [-> features/arbiter] -> features/trash -> features/changelog -> features/bitrot-stub
-> features/access-control -> features/locks -> features/worm -> features/read-only ->
features/leases -> features/upcall -> performance/io-threads -> features/selinux -> features/marker
-> features/barrier -> features/index -> features/quota [-> features/cdc] [-> features/namespace]
[-> features/sdfs] -> debug/io-stats (named after the brick path) -> protocol/server

Every translator without brackets is always there, switched on and off by its own option (a value,
not a change of shape): `features.read-only on` sets `read-only on` on features/read-only, which
a running brick takes in place. The bracketed ones come and go (volgen.shape lists the options
that do that). features/arbiter sits directly above posix on the last brick of each arbiter set,
so that brick stores names and metadata but no data. Default option values: volgen.defaults.

Who may use a brick (protocol/server authentication, GlusterFS's auth/addr and auth/login modules):
a client must present the volume's username and password (auth.login; `strict-auth-accept` makes
a client without them a REJECT, not a "don't care" that an address match would turn into an
accept) and come from an address the volume's `auth.allow` admits (`*` unless set). With TLS on
(`server.ssl`), a client certificate signed by the CA stands in for the password, as in GlusterFS.
What a connected client may do is then decided per file by features/access-control, from the
uid/gids the client sends: clients holding the credentials are trusted to send true ones. Unlike
glusterd, access-control is always there: `features.acl off` (a debug switch of glusterd's) is not
honoured (volgen.shape.NOT_HONOURED)."""
from contracts.volume_spec import BrickSpec, VolumeSpec
from volgen.defaults import defaults
from volgen.graph import Xlator, render, stack, xlator
from volgen.options import apply_options, switch_on
from volgen.quotad import QUOTA_VERSION
from volgen.shape import DEBUG_SWITCHES


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
    return {**opts, **defaults("brick", "protocol/server")}


def marker_timestamp_file(brick: BrickSpec) -> str:
    """features/marker's timestamp-file (geo-replication's xtime start mark). glusterd keeps one
    per volume in its working directory; kadalu keeps it with the brick, which its node owns."""
    return f"{brick.path}/.glusterfs/marker.tstamp"


def _posix_options(spec: VolumeSpec, brick: BrickSpec, node_uuid: str, shared_brick_count: int) -> dict[str, str]:
    opts = {
        "directory": brick.path,
        "volume-id": spec.id,
        # Answers getxattr trusted.glusterfs.node-uuid: rebalance and geo-replication split
        # their work between nodes by it, and the self-heal daemon gets the same uuid.
        # (glusterd passes it on glusterfsd's command line: --xlator-option *-posix.glusterd-uuid.)
        "glusterd-uuid": node_uuid,
        # statfs divided by the bricks of this volume on this filesystem of this node: df on a
        # mount shows the filesystem once, not once per brick on it (glusterd's fs_share_count).
        "shared-brick-count": str(shared_brick_count),
        **defaults("brick", "storage/posix"),
    }
    opts_ = spec.options
    if any(switch_on(opts_, name, False) for name in ("features.quota", "features.trash", "update-link-count-parent")):
        opts["update-link-count-parent"] = "on"  # glusterd's brick_graph_add_posix
    return opts


def brick_graph(spec: VolumeSpec, brick: BrickSpec, node_uuid: str, shared_brick_count: int = 1) -> list[Xlator]:
    vol, path, opts = spec.name, brick.path, spec.options

    def feature(suffix: str, type_: str, fixed: dict[str, str] | None = None) -> Xlator:
        fixed = fixed or {}
        return xlator(f"{vol}-{suffix}", type_,
                      {**fixed, **{k: v for k, v in defaults("brick", type_).items() if k not in fixed}})

    posix = xlator(f"{vol}-posix", "storage/posix", _posix_options(spec, brick, node_uuid, shared_brick_count))
    layers = [xlator(f"{vol}-arbiter", "features/arbiter")] if is_arbiter(spec, brick) else []
    layers += [
        feature("trash", "features/trash", {"brick-path": path}),
        # changelog-dir: geo-replication's history crawl expects exactly this directory.
        feature("changelog", "features/changelog", {"changelog-brick": path,
                                                    "changelog-dir": f"{path}/.glusterfs/changelogs"}),
        feature("bitrot-stub", "features/bitrot-stub", {"export": path}),
        # POSIX permission checks (mode bits and ACLs) against the caller's uid/gids: without it a
        # brick does whatever a connected client asks, as root (FUSE mounts hide this: the
        # kernel checks there; libgfapi clients such as Samba and NFS-Ganesha do not).
        feature("access-control", "features/access-control"),
        feature("locks", "features/locks"),
        feature("worm", "features/worm"),
        feature("read-only", "features/read-only"),
        feature("leases", "features/leases"),
        feature("upcall", "features/upcall"),
        feature("io-threads", "performance/io-threads"),
        feature("selinux", "features/selinux"),
        feature("marker", "features/marker", {"volume-uuid": spec.id,
                                              "timestamp-file": marker_timestamp_file(brick),
                                              # bumped by every quota re-enable (volgen.quotad)
                                              **({"quota-version": opts[QUOTA_VERSION]} if QUOTA_VERSION in opts else {})}),
        feature("barrier", "features/barrier"),
        xlator(f"{vol}-index", "features/index", _index_options(spec, path)),
        # server-quota follows features.quota, as glusterd's brick_graph_add_quota writes it.
        feature("quota", "features/quota", {"volume-uuid": vol,
                                            **({"server-quota": opts["features.quota"]} if "features.quota" in opts else {})}),
    ]
    if switch_on(opts, "network.compression", False):
        layers.append(feature("cdc", "features/cdc", {"mode": "server"}))
    if switch_on(opts, "features.tag-namespaces", False):
        layers.append(feature("namespace", "features/namespace"))
    if switch_on(opts, "features.sdfs", False):
        layers.append(feature("sdfs", "features/sdfs", {"pass-through": "false"}))
    # Clients name this xlator as remote-subvolume, hence the brick path as its name.
    layers.append(xlator(path, "debug/io-stats", {"unique-id": path, "volume-id": spec.id,
                                                 **defaults("brick", "debug/io-stats")}))
    layers = _with_debug(spec, [posix] + layers)
    return stack(layers[:1], layers[1:] + [xlator(f"{vol}-server", "protocol/server", server_options(spec, brick))])


def _with_debug(spec: VolumeSpec, graph: list[Xlator]) -> list[Xlator]:
    """debug.trace / debug.error-gen / debug.delay-gen set to a translator's key (glusterd's:
    "posix", "locks", "io-stats", ...) put that debug translator right above it."""
    wanted = [(spec.options.get(name, "off"), suffix, type_) for name, suffix, type_ in DEBUG_SWITCHES]
    if all(where == "off" for where, _, _ in wanted):
        return graph
    out = []
    for x in graph:
        out.append(x)
        key = "io-stats" if x.type == "debug/io-stats" else x.name.removeprefix(f"{spec.name}-")
        out += [xlator(f"{spec.name}-{suffix}", type_) for where, suffix, type_ in wanted if where == key]
    return out


def brick_volfile(spec: VolumeSpec, brick: BrickSpec, node_uuid: str, shared_brick_count: int = 1) -> str:
    """The volfile of one brick of `spec`, run on the node whose uuid is `node_uuid`, with the
    volume's brick-side options applied (see volgen.options). `shared_brick_count`: how many bricks
    of this volume on this node sit on the brick's filesystem (the node knows; 1 if unknown)."""
    if brick not in spec.bricks:
        raise ValueError(f"brick {brick.id} is not part of volume {spec.name}")
    if shared_brick_count < 1:
        raise ValueError(f"shared_brick_count {shared_brick_count}: at least 1 (the brick itself)")
    graph = apply_options(brick_graph(spec, brick, node_uuid, shared_brick_count), "brick", spec.options,
                          brick_path=brick.path)
    return render(graph)
