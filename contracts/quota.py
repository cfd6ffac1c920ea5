"""Quota values that cross the control plane / agent boundary: directory paths inside a volume,
the limit values, and how GlusterFS 10.3 encodes them in xattrs.

A quota path is a directory of the volume as a mount sees it: absolute from the volume's root
("/" is the root itself), normalised (no '.', '..', '//' or trailing '/'), at most MAX_QUOTA_PATH
characters and 255 bytes per name, with no control characters (NUL included). The agent joins it
under its own mount point only after this check, and refuses a symlink anywhere along it."""
import struct

MAX_QUOTA_PATH = 4096
MAX_LIMITS_PER_VOLUME = 1024
MAX_BYTES = 2**63 - 1
# xattrs (GlusterFS quota.h / marker-quota.h): set on a `--client-pid -5` mount, read on it too
LIMIT_XATTR = "trusted.glusterfs.quota.limit-set"  # !qq: hard bytes, soft percent (-1: the default)
INODE_LIMIT_XATTR = "trusted.glusterfs.quota.inode-limit-set"  # !qq: hard objects, soft percent
SIZE_XATTR = "trusted.glusterfs.quota.size"  # !qqq: bytes, files, dirs (older bricks: !q bytes)
DEFAULT_SOFT_PERCENT = 80  # GlusterFS's default soft limit (features.default-soft-limit)


def quota_path_problem(path: object) -> str | None:
    """Why `path` is not a quota path; None when it is."""
    if not isinstance(path, str) or not path.startswith("/"):
        return "is not an absolute path inside the volume (start it with '/', the volume's root)"
    if len(path) > MAX_QUOTA_PATH:
        return f"is longer than {MAX_QUOTA_PATH} characters"
    if any(not c.isprintable() for c in path):
        return "contains control characters"
    if path == "/":
        return None
    parts = path.split("/")[1:]
    if any(p in ("", ".", "..") for p in parts):
        return "is not normalised: no '.', '..', '//' or trailing '/' (write it as /dir/subdir)"
    if any(len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts):
        return "has a name longer than 255 bytes"
    return None


def check_quota_path(path: str) -> str:
    problem = quota_path_problem(path)
    if problem:
        raise ValueError(f"quota path {str(path)[:120]!r} {problem}")
    return path


def encode_limit(hard: int, soft_percent: int | None) -> bytes:
    return struct.pack("!qq", hard, -1 if soft_percent is None else soft_percent)


def decode_size(raw: bytes) -> tuple[int, int, int]:
    """(bytes, files, dirs) from trusted.glusterfs.quota.size."""
    if len(raw) >= 24:
        size, files, dirs = struct.unpack("!qqq", raw[:24])
        return max(0, size), max(0, files), max(0, dirs)
    if len(raw) >= 8:
        return max(0, struct.unpack("!q", raw[:8])[0]), 0, 0
    raise ValueError(f"quota size xattr of {len(raw)} bytes: expected 24 (or 8)")


def usage_reporter(bricks_node_ids: list[str]) -> str | None:
    """The node that reads and reports a volume's quota usage: the node of its first brick (the
    control plane orders the bricks; one reader is enough, every node sees the same sizes)."""
    return bricks_node_ids[0] if bricks_node_ids else None
