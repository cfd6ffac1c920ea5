"""The barrier request on the wire, against a small brick-op server on a unix socket that decodes
what it gets the way glusterfsd does and answers as it would."""
import socket
import struct
import threading

import pytest

from nodeagent.errors import AgentError
from nodeagent.gluster.rebalance_rpc import dict_unserialize
from nodeagent.snapshots.barrier_rpc import GLUSTERD_BRICK_BARRIER, PROGRAM, VERSION, set_barrier
from nodeagent.sunrpc import XdrReader


def reply(xid: int, op_ret: int, op_errno: int = 0, errstr: bytes = b"") -> bytes:
    body = struct.pack(">IIIII", xid, 1, 0, 0, 0) + struct.pack(">IiiI", 0, op_ret, op_errno, 0)
    body += struct.pack(">I", len(errstr)) + errstr + b"\0" * (-len(errstr) % 4)
    return struct.pack(">I", 0x80000000 | len(body)) + body


def serve(path, op_ret=0, op_errno=0, errstr=b""):
    seen = {}
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def one():
        conn, _ = srv.accept()
        with conn:
            (header,) = struct.unpack(">I", conn.recv(4))
            data = b""
            while len(data) < header & 0x7FFFFFFF:
                data += conn.recv(65536)
            r = XdrReader(data)
            xid, _call, _rpcvers, prog, vers, proc = (r.uint() for _ in range(6))
            r.uint(), r.opaque(), r.uint(), r.opaque()  # credential, verifier
            seen.update(prog=prog, vers=vers, proc=proc, name=r.string(), op=r.int32(),
                        input=dict_unserialize(r.opaque()))
            conn.sendall(reply(xid, op_ret, op_errno, errstr))
        srv.close()

    t = threading.Thread(target=one, daemon=True)
    t.start()
    return seen, t


def test_enable_and_disable_are_sent_as_glusterd_sends_them(tmp_path):
    for enable, word in ((True, "enable"), (False, "disable")):
        sock = tmp_path / f"{word}.socket"
        seen, t = serve(sock)
        set_barrier(str(sock), "/bricks/b1", enable)
        t.join(5)
        assert seen == {"prog": PROGRAM, "vers": VERSION, "proc": GLUSTERD_BRICK_BARRIER, "name": "/bricks/b1",
                        "op": GLUSTERD_BRICK_BARRIER, "input": {"barrier": word}}


def test_a_refusal_is_an_error_with_the_bricks_reason(tmp_path):
    sock = tmp_path / "b.socket"
    _, t = serve(sock, op_ret=-1, op_errno=22, errstr=b"barrier xlator not found")
    with pytest.raises(AgentError) as refused:
        set_barrier(str(sock), "/bricks/b1", True)
    t.join(5)
    assert refused.value.code == "barrier_refused" and "barrier xlator not found" in refused.value.message


def test_a_brick_without_its_socket_says_to_restart_it(tmp_path):
    with pytest.raises(AgentError) as refused:
        set_barrier(str(tmp_path / "missing.socket"), "/bricks/b1", True)
    assert refused.value.code == "no_brick_socket" and "restart" in refused.value.hint
