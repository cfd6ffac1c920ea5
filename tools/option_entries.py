"""From glusterd's volume-set rows to option-table entries: which translator and key each name
sets, its type, range, default, and the graphs (brick, client, shd) it applies to. Where glusterd
places translators, and its special cases that live in its C code rather than in a table, are
written out here; everything else comes from the rows and the translators' own tables."""
from __future__ import annotations

import math

from tools.gluster_abi import (
    DOC,
    GF_OPT_VALIDATE_BOTH,
    GF_OPT_VALIDATE_MAX,
    GF_OPT_VALIDATE_MIN,
    GF_OPTION_TYPE_ANY,
    GF_OPTION_TYPE_DOUBLE,
    GF_OPTION_TYPE_INT,
    GF_OPTION_TYPE_PERCENT,
    GF_OPTION_TYPE_PERCENT_OR_SIZET,
    GF_OPTION_TYPE_SIZET,
    GF_OPTION_TYPE_STR,
    GF_OPTION_TYPE_TIME,
    GLOBAL_DOC,
    TYPE_NAMES,
)
from tools.gluster_tables import Xlators

# --- glusterd's behaviour that lives in code, not in its table -------------------------------
# voltypes whose entries are glusterd's own settings, or whose translator is not installed.
DROPPED_VOLTYPES = {"mgmt/glusterd", "nfs/server", "mgmt/ganesha", "configuration"}
# Special handlers (option "!...") that insert or remove a whole translator (glusterd-volgen.c:
# perfxl/nfsperfxl/debugxl/... option handlers). Their value is a boolean, except debug's.
SWITCH_HANDLERS = {"!perf", "!nfsperf", "!feat", "!features", "!shard", "!utime", "!nufa", "!switch", "!debug"}
# io-stats handlers: the "brick-"/"client-" prefix picks the graph, the rest is the io-stats key.
IOSTATS_HANDLERS = {"!brick-log-level", "!client-log-level", "!sys-log-level", "!logger", "!log-format",
                    "!log-buf-size", "!log-flush-timeout", "!brick-threads", "!client-threads"}
# _get_xlator_opt_key_from_vme(): these names map to keys with the brick path in them.
SERVER_AUTH_KEYS = {"auth.allow": "auth.addr.*.allow", "auth.reject": "auth.addr.*.reject"}

# Where glusterd places each translator type. "client" is the FUSE mount graph, "shd" the
# self-heal daemon's graph (protocol/client + replicate/disperse + io-stats).
PLACEMENT = {
    "protocol/client": ["client", "shd"],
    "cluster/replicate": ["client", "shd"],
    "cluster/disperse": ["client", "shd"],
    "cluster/distribute": ["client"],
    "cluster/nufa": ["client"],
    "cluster/switch": ["client"],
    "features/utime": ["client"],
    "features/shard": ["client"],
    "features/snapview-client": ["client"],
    "features/cloudsync": ["client"],
    "performance/write-behind": ["client"],
    "performance/read-ahead": ["client"],
    "performance/readdir-ahead": ["client"],
    "performance/io-cache": ["client"],
    "performance/open-behind": ["client"],
    "performance/quick-read": ["client"],
    "performance/nl-cache": ["client"],
    "performance/md-cache": ["client"],
    "performance/io-threads": ["brick", "client"],  # client only with performance.client-io-threads
    "debug/io-stats": ["brick", "client"],
    "debug/trace": ["brick", "client"],
    "debug/error-gen": ["brick", "client"],
    "debug/delay-gen": ["brick", "client"],
    "features/cdc": ["brick", "client"],
    "protocol/server": ["brick"],
    "storage/posix": ["brick"],
    "features/index": ["brick"],
    "features/locks": ["brick"],
    "features/arbiter": ["brick"],
    "features/trash": ["brick"],
    "features/changelog": ["brick"],
    "features/access-control": ["brick"],
    "features/leases": ["brick"],
    "features/upcall": ["brick"],
    "features/marker": ["brick"],
    "features/quota": ["brick"],
    "features/read-only": ["brick"],
    "features/worm": ["brick"],
    "features/barrier": ["brick"],
    "features/selinux": ["brick"],
    "features/sdfs": ["brick"],
    "features/namespace": ["brick"],
    # features/bit-rot (bitd, scrubber), features/snapview-server (snapd), features/quiesce
    # (gfproxyd) run in daemons kadalu does not generate: no graph.
}
# The shd graph forces these on; as volume options they only steer heals done by clients.
BOOL_WORDS = {"on", "off", "yes", "no", "true", "false", "enable", "disable", "1", "0"}
CLIENT_SIDE_HEAL = {"cluster.data-self-heal", "cluster.metadata-self-heal", "cluster.entry-self-heal"}


def _num(x: float) -> int | float | None:
    if x is None or math.isinf(x) or math.isnan(x):
        return None
    return int(x) if float(x).is_integer() else x


def _range(opt: dict) -> tuple[int | float | None, int | float | None]:
    """The bounds GlusterFS enforces (libglusterfs options.c xlator_option_validate_*)."""
    t, lo, hi, how = opt["type"], opt["min"], opt["max"], opt["validate"]
    if t in (GF_OPTION_TYPE_INT, GF_OPTION_TYPE_DOUBLE):
        if lo == 0 and hi == 0 and how == GF_OPT_VALIDATE_BOTH:
            return None, None
        if how == GF_OPT_VALIDATE_MIN:
            return _num(lo), None
        if how == GF_OPT_VALIDATE_MAX:
            return None, _num(hi)
        return _num(lo), _num(hi)
    if t in (GF_OPTION_TYPE_SIZET, GF_OPTION_TYPE_TIME, GF_OPTION_TYPE_PERCENT_OR_SIZET):
        if lo == 0 and hi == 0:
            return None, None
        return _num(lo), _num(hi)
    if t == GF_OPTION_TYPE_PERCENT:
        return 0, 100
    return None, None


def _graphs(name: str, voltype: str, special: str | None) -> list[str]:
    if ".nfs." in name:
        return []  # the gNFS server's graph
    if voltype == "debug/io-stats" and special in IOSTATS_HANDLERS:
        return ["brick"] if "brick" in special or "brick" in name else ["client", "shd"]
    if special in ("!self-heal-daemon", "!heal-timeout"):
        return ["shd"]
    if name in CLIENT_SIDE_HEAL:
        return ["client"]
    return list(PLACEMENT.get(voltype, []))


def _targets(row: dict, xl: Xlators) -> tuple[list[dict], dict | None, bool]:
    """[(xlator, key, graphs)], the option record that types it, and whether it is a switch."""
    name, voltype, option = row["key"], row["voltype"], row["option"]
    special = option if option and option.startswith("!") else None
    graphs = _graphs(name, voltype, special)
    if special in SWITCH_HANDLERS:
        if special == "!perf":
            graphs = [g for g in graphs if g == "client"]  # io-threads too: client-io-threads
        return [{"xlator": voltype, "key": None, "graphs": graphs}], None, True
    if special in IOSTATS_HANDLERS:
        stripped = special[1:]
        key = stripped.removeprefix("brick-").removeprefix("client-")
        info = xl.find(voltype, name.split(".", 1)[1], stripped, key)
        return [{"xlator": voltype, "key": key, "graphs": graphs}], info, False
    if voltype == "rpc-transport/socket":  # ssl.*: set on both ends of every connection
        stripped = special[1:] if special else name.split(".", 1)[1]
        info = xl.find("rpc-transport/socket", stripped)
        key = "transport.socket." + stripped
        return [{"xlator": "protocol/server", "key": key, "graphs": ["brick"]},
                {"xlator": "protocol/client", "key": key, "graphs": ["client", "shd"]}], info, False
    if name in SERVER_AUTH_KEYS:
        key = SERVER_AUTH_KEYS[name]
        return [{"xlator": voltype, "key": key, "graphs": graphs}], xl.find(voltype, key), False
    if special == "!address-family":
        key = "transport.address-family"
        return [{"xlator": "protocol/server", "key": key, "graphs": ["brick"]},
                {"xlator": "protocol/client", "key": key, "graphs": ["client", "shd"]}], xl.find(voltype, key), False
    if special:
        key = special[1:]
    else:
        key = option or name.split(".", 1)[1]
    return [{"xlator": voltype, "key": key, "graphs": graphs}], xl.find(voltype, key), False


def build_entry(row: dict, xl: Xlators) -> dict:
    targets, info, switch = _targets(row, xl)
    entry: dict = {"name": row["key"], "xlator": targets[0]["xlator"], "key": targets[0]["key"]}
    lo = hi = None
    values: list[str] = []
    if switch:
        # Value: a boolean; debug switches also take the name of the translator to sit above.
        typ = "str" if row["option"] == "!debug" else "bool"
        own = xl.find(row["voltype"], row["voltype"].split("/", 1)[1])  # e.g. write-behind's "write-behind"
        default = row["value"] if row["value"] is not None else "off"
        description = row["description"] or (own or {}).get("description") or \
            f"enable/disable the {row['voltype']} translator"
    elif info is None:
        # glusterd still lists it, the translator no longer has it: GlusterFS takes any value.
        # A boolean default marks a boolean (features.uss, features.cloudsync, features.bitrot).
        default, description = row["value"], row["description"] or ""
        typ = "bool" if (default or "").lower() in BOOL_WORDS else "str"
        entry["xlator_has_key"] = False
    else:
        typ = TYPE_NAMES[info["type"]]
        values = info["values"]
        if info["type"] in (GF_OPTION_TYPE_STR, GF_OPTION_TYPE_ANY) and values:
            typ = "enum"
        elif typ != "enum":
            values = []
        lo, hi = _range(info)
        default = row["value"] if row["value"] is not None else info["default"]
        description = row["description"] or info["description"] or ""
        if info.get("setkey") and "{{" in info["setkey"]:
            for t in targets:
                t["setkey"] = info["setkey"]
    entry.update({
        "type": typ, "min": lo, "max": hi, "values": values, "default": default,
        "description": " ".join(description.split()),
        "graphs": sorted({g for t in targets for g in t["graphs"]}, key=["brick", "client", "shd"].index),
        "switch": switch,
        "doc": row["type"] in (DOC, GLOBAL_DOC),
        "op_version": row["op_version"],
        "targets": targets,
    })
    return entry


def merge(a: dict, b: dict) -> dict:
    """Two volume-set entries with one name (e.g. performance.cache-size sets io-cache and
    quick-read): one entry, every target, a value must suit both."""
    for t in b["targets"]:
        if t not in a["targets"]:
            a["targets"].append(t)
    a["graphs"] = sorted(set(a["graphs"]) | set(b["graphs"]), key=["brick", "client", "shd"].index)
    if a["type"] == "str" and b["type"] != "str":
        for k in ("type", "values", "min", "max"):
            a[k] = b[k]
    elif a["type"] == b["type"]:
        if b["min"] is not None:
            a["min"] = b["min"] if a["min"] is None else max(a["min"], b["min"])
        if b["max"] is not None:
            a["max"] = b["max"] if a["max"] is None else min(a["max"], b["max"])
    a["switch"] = a["switch"] or b["switch"]
    a["doc"] = a["doc"] or b["doc"]
    if not a["description"]:
        a["description"] = b["description"]
    if a["default"] is None:
        a["default"] = b["default"]
    return a
