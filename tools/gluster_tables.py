"""Reading GlusterFS's option tables out of its shared objects with ctypes (no glusterd runs):
glusterd's volume-set table `glusterd_volopt_map[]` (found in the loaded, stripped image) and each
translator's own `volume_option_t[]` (through its exported `xlator_api`). How the table is found is
told in `tools.gen_option_table`'s docstring."""
from __future__ import annotations

import ctypes
import ctypes.util
import struct
from pathlib import Path

from tools.gluster_abi import FIRST_VOLOPT_KEY, VolOptMapEntry, VolumeOption, XlatorApi


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
