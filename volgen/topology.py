"""The shape ("topology", as glusterfs calls it) of a volfile: its translators, in order, as (name, type) pairs.

A running GlusterFS process applies a new volfile in place (each translator's reconfigure) only
when the shape is the same; a translator added, removed or moved needs a new graph, which a brick
cannot build live. The agents and the control plane both decide "reconfigure or restart" by
comparing shapes, so the parse lives here, next to the generators."""


def graph_shape(text: str) -> list[tuple[str, str]]:
    """(name, type) of every `volume NAME` ... `type T` block, in file order; subvolume links are
    part of the order (each generator stacks in order), options are not."""
    shape: list[tuple[str, str]] = []
    name: str | None = None
    for raw in text.splitlines():
        words = raw.split()
        if len(words) >= 2 and words[0] == "volume":
            name = words[1]
        elif len(words) >= 2 and words[0] == "type" and name is not None:
            shape.append((name, words[1]))
        elif words[:1] == ["end-volume"]:
            name = None
    return shape


def same_shape(old: str, new: str) -> bool:
    return graph_shape(old) == graph_shape(new)
