"""A minimal Gluster volfile server: the part of glusterd's management port (24007) that clients
need to fetch their volfile and to be told when it changed.

Clients mount with `glusterfs -s <address> --volfile-server-port <port> --volfile-id <vol> MNT`.
They keep the management connection open; `notify_change()` sends glusterd's FETCHSPEC callback
over it, the client fetches the volfile again and, if its checksum differs, switches to the new
graph (or only reconfigures options when the topology is the same).

Wire format: SunRPC over TCP with record marking (RFC 5531). Programs answered:

- GlusterFS Handshake 14398633 v2: NULL, GETSPEC (gf_getspec_req -> gf_getspec_rsp), PING,
  EVENT_NOTIFY (acknowledged), GET_VOLUME_INFO (op_ret -1).
- GF-DUMP 123451501 v1: NULL, DUMP (the program list), PING (gf_common_rsp).
- Gluster Portmap 34123456 v1: NULL, SIGNIN/SIGNOUT (a brick started with -s signs in after its
  first GETSPEC, and its parent process exits 1 unless that succeeds), PORTBYBRICK answered from
  the sign-ins (op_ret -1 for a brick never signed in; our client volfiles carry remote-port, so
  clients do not need it), others PROC_UNAVAIL.
Anything else: PROG_UNAVAIL / PROC_UNAVAIL. A malformed or oversized record closes only that
connection.

The callback sent by `notify_change()` is an RPC CALL from server to client: program
GLUSTER_CBK 52743234 v1, proc FETCHSPEC (1), AUTH_NULL credentials, no arguments, no reply.

Who gets a volfile: volfiles carry the volume's client credentials (whoever holds them can act as
any user on the bricks), so GETSPEC is answered only for an authorised peer. `peer_check(address,
port)` decides first (default: the peer's source port must be privileged, below 1024, which only
root can bind: `kadalu mount` relays the glusterfs client's management connection from one, see
cli/volfile_relay.py); then `volfile_for(key, address)` may refuse by raising `Refused` (the
volume's auth.allow / auth.reject, see nodeagent/client_volfiles.py). A refusal is logged and
answered with op_ret -1, op_errno EACCES.
"""
from __future__ import annotations

import errno
import itertools
import logging
import socket
import socketserver
import struct
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# SunRPC
CALL, REPLY = 0, 1
MSG_ACCEPTED = 0
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = 0, 1, 2, 3, 4
AUTH_NULL = 0
LAST_FRAGMENT = 0x80000000
MAX_RECORD = 64 * 1024

# Gluster programs (rpc/rpc-lib/src/protocol-common.h)
HNDSK_PROGRAM, HNDSK_VERSION = 14398633, 2
HNDSK_NULL, HNDSK_SETVOLUME, HNDSK_GETSPEC, HNDSK_PING, HNDSK_EVENT_NOTIFY, HNDSK_GET_VOLUME_INFO = range(6)
DUMP_PROGRAM, DUMP_VERSION = 123451501, 1
DUMP_NULL, DUMP_DUMP, DUMP_PING = 0, 1, 2
PMAP_PROGRAM, PMAP_VERSION = 34123456, 1
# 3 is the deprecated SIGNUP; glusterfsd 10.3 signs in with 4 and out with 5
PMAP_NULL, PMAP_PORTBYBRICK, PMAP_BRICKBYPORT, PMAP_SIGNUP, PMAP_SIGNIN, PMAP_SIGNOUT = range(6)
CBK_PROGRAM, CBK_VERSION = 52743234, 1
CBK_FETCHSPEC = 1

PROGRAMS = [("GlusterFS Handshake", HNDSK_PROGRAM, HNDSK_VERSION),
            ("Gluster Portmap", PMAP_PROGRAM, PMAP_VERSION),
            ("GF-DUMP", DUMP_PROGRAM, DUMP_VERSION)]


PRIVILEGED_PORT_CEILING = 1024  # GlusterFS's own name for it (auth/addr, rpcsvc)


class Malformed(Exception):
    """The peer sent something that is not a well-formed record: drop the connection."""


class Refused(Exception):
    """`volfile_for` will not give this peer the volfile; the message says why (it is logged)."""


def privileged_port(address: str, port: int) -> str | None:
    """The default peer check: None (go on) for a privileged source port, else why not."""
    if port < PRIVILEGED_PORT_CEILING:
        return None
    return (f"source port {port} is not privileged (below {PRIVILEGED_PORT_CEILING}): only root may fetch "
            "volfiles, they carry the volume's credentials (mount with `kadalu mount` as root)")


class XdrReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Malformed("truncated XDR")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self) -> int:
        return struct.unpack(">I", self._take(4))[0]

    def int32(self) -> int:
        return struct.unpack(">i", self._take(4))[0]

    def uhyper(self) -> int:
        return struct.unpack(">Q", self._take(8))[0]

    def opaque(self) -> bytes:
        n = self.uint()
        body = self._take(n)
        self._take((4 - n % 4) % 4)
        return body

    def string(self) -> str:
        return self.opaque().decode("utf-8", "replace")


def _u32(v: int) -> bytes:
    return struct.pack(">I", v)


def _i32(v: int) -> bytes:
    return struct.pack(">i", v)


def _u64(v: int) -> bytes:
    return struct.pack(">Q", v)


def _opaque(b: bytes) -> bytes:
    return _u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def record(payload: bytes) -> bytes:
    """One record in a single last fragment."""
    return _u32(LAST_FRAGMENT | len(payload)) + payload


def call_header(xid: int, prog: int, vers: int, proc: int) -> bytes:
    """A CALL with AUTH_NULL credentials and verifier."""
    return b"".join(_u32(v) for v in (xid, CALL, 2, prog, vers, proc, AUTH_NULL, 0, AUTH_NULL, 0))


def accepted_reply(xid: int, stat: int = SUCCESS, body: bytes = b"") -> bytes:
    return b"".join(_u32(v) for v in (xid, REPLY, MSG_ACCEPTED, AUTH_NULL, 0, stat)) + body


def getspec_rsp(op_ret: int, op_errno: int, spec: bytes) -> bytes:
    # gf_getspec_rsp {int op_ret; int op_errno; string spec<>; opaque xdata<>}; on success
    # op_ret is the spec's length: the client reads that many bytes of it.
    return _i32(op_ret) + _i32(op_errno) + _opaque(spec) + _opaque(b"")


def common_rsp(op_ret: int = 0, op_errno: int = 0) -> bytes:
    # gf_common_rsp {int op_ret; int op_errno; opaque xdata<>}
    return _i32(op_ret) + _i32(op_errno) + _opaque(b"")


def dump_rsp(gfs_id: int) -> bytes:
    # gf_dump_rsp {u_quad_t gfs_id; int op_ret; int op_errno; gf_prog_detail *prog}, the list
    # as XDR optional-data: each entry preceded by TRUE, the end by FALSE.
    body = _u64(gfs_id) + _i32(0) + _i32(0)
    for name, num, ver in PROGRAMS:
        body += _u32(1) + _opaque(name.encode()) + _u64(num) + _u64(ver)
    return body + _u32(0)


def read_record(rfile) -> bytes | None:
    """Read one record (all its fragments); None at a clean EOF between records."""
    data = b""
    while True:
        header = rfile.read(4)
        if not header:
            if data:
                raise Malformed("EOF inside a record")
            return None
        if len(header) < 4:
            raise Malformed("EOF inside a fragment header")
        (word,) = struct.unpack(">I", header)
        size = word & 0x7FFFFFFF
        if len(data) + size > MAX_RECORD:
            raise Malformed(f"record larger than {MAX_RECORD} bytes")
        frag = rfile.read(size)
        if len(frag) < size:
            raise Malformed("EOF inside a fragment")
        data += frag
        if word & LAST_FRAGMENT:
            return data


class _Handler(socketserver.StreamRequestHandler):
    server: _TCPServer

    def setup(self) -> None:
        super().setup()
        self.lock = threading.Lock()  # replies and callbacks share the socket
        self.keys: set[str] = set()
        self.server.owner._add(self)

    def finish(self) -> None:
        self.server.owner._remove(self)
        try:
            super().finish()
        except OSError:
            pass

    def send(self, payload: bytes) -> None:
        with self.lock:
            self.request.sendall(record(payload))

    def handle(self) -> None:
        try:
            while True:
                msg = read_record(self.rfile)
                if msg is None:
                    return
                reply = self.server.owner._dispatch(msg, self)
                if reply is not None:
                    self.send(reply)
        except Malformed as exc:
            log.warning("volfile server: dropping %s: %s", self.client_address, exc)
        except OSError:
            pass


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    owner: VolfileServer


class VolfileServer:
    """Serves client volfiles over Gluster's handshake program and tells connected clients when
    to fetch again. `volfile_for(key, peer address)` gives the volfile for a --volfile-id, None
    for an unknown key, or raises Refused; `peer_check` (see the module docstring) runs first."""

    def __init__(self, address: str, volfile_for: Callable[[str, str], str | None], port: int = 24007,
                 peer_check: Callable[[str, int], str | None] = privileged_port):
        self.address, self.port, self.volfile_for, self.peer_check = address, port, volfile_for, peer_check
        self._server: _TCPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[_Handler] = set()
        self._conns_lock = threading.Lock()
        self._xids = itertools.count(1)
        self._brick_ports: dict[str, int] = {}

    # lifecycle
    def start(self) -> None:
        server = _TCPServer((self.address, self.port), _Handler, bind_and_activate=True)
        server.owner = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name=f"volfile-server-{self.port}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> VolfileServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # connections
    def _add(self, conn: _Handler) -> None:
        with self._conns_lock:
            self._conns.add(conn)

    def _remove(self, conn: _Handler) -> None:
        with self._conns_lock:
            self._conns.discard(conn)

    def connections(self) -> int:
        with self._conns_lock:
            return len(self._conns)

    def notify_change(self) -> int:
        """Send the FETCHSPEC callback to every connected client; return how many got it.
        A connection the send fails on is dropped."""
        with self._conns_lock:
            conns = list(self._conns)
        sent = 0
        for conn in conns:
            try:
                conn.send(call_header(next(self._xids), CBK_PROGRAM, CBK_VERSION, CBK_FETCHSPEC))
                sent += 1
            except OSError:
                self._remove(conn)
                try:
                    conn.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return sent

    # RPC
    def _dispatch(self, msg: bytes, conn: _Handler) -> bytes | None:
        r = XdrReader(msg)
        xid, mtype = r.uint(), r.uint()
        if mtype == REPLY:
            return None  # a client never replies to callbacks; ignore if one does
        if mtype != CALL:
            raise Malformed(f"message type {mtype}")
        rpcvers, prog, vers, proc = r.uint(), r.uint(), r.uint(), r.uint()
        r.uint(), r.opaque()  # credentials: not checked
        r.uint(), r.opaque()  # verifier
        if rpcvers != 2:
            # RPC_MISMATCH: MSG_DENIED, low = high = 2
            return b"".join(_u32(v) for v in (xid, REPLY, 1, 0, 2, 2))
        known = {p: v for _, p, v in PROGRAMS}
        if prog not in known:
            return accepted_reply(xid, PROG_UNAVAIL)
        if vers != known[prog]:
            return accepted_reply(xid, PROG_MISMATCH, _u32(known[prog]) + _u32(known[prog]))
        try:
            body = self._call(prog, proc, r, conn)
        except Malformed:
            return accepted_reply(xid, GARBAGE_ARGS)
        if body is None:
            return accepted_reply(xid, PROC_UNAVAIL)
        return accepted_reply(xid, SUCCESS, body)

    def _call(self, prog: int, proc: int, args: XdrReader, conn: _Handler) -> bytes | None:
        if proc == 0:  # NULL of every program
            return b""
        if prog == HNDSK_PROGRAM:
            if proc == HNDSK_GETSPEC:
                args.uint()  # flags
                key = args.string()
                args.opaque()  # xdata: min/max-op-version, brick_name
                return self._getspec(key, conn)
            if proc == HNDSK_PING:
                return common_rsp()
            if proc == HNDSK_EVENT_NOTIFY:
                # gf_event_notify_rsp {int op_ret; int op_errno; opaque dict<>}
                return common_rsp()
            if proc == HNDSK_GET_VOLUME_INFO:
                # gf_get_volume_info_rsp {int op_ret; int op_errno; string op_errstr<>; opaque dict<>}
                return _i32(-1) + _i32(errno.ENOTSUP) + _opaque(b"not supported") + _opaque(b"")
            return None
        if prog == DUMP_PROGRAM:
            if proc == DUMP_DUMP:
                return dump_rsp(args.uhyper())
            if proc == DUMP_PING:
                return common_rsp()
            return None
        if prog == PMAP_PROGRAM:
            if proc == PMAP_PORTBYBRICK:
                # pmap_port_by_brick_req {string brick<>}
                # pmap_port_by_brick_rsp {int op_ret; int op_errno; int status; int port}
                port = self._brick_ports.get(args.string())
                if port is None:
                    return _i32(-1) + _i32(errno.ENOENT) + _i32(0) + _i32(0)
                return _i32(0) + _i32(0) + _i32(1) + _i32(port)
            if proc in (PMAP_SIGNIN, PMAP_SIGNOUT):
                # pmap_signin_req / pmap_signout_req {string brick<>; int port; int rdma_port}
                # pmap_signin_rsp / pmap_signout_rsp {int op_ret; int op_errno}
                brick, port = args.string(), args.int32()
                if proc == PMAP_SIGNIN:
                    self._brick_ports[brick] = port
                else:
                    self._brick_ports.pop(brick, None)
                return _i32(0) + _i32(0)
        return None

    def _getspec(self, key: str, conn: _Handler) -> bytes:
        address, port = conn.client_address[:2]
        try:
            why = self.peer_check(address, port)
            if why:
                raise Refused(why)
            text = self.volfile_for(key, address)
        except Refused as exc:
            log.warning("volfile server: refused volfile %r to %s:%s: %s", key, address, port, exc)
            return getspec_rsp(-1, errno.EACCES, b"")
        except Exception:  # a broken lookup must not take the connection down
            log.exception("volfile lookup for %r failed", key)
            return getspec_rsp(-1, errno.EIO, b"")
        if text is None:
            return getspec_rsp(-1, errno.ENOENT, b"")
        conn.keys.add(key)
        spec = text.encode()
        return getspec_rsp(len(spec), 0, spec)
