"""The rebalance process's own status/stop RPC, as glusterd speaks it.

Started with `--socket-file`, a `glusterfs` rebalance process serves glusterd's brick-op program
on that unix socket: GLUSTERD_BRICK_XLATOR_DEFRAG with "rebalance-command" = STATUS returns the
live counters (files, size, lookups, failures, skipped, run-time, status); with STOP, distribute
stops queueing files, lets the ones in flight finish, logs its last status line and exits.
Plain ONC RPC over a stream socket (record marking, AUTH_NULL), the request and reply dicts in
libglusterfs's dict_serialize format."""
import os
import struct

from nodeagent.sunrpc import Malformed, call_unix

# gf_cli_defrag_type (rpc/xdr/src/cli1-xdr.x)
CMD_START, CMD_STOP, CMD_STATUS, CMD_START_LAYOUT_FIX = 1, 2, 3, 4
RPC_TIMEOUT = 5.0
_GD_BRICK_PROGRAM, _GD_BRICK_VERSION, _GLUSTERD_BRICK_XLATOR_DEFRAG = 4867634, 2, 6


def _xdr_opaque(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data + b"\0" * (-len(data) % 4)


def dict_serialize(values: dict[str, str]) -> bytes:
    """libglusterfs dict_serialize: count, then per pair key length, value length, key NUL, value
    (values travel as NUL-terminated strings, as dict_set_int32 stores them)."""
    out = struct.pack(">i", len(values))
    for key, value in values.items():
        k, v = key.encode(), str(value).encode() + b"\0"
        out += struct.pack(">ii", len(k), len(v)) + k + b"\0" + v
    return out


def dict_unserialize(data: bytes) -> dict[str, str]:
    if len(data) < 4:
        return {}
    (count,), off, out = struct.unpack_from(">i", data, 0), 4, {}
    for _ in range(count):
        klen, vlen = struct.unpack_from(">ii", data, off)
        off += 8
        key = data[off:off + klen].decode(errors="replace")
        off += klen + 1
        out[key] = data[off:off + vlen].rstrip(b"\0").decode(errors="replace")
        off += vlen
    return out



def defrag_rpc(sock_path: str, dht: str, command: int, timeout: float = RPC_TIMEOUT) -> dict[str, str] | None:
    """Send GLUSTERD_BRICK_XLATOR_DEFRAG to the rebalance process, as glusterd does; None if it
    does not answer (not listening yet, exiting, or gone)."""
    args = (_xdr_opaque(dht.encode()) + struct.pack(">i", _GLUSTERD_BRICK_XLATOR_DEFRAG)
            + _xdr_opaque(dict_serialize({"rebalance-command": str(command)}))
            + _xdr_opaque(b""))  # the trailing `dict` newer gd1_mgmt_brick_op_req carry; ignored by older ones
    xid = int.from_bytes(os.urandom(4), "big")
    call = struct.pack(">IIIIIIIIII", xid, 0, 2, _GD_BRICK_PROGRAM, _GD_BRICK_VERSION,
                       _GLUSTERD_BRICK_XLATOR_DEFRAG, 0, 0, 0, 0) + args  # AUTH_NULL credential and verifier
    try:
        reply = call_unix(sock_path, call, timeout)
    except (OSError, Malformed):
        return None
    try:
        rxid, mtype, reply_stat = struct.unpack_from(">III", reply, 0)
        if rxid != xid or mtype != 1 or reply_stat != 0:
            return None
        (vlen,) = struct.unpack_from(">I", reply, 16)
        off = 20 + vlen + (-vlen % 4)
        accept_stat, op_ret, _op_errno, out_len = struct.unpack_from(">IiiI", reply, off)
        if accept_stat != 0:
            return None
        off += 16
        return dict_unserialize(reply[off:off + out_len])
    except struct.error:
        return None
