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

The C layouts are in `tools/gluster_abi.py`, the reading of both tables in `tools/gluster_tables.py`,
the turning of rows into entries (and glusterd's placement of translators) in
`tools/option_entries.py`; this module puts them together and writes the JSON.

Kept: every volume-set name whose translator is installed, minus glusterd's own settings
(voltype mgmt/glusterd: op-version, server quorum, brick multiplexing, ... which configure glusterd,
the thing kadalu replaces). Left out because their translator is not installed in 10.3 (Debian
builds no gNFS): nfs/server, mgmt/ganesha, and the gfproxyd switch ("configuration").
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import sys
from pathlib import Path

from tools.gluster_tables import Xlators, read_volopt_map
from tools.option_entries import DROPPED_VOLTYPES, build_entry, merge

DEFAULT_LIBDIR_GLOB = "/usr/lib/x86_64-linux-gnu/glusterfs/*/xlator"
OUT_DIR = Path(__file__).resolve().parent.parent / "optiontable" / "data"


def _libdir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    found = sorted(glob.glob(DEFAULT_LIBDIR_GLOB))
    if not found:
        sys.exit(f"no GlusterFS translators found at {DEFAULT_LIBDIR_GLOB}: install glusterfs-server")
    return Path(found[-1])


def generate(libdir: Path) -> dict:
    ctypes.CDLL("libglusterfs.so.0", mode=ctypes.RTLD_GLOBAL)  # the translators link against it
    xl = Xlators(libdir)
    rows = read_volopt_map(libdir / "mgmt" / "glusterd.so")
    entries: dict[str, dict] = {}
    dropped: dict[str, int] = {}
    not_run: dict[str, dict] = {}
    for row in rows:
        if row["voltype"] in DROPPED_VOLTYPES or not xl.installed(row["voltype"]):
            dropped[row["voltype"]] = dropped.get(row["voltype"], 0) + 1
            if row["voltype"] == "nfs/server":  # gNFS: accepted with a warning (volgen.shape.NO_EFFECT)
                not_run[row["key"]] = {"daemon": "gNFS", "default": row["value"],
                                       "description": " ".join((row["description"] or "").split())}
            continue
        e = build_entry(row, xl)
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
        "not_run": dict(sorted(not_run.items())),
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
