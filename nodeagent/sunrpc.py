"""SunRPC over TCP or a unix socket with record marking (RFC 5531): XDR reading and writing, the
record framing and the reply headers the volfile server and its tests use."""
import socket
import struct

# SunRPC
CALL, REPLY = 0, 1
MSG_ACCEPTED = 0
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = 0, 1, 2, 3, 4
AUTH_NULL = 0
LAST_FRAGMENT = 0x80000000
MAX_RECORD = 64 * 1024


class Malformed(Exception):
    """The peer sent something that is not a well-formed record: drop the connection."""


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


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def u64(v: int) -> bytes:
    return struct.pack(">Q", v)


def xdr_opaque(b: bytes) -> bytes:
    return u32(len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def record(payload: bytes) -> bytes:
    """One record in a single last fragment."""
    return u32(LAST_FRAGMENT | len(payload)) + payload


def call_header(xid: int, prog: int, vers: int, proc: int) -> bytes:
    """A CALL with AUTH_NULL credentials and verifier."""
    return b"".join(u32(v) for v in (xid, CALL, 2, prog, vers, proc, AUTH_NULL, 0, AUTH_NULL, 0))


def accepted_reply(xid: int, stat: int = SUCCESS, body: bytes = b"") -> bytes:
    return b"".join(u32(v) for v in (xid, REPLY, MSG_ACCEPTED, AUTH_NULL, 0, stat)) + body


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


def call_unix(sock_path: str, call: bytes, timeout: float) -> bytes:
    """Send one call record over a unix stream socket and read its reply record (the brick-op
    socket of a brick, the rebalance process's socket). OSError when the socket is missing or the
    peer does not answer within `timeout`; Malformed for a broken, oversized or missing reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(record(call))
        with s.makefile("rb") as f:
            reply = read_record(f)
    if reply is None:
        raise Malformed("the connection closed before a reply")
    return reply
