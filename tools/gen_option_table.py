"""Regenerate the volume option table from the installed GlusterFS.

    .venv/bin/python -m tools.gen_option_table            # writes optiontable/data/options-<version>.json
    .venv/bin/python -m tools.gen_option_table --check    # exit 1 if the committed file differs

Nothing is typed by hand except how glusterd *places* translators (which graph gets which
translator type) and a few of glusterd's special cases that live in its C code, not in a table.
Both sources are read with ctypes from the installed shared objects; no glusterd runs:

1. glusterd's volume-set table, `glusterd_volopt_map[]` (struct volopt_map_entry, see
   xlators/mgmt/glusterd/src/glusterd-volgen.h) in xlator/mgmt/glusterd.so: every name
   `gluster volume set` accepts -> translator type + option key, or a translator on/off switch
   (option "!perf" and friends), with glusterd's own default, description and flags. The .so is
   stripped and the symbol is not exported, so the table is found in the loaded image: its first
   entry's key is "cluster.lookup-unhashed"; the pointer to that string in .data marks the table,
   which runs in 64-byte entries up to the terminating entry whose key is NULL.
2. Each translator's own option table (volume_option_t[], libglusterfs/src/glusterfs/options.h),
   reached through the exported `xlator_api` (xlator_api_t, glusterfs/xlator.h), or the `options`
   symbol of rpc-transport/socket.so: type, range, allowed values, default, description.

Kept: every volume-set name whose translator is installed, minus glusterd's own settings
(voltype mgmt/glusterd: op-version, server quorum, brick multiplexing, ... which configure glusterd,
the thing kadalu replaces). Left out because their translator is not installed in 10.3 (Debian
builds no gNFS): nfs/server, mgmt/ganesha, and the gfproxyd switch ("configuration").
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import json
import math
import os
import struct
import sys
from pathlib import Path

DEFAULT_LIBDIR_GLOB = "/usr/lib/x86_64-linux-gnu/glusterfs/*/xlator"
OUT_DIR = Path(__file__).resolve().parent.parent / "optiontable" / "data"

# --- libglusterfs/src/glusterfs/options.h (10.x) -----------------------------------------------
ZR_VOLUME_MAX_NUM_KEY = 4
ZR_OPTION_MAX_ARRAY_SIZE = 64
GF_MAX_RELEASES = 4

(GF_OPTION_TYPE_ANY, GF_OPTION_TYPE_STR, GF_OPTION_TYPE_INT, GF_OPTION_TYPE_SIZET, GF_OPTION_TYPE_PERCENT,
 GF_OPTION_TYPE_PERCENT_OR_SIZET, GF_OPTION_TYPE_BOOL, GF_OPTION_TYPE_XLATOR, GF_OPTION_TYPE_PATH,
 GF_OPTION_TYPE_TIME, GF_OPTION_TYPE_DOUBLE, GF_OPTION_TYPE_INTERNET_ADDRESS,
 GF_OPTION_TYPE_INTERNET_ADDRESS_LIST, GF_OPTION_TYPE_PRIORITY_LIST, GF_OPTION_TYPE_SIZE_LIST,
 GF_OPTION_TYPE_CLIENT_AUTH_ADDR) = range(16)
GF_OPT_VALIDATE_BOTH, GF_OPT_VALIDATE_MIN, GF_OPT_VALIDATE_MAX = range(3)

TYPE_NAMES = {
    GF_OPTION_TYPE_ANY: "str", GF_OPTION_TYPE_STR: "str", GF_OPTION_TYPE_INT: "int",
    GF_OPTION_TYPE_SIZET: "size", GF_OPTION_TYPE_PERCENT: "percent",
    GF_OPTION_TYPE_PERCENT_OR_SIZET: "percent-or-size", GF_OPTION_TYPE_BOOL: "bool",
    GF_OPTION_TYPE_XLATOR: "xlator", GF_OPTION_TYPE_PATH: "path", GF_OPTION_TYPE_TIME: "time",
    GF_OPTION_TYPE_DOUBLE: "double", GF_OPTION_TYPE_INTERNET_ADDRESS: "address",
    GF_OPTION_TYPE_INTERNET_ADDRESS_LIST: "address-list", GF_OPTION_TYPE_PRIORITY_LIST: "priority-list",
    GF_OPTION_TYPE_SIZE_LIST: "size-list", GF_OPTION_TYPE_CLIENT_AUTH_ADDR: "address-list",
}


class VolumeOption(ctypes.Structure):  # volume_option_t
    _fields_ = [
        ("key", ctypes.c_char_p * ZR_VOLUME_MAX_NUM_KEY),
        ("type", ctypes.c_int),  # volume_option_type_t
        ("min", ctypes.c_double),
        ("max", ctypes.c_double),
        ("value", ctypes.c_char_p * ZR_OPTION_MAX_ARRAY_SIZE),
        ("default_value", ctypes.c_char_p),
        ("description", ctypes.c_char_p),
        ("validate", ctypes.c_int),  # opt_validate_type_t
        ("op_version", ctypes.c_uint32 * GF_MAX_RELEASES),
        ("deprecated", ctypes.c_uint32 * GF_MAX_RELEASES),
        ("flags", ctypes.c_uint32),
        ("tags", ctypes.c_char_p * ZR_OPTION_MAX_ARRAY_SIZE),
        ("setkey", ctypes.c_char_p),
        ("level", ctypes.c_int),  # opt_level_t
        ("category", ctypes.c_int),  # gf_category_t
    ]


class XlatorApi(ctypes.Structure):  # xlator_api_t, the part before init()
    _fields_ = [
        ("op_version", ctypes.c_uint32 * GF_MAX_RELEASES),
        ("flags", ctypes.c_uint32),
        ("xlator_id", ctypes.c_uint32),
        ("identifier", ctypes.c_char_p),
        ("options", ctypes.POINTER(VolumeOption)),
        ("category", ctypes.c_int),
    ]


# --- xlators/mgmt/glusterd/src/glusterd-volgen.h (10.x) --------------------------------------
DOC, NO_DOC, GLOBAL_DOC, GLOBAL_NO_DOC = range(4)  # option_type_t
VOLOPT_FLAG_FORCE, VOLOPT_FLAG_XLATOR_OPT, VOLOPT_FLAG_CLIENT_OPT, VOLOPT_FLAG_NEVER_RESET = 1, 2, 4, 8


class VolOptMapEntry(ctypes.Structure):  # struct volopt_map_entry
    _fields_ = [
        ("key", ctypes.c_void_p),
        ("voltype", ctypes.c_void_p),
        ("option", ctypes.c_void_p),
        ("value", ctypes.c_void_p),
        ("type", ctypes.c_int),  # option_type_t
        ("flags", ctypes.c_uint32),
        ("op_version", ctypes.c_uint32),
        ("description", ctypes.c_void_p),
        ("validate_fn", ctypes.c_void_p),
    ]


FIRST_VOLOPT_KEY = b"cluster.lookup-unhashed"

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


def _libdir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    found = sorted(glob.glob(DEFAULT_LIBDIR_GLOB))
    if not found:
        sys.exit(f"no GlusterFS translators found at {DEFAULT_LIBDIR_GLOB}: install glusterfs-server")
    return Path(found[-1])


def _s(ptr) -> str | None:
    if not ptr:
        return None
    raw = ptr if isinstance(ptr, bytes) else ctypes.string_at(ptr)
    return raw.decode("utf-8", "replace")


def _elf_sections(path: Path) -> dict[str, tuple[int, int]]:
    """{section name: (virtual address, size)} of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise RuntimeError(f"{path}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = headers[shstrndx][4]

    def name(off: int) -> str:
        end = data.index(b"\0", strtab_off + off)
        return data[strtab_off + off:end].decode()

    return {name(h[0]): (h[3], h[5]) for h in headers}


def _image_base(lib: ctypes.CDLL, symbol: str) -> int:
    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    info = DlInfo()
    addr = ctypes.addressof(ctypes.c_char.in_dll(lib, symbol))
    if not libc.dladdr(ctypes.c_void_p(addr), ctypes.byref(info)):
        raise RuntimeError(f"dladdr failed for {symbol}")
    return info.dli_fbase


def read_volopt_map(glusterd_so: Path) -> list[dict]:
    lib = ctypes.CDLL(str(glusterd_so), mode=ctypes.RTLD_GLOBAL)
    base = _image_base(lib, "xlator_api")
    sections = _elf_sections(glusterd_so)
    ro_addr, ro_size = sections[".rodata"]
    data_addr, data_size = sections[".data"]
    rodata = ctypes.string_at(base + ro_addr, ro_size)
    data = ctypes.string_at(base + data_addr, data_size)

    def in_rodata(p: int | None) -> bool:
        return bool(p) and base + ro_addr <= p < base + ro_addr + ro_size

    first = rodata.find(FIRST_VOLOPT_KEY + b"\0")
    if first < 0:
        raise RuntimeError(f"{glusterd_so}: string {FIRST_VOLOPT_KEY!r} not found")
    ptr = struct.pack("<Q", base + ro_addr + first)
    at = next((i for i in range(0, data_size - 7, 8) if data[i:i + 8] == ptr), None)
    if at is None:
        raise RuntimeError(f"{glusterd_so}: glusterd_volopt_map not found (no pointer to its first key)")
    size = ctypes.sizeof(VolOptMapEntry)
    start = base + data_addr + at

    def entry(addr: int) -> VolOptMapEntry:
        return VolOptMapEntry.from_address(addr)

    # The first key is a guess from the source; step back while the entries still look like ones.
    while True:
        prev = entry(start - size)
        if in_rodata(prev.key) and in_rodata(prev.voltype) and "/" in (_s(prev.voltype) or ""):
            start -= size
        else:
            break
    rows, addr = [], start
    while True:
        e = entry(addr)
        if not e.key:
            break
        for p in (e.key, e.voltype, e.option, e.value, e.description):
            if p and not in_rodata(p):
                raise RuntimeError(f"glusterd_volopt_map entry at {addr:#x} does not look like one: layout changed?")
        rows.append({
            "key": _s(e.key), "voltype": _s(e.voltype), "option": _s(e.option), "value": _s(e.value),
            "type": e.type, "flags": e.flags, "op_version": e.op_version, "description": _s(e.description),
        })
        addr += size
    return rows


def read_xlator_options(so: Path) -> list[dict]:
    lib = ctypes.CDLL(str(so), mode=ctypes.RTLD_GLOBAL)
    try:
        opts = XlatorApi.in_dll(lib, "xlator_api").options
    except ValueError:
        opts = ctypes.cast(ctypes.addressof(ctypes.c_char.in_dll(lib, "options")), ctypes.POINTER(VolumeOption))
    out, i = [], 0
    while opts and opts[i].key[0]:
        o = opts[i]
        out.append({
            "keys": [_s(k) for k in o.key if k],
            "type": o.type, "min": o.min, "max": o.max, "validate": o.validate,
            "values": [_s(v) for v in o.value if v],
            "default": _s(o.default_value), "description": _s(o.description), "setkey": _s(o.setkey),
        })
        i += 1
    return out


class Xlators:
    """Option tables of the installed translators, loaded on first use."""

    def __init__(self, libdir: Path):
        self.libdir = libdir
        self._tables: dict[str, dict[str, dict] | None] = {}

    def so_path(self, voltype: str) -> Path:
        if voltype.startswith("rpc-transport/"):
            return self.libdir.parent / f"{voltype}.so"
        return self.libdir / f"{voltype}.so"

    def installed(self, voltype: str) -> bool:
        return self.so_path(voltype).exists()

    def table(self, voltype: str) -> dict[str, dict]:
        if voltype not in self._tables:
            by_key: dict[str, dict] = {}
            path = self.so_path(voltype)
            for opt in read_xlator_options(path) if path.exists() else []:
                for k in opt["keys"]:
                    by_key.setdefault(k, opt)
            self._tables[voltype] = by_key
        return self._tables[voltype] or {}

    def find(self, voltype: str, *keys: str) -> dict | None:
        """The option of `voltype` named by the first key that exists; protocol translators
        also take the socket transport's options."""
        tables = [self.table(voltype)]
        if voltype in ("protocol/client", "protocol/server"):
            tables.append(self.table("rpc-transport/socket"))
        for key in keys:
            for t in tables:
                if key in t:
                    return t[key]
        return None


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


def _targets(row: dict) -> tuple[list[dict], dict | None, bool]:
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
        info = XL.find(voltype, name.split(".", 1)[1], stripped, key)
        return [{"xlator": voltype, "key": key, "graphs": graphs}], info, False
    if voltype == "rpc-transport/socket":  # ssl.*: set on both ends of every connection
        stripped = special[1:] if special else name.split(".", 1)[1]
        info = XL.find("rpc-transport/socket", stripped)
        key = "transport.socket." + stripped
        return [{"xlator": "protocol/server", "key": key, "graphs": ["brick"]},
                {"xlator": "protocol/client", "key": key, "graphs": ["client", "shd"]}], info, False
    if name in SERVER_AUTH_KEYS:
        key = SERVER_AUTH_KEYS[name]
        return [{"xlator": voltype, "key": key, "graphs": graphs}], XL.find(voltype, key), False
    if special == "!address-family":
        key = "transport.address-family"
        return [{"xlator": "protocol/server", "key": key, "graphs": ["brick"]},
                {"xlator": "protocol/client", "key": key, "graphs": ["client", "shd"]}], XL.find(voltype, key), False
    if special:
        key = special[1:]
    else:
        key = option or name.split(".", 1)[1]
    return [{"xlator": voltype, "key": key, "graphs": graphs}], XL.find(voltype, key), False


def build_entry(row: dict) -> dict:
    targets, info, switch = _targets(row)
    entry: dict = {"name": row["key"], "xlator": targets[0]["xlator"], "key": targets[0]["key"]}
    lo = hi = None
    values: list[str] = []
    if switch:
        # Value: a boolean; debug switches also take the name of the translator to sit above.
        typ = "str" if row["option"] == "!debug" else "bool"
        own = XL.find(row["voltype"], row["voltype"].split("/", 1)[1])  # e.g. write-behind's "write-behind"
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


XL: Xlators  # set in main(); the helpers above read it


def generate(libdir: Path) -> dict:
    global XL
    ctypes.CDLL("libglusterfs.so.0", mode=ctypes.RTLD_GLOBAL)  # the translators link against it
    XL = Xlators(libdir)
    rows = read_volopt_map(libdir / "mgmt" / "glusterd.so")
    entries: dict[str, dict] = {}
    dropped: dict[str, int] = {}
    for row in rows:
        if row["voltype"] in DROPPED_VOLTYPES or not XL.installed(row["voltype"]):
            dropped[row["voltype"]] = dropped.get(row["voltype"], 0) + 1
            continue
        e = build_entry(row)
        entries[e["name"]] = merge(entries[e["name"]], e) if e["name"] in entries else e
    version = libdir.parent.name
    return {
        "glusterfs_version": version,
        "generated_by": "python -m tools.gen_option_table",
        "sources": {
            "volume_set_table": str(libdir / "mgmt" / "glusterd.so") + " glusterd_volopt_map",
            "translator_tables": str(libdir) + "/<type>.so xlator_api.options",
        },
        "volume_set_entries": len(rows),
        "left_out": dict(sorted(dropped.items())),
        "options": [entries[k] for k in sorted(entries)],
    }


def render(table: dict) -> str:
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--libdir", help="the GlusterFS xlator directory (default: the installed one)")
    ap.add_argument("--out", help="output file (default: optiontable/data/options-<version>.json)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file is out of date")
    args = ap.parse_args(argv)
    table = generate(_libdir(args.libdir))
    out = Path(args.out) if args.out else OUT_DIR / f"options-{table['glusterfs_version']}.json"
    text = render(table)
    if args.check:
        same = out.exists() and out.read_text() == text
        print(f"{out}: {'up to date' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"{out}: {len(table['options'])} options from {table['volume_set_entries']} volume-set entries; "
          f"left out: {table['left_out']}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GF_LOG_LEVEL", "NONE")
    sys.exit(main())
