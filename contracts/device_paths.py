"""Where a device (a directory for bricks, or a block device) may be, on both sides.

The node agent is the authority: it accepts a device only under the roots it was configured with
(KADALU_DEVICE_ROOTS / --device-root) and never inside a system directory, after resolving
symlinks. The control plane applies the same system-directory rule first, as defence in depth,
so an obviously dangerous path is refused before any task is sent."""
from contracts.checks import under

# Allowed roots when the agent is given none: the usual homes of brick file systems, and /dev
# (for block device nodes only: a directory under /dev is always refused).
DEFAULT_DEVICE_ROOTS: tuple[str, ...] = ("/exports", "/bricks", "/data", "/srv", "/mnt", "/dev")

# System directories no device may be in or contain. /dev is here too: only a block device node
# may be under it. /var/lib/kadalu holds the agent's and the server's own state by default.
DENIED_ROOTS: tuple[str, ...] = (
    "/proc", "/sys", "/dev", "/etc", "/root", "/boot", "/usr", "/bin", "/sbin",
    "/lib", "/lib32", "/lib64", "/libx32", "/run", "/var/lib/kadalu",
)
BLOCK_ROOT = "/dev"


def nested(a: str, b: str) -> bool:
    """`a` and `b` are the same path or one is inside the other (normalised absolute paths)."""
    return under(a, b) or under(b, a)


def denied_problem(path: str, kind: str, extra_denied: tuple[str, ...] = ()) -> str | None:
    """Why a device at normalised absolute `path` of `kind` ("directory" or "block") touches a
    system directory; None when it does not. A block device must be under /dev; a directory may not."""
    if kind == "block":
        if not under(path, BLOCK_ROOT) or path == BLOCK_ROOT:
            return f"is not under {BLOCK_ROOT}: give the block device node, e.g. /dev/vdc"
        denied = tuple(r for r in DENIED_ROOTS if r != BLOCK_ROOT) + extra_denied
    else:
        denied = DENIED_ROOTS + extra_denied
    for root in denied:
        if nested(path, root):
            where = "is" if path == root else ("is inside" if under(path, root) else "contains")
            return (f"{where} the system directory {root}, where no device may be: use a directory "
                    "on a data file system, e.g. under /exports or /data")
    return None
