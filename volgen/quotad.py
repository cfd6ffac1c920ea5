"""Quota: the switches a volume with quota enabled carries, and the quota daemon's graph.

Quota enabled is stored as volume options, the way glusterd stores it (`features.quota`,
`features.inode-quota`, `features.quota-deem-statfs`, all on), plus `features.quota-version`, the
number glusterd keeps in the volume's info file and bumps on every re-enable: the brick's
features/marker takes it as `quota-version`, and xattrs of an older version are ignored, so a
re-enabled volume counts afresh. Users do not set these with `volume set`: `kadalu volume quota
enable|disable` does (controlplane/services/quota_ops.py).

The quota daemon (glusterd's build_quotad_graph): features/quotad on top, with
`option <vol>.volume-id <vol>` per volume, over one cluster/distribute named after each volume with
quota on, over that volume's sets and protocol/clients. Bricks' features/quota ask it, over the unix
socket /var/run/gluster/quotad.socket, for a directory's size summed over the whole volume. That
socket path is compiled into GlusterFS 10.3 (quotad-aggregator.c sets its listen-path and
quota-enforcer-client.c its connect-path over any option): it cannot be moved per agent."""
from contracts.volume_spec import VolumeSpec
from volgen.client import protocol_clients, set_xlators
from volgen.defaults import defaults
from volgen.graph import Xlator, render, xlator
from volgen.options import apply_options, switch_on

QUOTA_VERSION = "features.quota-version"
# What `quota enable` sets (glusterd's glusterd_quota_enable + its default deem-statfs on).
ENABLED_OPTIONS = {"features.quota": "on", "features.inode-quota": "on", "features.quota-deem-statfs": "on"}
# Options only the quota commands set or reset (`volume set` refuses them, as glusterd does).
QUOTA_OWNED = frozenset({"features.quota", "features.inode-quota", QUOTA_VERSION})
QUOTAD_SOCKET = "/var/run/gluster/quotad.socket"


def quota_enabled(spec: VolumeSpec) -> bool:
    return switch_on(spec.options, "features.quota", False)


def quota_version(options: dict[str, str]) -> int:
    try:
        return max(0, int(options.get(QUOTA_VERSION, "0")))
    except ValueError:
        return 0


def _volume_part(spec: VolumeSpec) -> list[Xlator]:
    clients, sets = protocol_clients(spec, "shd"), set_xlators(spec, kind="shd")
    children = [x.name for x in (sets or clients)]
    top = xlator(spec.name, "cluster/distribute", defaults("client", "cluster/distribute"), children)
    return apply_options(clients + sets + [top], "shd", spec.options)


def quotad_graph(specs: list[VolumeSpec]) -> list[Xlator]:
    """The quota daemon's graph for the volumes `specs` (those with quota on; sorted by name)."""
    chosen = sorted((s for s in specs if quota_enabled(s)), key=lambda s: s.name)
    if not chosen:
        raise ValueError("no volume with quota enabled: no quota daemon graph")
    graph: list[Xlator] = []
    for spec in chosen:
        graph += _volume_part(spec)
    ids = {f"{s.name}.volume-id": s.name for s in chosen}
    return graph + [xlator("quotad", "features/quotad", ids, [s.name for s in chosen])]


def quotad_volfile(specs: list[VolumeSpec]) -> str:
    return render(quotad_graph(specs))
