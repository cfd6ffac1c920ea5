"""Volfile generation: pure functions from a VolumeSpec to GlusterFS volfile text (no I/O)."""
from contracts.volume_spec import VolumeSpec
from volgen.brick import brick_graph, brick_volfile
from volgen.client import CLIENT_SWITCHES, client_graph, client_volfile
from volgen.graph import Xlator
from volgen.options import GraphKind
from volgen.options import inert_options as _inert
from volgen.shape import NO_EFFECT, SHAPE_OPTIONS, changes_shape, no_effect_reasons, shape
from volgen.shd import HEALS_VOLUME_TYPES, shd_graph, shd_volfile

__all__ = ["brick_volfile", "client_volfile", "shd_volfile", "inert_options", "option_effects", "shape",
           "changes_shape", "NO_EFFECT"]


def option_effects(spec: VolumeSpec) -> dict[str, str]:
    """{name: why} for the names in `spec.options` that change none of the volume's generated
    volfiles (see volgen.options.inert_options): the server warns that they have no effect."""
    graphs: dict[GraphKind, list[Xlator]] = {"client": client_graph(spec)}
    if spec.type in HEALS_VOLUME_TYPES:
        graphs["shd"] = shd_graph(spec)
    if spec.bricks:
        graphs["brick"] = [x for b in spec.bricks for x in brick_graph(spec, b, "-")]
    switches = SHAPE_OPTIONS["brick"] | SHAPE_OPTIONS["client"] | CLIENT_SWITCHES
    if not spec.options:
        return {}
    return _inert(spec.options, graphs, set(switches), no_effect_reasons())


def inert_options(spec: VolumeSpec) -> list[str]:
    """The names in `spec.options` that change none of the volume's generated volfiles."""
    return sorted(option_effects(spec))
