"""The C layouts `tools.gen_option_table` reads out of the installed GlusterFS (10.x headers):
libglusterfs's volume_option_t and xlator_api_t, and glusterd's struct volopt_map_entry."""
from __future__ import annotations

import ctypes

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
