"""Volume options: validated against the table derived from the installed GlusterFS, and listed.
Changing them is an operation (controlplane/services/volume_ops/reconfigure.py)."""
import optiontable
from controlplane.models import Volume
from controlplane.services.errors import Invalid

MAX_OPTIONS = 64


def validated(options: dict[str, str]) -> dict[str, str]:
    if len(options) > MAX_OPTIONS:
        raise Invalid(f"{len(options)} options in one request: send at most {MAX_OPTIONS}")
    out = {}
    for name, value in options.items():
        try:
            out[name] = optiontable.validate(name, str(value))
        except optiontable.OptionError as exc:
            raise Invalid(exc.message) from None
    return out


def check_known(names: list[str]) -> None:
    """Refuse unknown option names with the table's suggestions."""
    for name in names:
        if name not in optiontable.load():
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
        rows.append({
            "name": entry["name"], "value": value if value is not None else entry.get("default"),
            "default": entry.get("default"), "changed": value is not None, "type": entry.get("type"),
            "accepts": entry.get("accepts", ""), "graphs": entry.get("graphs", []),
            "description": entry.get("description", ""),
        })
    return rows
