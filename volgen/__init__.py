"""Volfile generation: pure functions from a VolumeSpec to GlusterFS volfile text (no I/O)."""
from contracts.volume_spec import VolumeSpec
from volgen.brick import brick_graph, brick_volfile
from volgen.client import CLIENT_SWITCHES, client_graph, client_volfile
from volgen.graph import Xlator
from volgen.options import GraphKind
from volgen.options import inert_options as _inert
from volgen.shd import HEALS_VOLUME_TYPES, shd_graph, shd_volfile

__all__ = ["brick_volfile", "client_volfile", "shd_volfile", "inert_options"]


def inert_options(spec: VolumeSpec) -> list[str]:
    """The names in `spec.options` that change none of the volume's generated volfiles (see
    volgen.options.inert_options): the server can warn that they are stored but have no effect."""
    graphs: dict[GraphKind, list[Xlator]] = {"client": client_graph(spec)}
    if spec.type in HEALS_VOLUME_TYPES:
        graphs["shd"] = shd_graph(spec)
    if spec.bricks:
        graphs["brick"] = [x for b in spec.bricks for x in brick_graph(spec, b, "-")]
    return _inert(spec.options, graphs, CLIENT_SWITCHES)
