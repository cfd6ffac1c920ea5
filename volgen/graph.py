"""A volfile is a list of translator ("xlator") definitions, leaves first, the top one last.

Every generator builds `Xlator` values and hands them to `render`, so spacing and option order
are decided in one place and the output is byte-for-byte deterministic (golden-file tests)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Xlator:
    name: str
    type: str
    options: tuple[tuple[str, str], ...] = ()
    subvolumes: tuple[str, ...] = ()


def xlator(name: str, type_: str, options: dict[str, str] | None = None, subvolumes: list[str] | None = None) -> Xlator:
    """Options keep the order they were written in (dicts are ordered), never sorted by luck."""
    return Xlator(name, type_, tuple((options or {}).items()), tuple(subvolumes or ()))


def stack(bottom: list[Xlator], layers: list[Xlator]) -> list[Xlator]:
    """Put `layers` (given bottom to top) over the last xlator of `bottom`, one on top of the other."""
    graph = list(bottom)
    for layer in layers:
        graph.append(Xlator(layer.name, layer.type, layer.options, (graph[-1].name,)))
    return graph


def render(graph: list[Xlator]) -> str:
    names = [x.name for x in graph]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate xlator names in graph: {names}")
    blocks = []
    for x in graph:
        lines = [f"volume {x.name}", f"    type {x.type}"]
        lines += [f"    option {key} {value}" for key, value in x.options]
        if x.subvolumes:
            lines.append(f"    subvolumes {' '.join(x.subvolumes)}")
        lines.append("end-volume")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
