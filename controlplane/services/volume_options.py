"""Volume options: validated against the table derived from the installed GlusterFS, and listed.
Changing them is an operation (controlplane/services/volume_ops/reconfigure.py)."""
from sqlmodel import Session

import optiontable
from controlplane.models import Volume
from controlplane.services.errors import Invalid
from controlplane.services.volume_specs import spec
from volgen import option_effects
from volgen.quotad import QUOTA_OWNED

BOOL_ON = ("on", "yes", "true", "enable", "1")

MAX_OPTIONS = 64


def check_not_quota_owned(names: list[str] | dict[str, str]) -> None:
    """features.quota and its companions are switched by `kadalu volume quota enable|disable`, which
    also runs the quota daemons and counts existing data (glusterd refuses them in `volume set` too)."""
    owned = sorted(set(names) & QUOTA_OWNED)
    if owned:
        raise Invalid(f"{', '.join(owned)}: set by `kadalu volume quota enable|disable`, not as an option")


def validated(options: dict[str, str]) -> dict[str, str]:
    if len(options) > MAX_OPTIONS:
        raise Invalid(f"{len(options)} options in one request: send at most {MAX_OPTIONS}")
    check_not_quota_owned(options)
    out = {}
    for name, value in options.items():
        try:
            out[name] = optiontable.validate(name, str(value))
        except optiontable.OptionError as exc:
            raise Invalid(exc.message) from None
    return out


def check_combination(options: dict[str, str]) -> None:
    """Refuse what glusterd refuses to build a graph from (glusterd-volgen.c): read-only with worm,
    nufa with switch. `options`: the volume's options as they would be after the change."""
    def on(name: str) -> bool:
        return options.get(name, "off").lower() in BOOL_ON

    if on("features.read-only") and (on("features.worm") or on("features.worm-file-level")):
        raise Invalid("features.read-only and features.worm (or features.worm-file-level) cannot both be on: "
                      "reset one of them first")
    if on("cluster.nufa") and on("cluster.switch"):
        raise Invalid("cluster.nufa and cluster.switch cannot both be on: reset one of them first")


def warnings(session: Session, volume: Volume, names: list[str]) -> list[str]:
    """One line per option among `names` that changes none of the volume's graphs, saying why:
    options of daemons kadalu does not run (volgen.shape.NO_EFFECT, docs/volumes.md), options of
    translators this volume does not have (a replicate option on a disperse volume, an io-cache
    option while io-cache is off). Stored all the same, as glusterd stores them."""
    effects = option_effects(spec(session, volume))
    return [f"{name}: {effects[name]}" for name in sorted(set(names)) if name in effects]


def check_known(names: list[str]) -> None:
    """Refuse unknown option names with the table's suggestions."""
    check_not_quota_owned(names)
    for name in names:
        if name not in optiontable.load() and name not in optiontable.not_run():
            validated({name: ""})  # raises the unknown-option message with suggestions


def restarts_bricks(names: list[str]) -> bool:
    """Whether changing these options changes a brick or self-heal graph (a running brick must restart)."""
    return any({"brick", "shd"} & set(optiontable.graphs_of(n)) for n in names)


def listing(volume: Volume, name: str | None) -> list[dict]:
    names = [name] if name else sorted(optiontable.load())
    rows = []
    for n in names:
        try:
            entry = optiontable.describe(n)
        except optiontable.OptionError as exc:
            raise Invalid(exc.message) from None
        value = volume.options.get(entry["name"])
        default = entry.get("default")
        if entry["name"] == "performance.client-io-threads" and volume.type in ("replicate", "arbiter"):
            default = "off"  # as glusterd creates replicate volumes (volgen.client.client_io_threads_default)
        rows.append({
            "name": entry["name"], "value": value if value is not None else default,
            "default": default, "changed": value is not None, "type": entry.get("type"),
            "accepts": entry.get("accepts", ""), "graphs": entry.get("graphs", []),
            "description": entry.get("description", ""),
        })
    return rows
