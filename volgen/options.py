"""Volume options onto the generated graphs.

`spec.options` hold names and values the server has already checked and normalized with
`optiontable.validate` (booleans as on/off, sizes as byte counts, ...); they are written as they
are. Here each name is looked up in the option table:

- an option of translator type T with key K, for graph kind G (brick, client, shd), becomes
  `option K <value>` on every xlator of type T in a G graph, replacing a value volgen set itself
  (e.g. network.ping-timeout over the 42 glusterd writes, volgen.defaults);
- keys with the brick path in them (auth.allow -> auth.addr.<brick path>.allow) get the brick's path;
- a switch (performance.write-behind, features.shard, ...) adds or removes a whole translator: the
  graph builders ask `switch_on()`;
- names the table does not know are skipped: a value stored under an older GlusterFS must not stop
  a volfile from being generated. `inert_options()` lists options that change nothing in the
  graphs of a volume, with the reason, for the server to report (volgen.shape.NO_EFFECT: the
  options of daemons kadalu does not run).
"""
from __future__ import annotations

from typing import Literal

from volgen.graph import Xlator

GraphKind = Literal["brick", "client", "shd"]
BRICK_PATH = "{{ brick.path }}"
BOOL_TRUE = ("on", "yes", "true", "enable", "1")  # stored values are normalized to on/off already


def _table() -> dict[str, dict]:
    # Imported when a volume has options: a volume without any needs no table.
    from optiontable import load
    return load()


def switch_on(options: dict[str, str], name: str, default: bool) -> bool:
    """Whether switch `name` is on: its stored value, else `default`."""
    value = options.get(name)
    if value is None:
        return default
    return value.lower() in BOOL_TRUE


def settings(options: dict[str, str], kind: GraphKind, brick_path: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """{xlator type: [(key, value)]} that `options` put on a `kind` graph, in name order."""
    table = _table()
    out: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(options):
        entry = table.get(name)
        if entry is None:
            continue
        for target in entry["targets"]:
            if target["key"] is None or kind not in target["graphs"]:
                continue
            key = target.get("setkey") or target["key"]
            if BRICK_PATH in key:
                if brick_path is None:
                    continue
                key = key.replace(BRICK_PATH, brick_path)
            out.setdefault(target["xlator"], []).append((key, options[name]))
    return out


def with_options(x: Xlator, pairs: list[tuple[str, str]]) -> Xlator:
    """`x` with `pairs` set: an existing key keeps its place and takes the new value, new keys are
    appended in order."""
    opts = dict(x.options)
    for key, value in pairs:
        opts[key] = value
    return Xlator(x.name, x.type, tuple(opts.items()), x.subvolumes)


def apply_options(graph: list[Xlator], kind: GraphKind, options: dict[str, str],
                  brick_path: str | None = None) -> list[Xlator]:
    if not options:
        return graph
    by_type = settings(options, kind, brick_path)
    return [with_options(x, by_type[x.type]) if x.type in by_type else x for x in graph]


def inert_options(options: dict[str, str], graphs: dict[GraphKind, list[Xlator]],
                  switches: set[str], no_effect: dict[str, str]) -> dict[str, str]:
    """{name: why} for the names in `options` that change none of `graphs` (kind -> the xlators
    generated for it): options of daemons kadalu does not run (`no_effect`, with its reason),
    unknown names, and options of translators these graphs do not have (a replicate option on a
    disperse volume; an io-cache option while performance.io-cache is off)."""
    if not options:
        return {}
    table = _table()
    types = {kind: {x.type for x in g} for kind, g in graphs.items()}
    out = {}
    for name in sorted(options):
        entry = table.get(name)
        if name in no_effect:
            out[name] = no_effect[name]
        elif entry is None:
            out[name] = "not an option of this GlusterFS version"
        elif entry["switch"] and name in switches:
            continue
        elif not any(t["key"] is not None and t["xlator"] in types.get(kind, ())
                     for t in entry["targets"] for kind in t["graphs"]):
            out[name] = _absent(entry, table, switches - set(no_effect))
    return out


def _absent(entry: dict, table: dict[str, dict], switches: set[str]) -> str:
    xlators = sorted({t["xlator"] for t in entry["targets"]})
    names = sorted(n for n in switches if n in table and any(t["xlator"] in xlators for t in table[n]["targets"]))
    why = f"no effect on this volume now: its graphs have no {' or '.join(xlators)}"
    if names:
        why += f" (it takes effect once {' or '.join(names)} is on)"
    return why
