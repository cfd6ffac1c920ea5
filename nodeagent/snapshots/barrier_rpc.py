"""The brick barrier, as glusterd asks for it: GLUSTERD_BRICK_BARRIER (brick-op program 4867634
version 2, procedure 10) on the brick's own unix socket (glusterfsd -S), with the brick path as the
request's name and {"barrier": "enable"|"disable"} as its dict. glusterfsd passes it to the brick
graph's features/barrier and features/changelog and answers once both did: from then on the replies
of unlink, rmdir, rename, truncate, fsync, removexattr and O_SYNC writes wait until disable (or the
barrier-timeout). Plain ONC RPC with record marking, the dict in libglusterfs's dict_serialize format."""
import errno
import os
import struct

from nodeagent.errors import AgentError
from nodeagent.gluster.rebalance_rpc import dict_serialize
from nodeagent.sunrpc import Malformed, call_unix

PROGRAM, VERSION, GLUSTERD_BRICK_BARRIER = 4867634, 2, 10
RPC_TIMEOUT = 10.0


def _opaque(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data + b"\0" * (-len(data) % 4)


def request(brick_path: str, enable: bool, xid: int) -> bytes:
    """The CALL record's payload (gd1_mgmt_brick_op_req: name, op, input dict, dict)."""
    args = (_opaque(brick_path.encode()) + struct.pack(">i", GLUSTERD_BRICK_BARRIER)
            + _opaque(dict_serialize({"barrier": "enable" if enable else "disable"})) + _opaque(b""))
    return struct.pack(">IIIIIIIIII", xid, 0, 2, PROGRAM, VERSION, GLUSTERD_BRICK_BARRIER, 0, 0, 0, 0) + args


def parse_reply(reply: bytes, xid: int) -> tuple[int, int, str]:
    """(op_ret, op_errno, op_errstr) of a gd1_mgmt_brick_op_rsp; ValueError if it is not one."""
    try:
        rxid, mtype, reply_stat = struct.unpack_from(">III", reply, 0)
        if rxid != xid or mtype != 1 or reply_stat != 0:
            raise ValueError("not an accepted reply to this call")
        (vlen,) = struct.unpack_from(">I", reply, 16)
        off = 20 + vlen + (-vlen % 4)
        accept_stat, op_ret, op_errno, out_len = struct.unpack_from(">IiiI", reply, off)
        if accept_stat != 0:
            raise ValueError(f"call not accepted (status {accept_stat})")
        off += 16 + out_len + (-out_len % 4)
        errstr = ""
        if off + 4 <= len(reply):
            (slen,) = struct.unpack_from(">I", reply, off)
            errstr = reply[off + 4:off + 4 + slen].decode(errors="replace")
        return op_ret, op_errno, errstr
    except struct.error as exc:
        raise ValueError(f"truncated reply: {exc}") from None



def set_barrier(sock_path: str, brick_path: str, enable: bool, timeout: float = RPC_TIMEOUT) -> None:
    """Turn the barrier of the brick listening on `sock_path` on or off; AgentError if it did not."""
    what = f"barrier {'enable' if enable else 'disable'} on brick {brick_path}"
    xid = int.from_bytes(os.urandom(4), "big")
    call = request(brick_path, enable, xid)
    try:
        reply = call_unix(sock_path, call, timeout)
    except FileNotFoundError:
        raise AgentError("no_brick_socket", f"{what}: the brick has no brick-op socket ({sock_path})",
                         "the brick runs without -S (started by an older agent) or is not running: restart the "
                         "volume (`kadalu volume stop` / `start`), then take the snapshot again", errno.ENOENT) from None
    except (OSError, Malformed) as exc:
        raise AgentError("barrier_rpc", f"{what}: no answer on {sock_path}: {exc}",
                         "see the brick's log; is the brick running?", errno.EIO) from None
    try:
        op_ret, op_errno, errstr = parse_reply(reply, xid)
    except ValueError as exc:
        raise AgentError("barrier_rpc", f"{what}: bad answer: {exc}", "see the brick's log", errno.EIO) from None
    if op_ret != 0:
        raise AgentError("barrier_refused", f"{what} failed: {errstr or os.strerror(op_errno or errno.EIO)}",
                         "see the brick's log", op_errno or errno.EIO)
