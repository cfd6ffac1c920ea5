"""A libgfapi client (what Samba and NFS-Ganesha use) driven through ctypes, for tests that must
reach bricks without FUSE: the kernel checks permissions on a FUSE mount, here only the bricks do.

Run as a separate process (so it can drop to another uid and so a hung libgfapi cannot take the
test with it): `python3 -c <this source>` with one JSON object on stdin,
{"volume": name, "volfile": text, "ops": [[op, path, arg?], ...], "log": path}, prints one JSON
object: {"init": errno name, "TIMEOUT" or "OK", "results": ["OK" | errno name, ...], "data": {path: text}}.
Ops: write (path, text: create or truncate, then write), read, truncate, creat (mode 0644),
unlink, chmod (mode as an octal string), mkdir. Only the standard library: the child may run as
an unprivileged user with the system python.
"""
import ctypes
import errno
import json
import os
import sys
import tempfile
import threading

O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC = os.O_RDONLY, os.O_WRONLY, os.O_CREAT, os.O_TRUNC


def _name(code: int) -> str:
    return errno.errorcode.get(code, str(code))


def main() -> None:
    req = json.load(sys.stdin)
    api = ctypes.CDLL("libgfapi.so.0", use_errno=True)
    api.glfs_new.restype = ctypes.c_void_p
    api.glfs_new.argtypes = [ctypes.c_char_p]
    for fn in ("glfs_set_volfile", "glfs_set_logging"):
        getattr(api, fn).restype = ctypes.c_int
    api.glfs_set_volfile.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    api.glfs_set_logging.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    api.glfs_init.argtypes = [ctypes.c_void_p]
    api.glfs_fini.argtypes = [ctypes.c_void_p]
    api.glfs_creat.restype = api.glfs_open.restype = ctypes.c_void_p
    api.glfs_creat.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint]
    api.glfs_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    api.glfs_close.argtypes = [ctypes.c_void_p]
    api.glfs_write.restype = api.glfs_read.restype = ctypes.c_ssize_t
    api.glfs_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    api.glfs_read.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    api.glfs_truncate.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_longlong]
    api.glfs_unlink.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    api.glfs_chmod.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]
    api.glfs_mkdir.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint]

    out = {"init": "OK", "results": [], "data": {}}
    with tempfile.TemporaryDirectory(prefix="gfapi-probe-") as tmp:
        volfile = os.path.join(tmp, "client.vol")
        with open(volfile, "w") as f:
            f.write(req["volfile"])
        fs = api.glfs_new(req["volume"].encode())
        api.glfs_set_volfile(fs, volfile.encode())
        api.glfs_set_logging(fs, req["log"].encode(), 7)  # INFO
        # A client the bricks refuse (AUTH_FAILED) never finishes glfs_init in 10.3: it waits for
        # a brick forever. The call runs in a thread (ctypes lets go of the GIL) with a bound.
        started = {}
        thread = threading.Thread(target=lambda: started.update(ret=api.glfs_init(fs), err=ctypes.get_errno()),
                                  daemon=True)
        thread.start()
        thread.join(req.get("init_timeout", 20))
        if thread.is_alive():
            out["init"] = "TIMEOUT"
        elif started["ret"] != 0:
            out["init"] = _name(started["err"] or errno.EIO)
        if out["init"] != "OK":
            print(json.dumps(out), flush=True)
            os._exit(0)

        def check(ret) -> str:
            return "OK" if ret == 0 else _name(ctypes.get_errno())

        for op, path, *arg in req["ops"]:
            p = path.encode()
            ctypes.set_errno(0)
            if op == "write":
                fd = api.glfs_creat(fs, p, O_WRONLY | O_TRUNC, 0o644)
                if not fd:
                    out["results"].append(_name(ctypes.get_errno()))
                    continue
                body = arg[0].encode()
                n = api.glfs_write(fd, body, len(body), 0)
                res = "OK" if n == len(body) else _name(ctypes.get_errno())
                api.glfs_close(fd)
                out["results"].append(res)
            elif op == "read":
                fd = api.glfs_open(fs, p, O_RDONLY)
                if not fd:
                    out["results"].append(_name(ctypes.get_errno()))
                    continue
                buf = ctypes.create_string_buffer(65536)
                n = api.glfs_read(fd, buf, 65536, 0)
                api.glfs_close(fd)
                if n < 0:
                    out["results"].append(_name(ctypes.get_errno()))
                else:
                    out["data"][path] = buf.raw[:n].decode()
                    out["results"].append("OK")
            elif op == "creat":
                fd = api.glfs_creat(fs, p, O_WRONLY | O_CREAT, 0o644)
                out["results"].append("OK" if fd else _name(ctypes.get_errno()))
                if fd:
                    api.glfs_close(fd)
            elif op == "truncate":
                out["results"].append(check(api.glfs_truncate(fs, p, 0)))
            elif op == "unlink":
                out["results"].append(check(api.glfs_unlink(fs, p)))
            elif op == "chmod":
                out["results"].append(check(api.glfs_chmod(fs, p, int(arg[0], 8))))
            elif op == "mkdir":
                out["results"].append(check(api.glfs_mkdir(fs, p, int(arg[0], 8) if arg else 0o755)))
            else:
                out["results"].append(f"unknown op {op}")
    # No glfs_fini: it can hang on a half-connected graph; every fd is closed (flushed) already
    # and the bricks see the connection close when the process ends.
    print(json.dumps(out), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
