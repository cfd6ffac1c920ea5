"""A minimal Gluster volfile server: the part of glusterd's management port (24007) that clients
need to fetch their volfile and to be told when it changed.

Clients mount with `glusterfs -s <address> --volfile-server-port <port> --volfile-id <vol> MNT`.
They keep the management connection open; `notify_change()` sends glusterd's FETCHSPEC callback
over it, the client fetches the volfile again and, if its checksum differs, switches to the new
graph (or only reconfigures options when the topology is the same).

Wire format: SunRPC over TCP (or a unix socket) with record marking (nodeagent/sunrpc.py). Programs:

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
answered with op_ret -1, op_errno EACCES. Brick and daemon volfiles are served by a second
instance on a root-only unix socket (see `VolfileServer`, nodeagent/local_volfiles.py).
"""
from __future__ import annotations

import errno
import hashlib
import itertools
import logging
import os
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from nodeagent.sunrpc import (
    CALL,
    GARBAGE_ARGS,
    PROC_UNAVAIL,
    PROG_MISMATCH,
    PROG_UNAVAIL,
    REPLY,
    SUCCESS,
    Malformed,
    XdrReader,
    accepted_reply,
    call_header,
    read_record,
    record,
)
from nodeagent.sunrpc import i32 as _i32
from nodeagent.sunrpc import u32 as _u32
from nodeagent.sunrpc import u64 as _u64
from nodeagent.sunrpc import xdr_opaque as _opaque

log = logging.getLogger(__name__)

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


class Refused(Exception):
    """`volfile_for` will not give this peer the volfile; the message says why (it is logged)."""


def privileged_port(address: str, port: int) -> str | None:
    """The default peer check: None (go on) for a privileged source port, else why not."""
    if port < PRIVILEGED_PORT_CEILING:
        return None
    return (f"source port {port} is not privileged (below {PRIVILEGED_PORT_CEILING}): only root may fetch "
            "volfiles, they carry the volume's credentials (mount with `kadalu mount` as root)")


def root_peer(address: str, uid: int) -> str | None:
    """The check on the agent's unix socket (brick and daemon volfiles): the peer process must run
    as root (its uid from SO_PEERCRED, which the kernel fills in, not the peer)."""
    if uid == 0:
        return None
    return f"peer uid {uid} is not root: brick and daemon volfiles go only to root processes of this node"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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


class _Handler(socketserver.StreamRequestHandler):
    server: _TCPServer

    def setup(self) -> None:
        super().setup()
        self.lock = threading.Lock()  # replies and callbacks share the socket
        self.keys: set[str] = set()
        self.fetched: dict[str, str] = {}  # key -> digest of the volfile last sent on this connection
        if self.server.owner.unix_path:
            # SO_PEERCRED: struct ucred {pid_t pid; uid_t uid; gid_t gid}, filled in by the kernel
            _pid, uid, _gid = struct.unpack("3i", self.request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            self.peer: tuple[str, int] = ("local", uid)
        else:
            self.peer = (self.client_address[0], self.client_address[1])
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


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    owner: VolfileServer


class VolfileServer:
    """Serves client volfiles over Gluster's handshake program and tells connected clients when
    to fetch again. `volfile_for(key, peer address)` gives the volfile for a --volfile-id, None
    for an unknown key, or raises Refused; `peer_check` (see the module docstring) runs first.

    With `unix_path` it listens on that unix socket instead (the node's own bricks and daemons:
    `glusterfsd -s <path> --volfile-server-transport unix`): the directory is made 0700, the
    socket 0600, and `peer_check` gets ("local", the peer's uid) and defaults to `root_peer`."""

    def __init__(self, address: str, volfile_for: Callable[[str, str], str | None], port: int = 24007,
                 peer_check: Callable[[str, int], str | None] | None = None, unix_path: str | None = None):
        self.address, self.port, self.volfile_for, self.unix_path = address, port, volfile_for, unix_path
        self.peer_check = peer_check or (root_peer if unix_path else privileged_port)
        self._server: _TCPServer | _UnixServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[_Handler] = set()
        self._conns_lock = threading.Lock()
        self._xids = itertools.count(1)
        self._brick_ports: dict[str, int] = {}
        self._fetches = threading.Condition()

    # lifecycle
    def start(self) -> None:
        server: _TCPServer | _UnixServer
        if self.unix_path:
            path = Path(self.unix_path)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(path.parent, 0o700)
            path.unlink(missing_ok=True)  # left by an agent that died: nobody listens on it
            old = os.umask(0o177)
            try:
                server = _UnixServer(str(path), _Handler, bind_and_activate=True)
            finally:
                os.umask(old)
            os.chmod(path, 0o600)
        else:
            server = _TCPServer((self.address, self.port), _Handler, bind_and_activate=True)
            self.port = server.server_address[1]
        server.owner = self
        self._server = server
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
        if self.unix_path:
            Path(self.unix_path).unlink(missing_ok=True)
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

    def notify_change(self, keys: Iterable[str] | None = None) -> int:
        """Send the FETCHSPEC callback to every connected client (or to those that fetched one of
        `keys`); return how many got it. A connection the send fails on is dropped."""
        wanted = None if keys is None else set(keys)
        with self._conns_lock:
            conns = [c for c in self._conns if wanted is None or c.keys & wanted]
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

    def holders(self, key: str) -> int:
        """How many connections fetched `key` (the processes that run its graph and follow it)."""
        with self._conns_lock:
            return sum(1 for c in self._conns if key in c.keys)

    def wait_fetched(self, key: str, text: str, timeout: float) -> bool:
        """Wait until every connection holding `key` (at least one) was last sent exactly `text`:
        a process fetched this graph. glusterfsd applies a fetched volfile in the reply's callback
        (in place when its shape is the same), so this is the confirmation that it runs it."""
        want, deadline = digest(text), time.monotonic() + timeout
        with self._fetches:
            while True:
                with self._conns_lock:
                    held = [c.fetched.get(key) for c in self._conns if key in c.keys]
                if held and all(d == want for d in held):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._fetches.wait(min(left, 0.5))

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
        address, port = conn.peer
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
        with self._fetches:
            conn.fetched[key] = digest(text)
            self._fetches.notify_all()
        spec = text.encode()
        return getspec_rsp(len(spec), 0, spec)
