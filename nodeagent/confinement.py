"""Where this agent may act: devices only under its allowed roots (--device-root, KADALU_DEVICE_ROOTS)
and never in a system directory; bricks only strictly inside a directory device it accepted.

The agent runs as root and the control plane tells it which paths to use. It checks each path
itself, after resolving symlinks (a symlink inside an allowed root pointing at /etc is refused),
so neither a mistaken control plane nor a forged message can make it create, start or delete
anything elsewhere on the node."""
import errno
import os

from contracts.checks import under
from contracts.device_paths import BLOCK_ROOT, denied_problem
from nodeagent.device_registry import DeviceRegistry
from nodeagent.errors import AgentError


def _shown(path: str, real: str) -> str:
    return path if path == real else f"{path} (which resolves to {real})"


class Confinement:
    def __init__(self, roots: tuple[str, ...], state_dir: str | os.PathLike, node: str = "this node"):
        self.roots = tuple(roots)
        self.node = node
        # The agent's own state (credentials, task journal, pid files) is never a device.
        self.extra_denied = tuple(dict.fromkeys([os.path.abspath(state_dir), os.path.realpath(state_dir)]))

    def _under_a_root(self, path: str, real: str, kind: str) -> bool:
        for root in self.roots:
            if kind == "block":
                # a /dev/disk/by-id/... link is fine as long as it ends at a block node under /dev
                if under(root, BLOCK_ROOT) and (under(path, root) or under(real, root)):
                    return True
            elif not under(root, BLOCK_ROOT) and (under(real, root) or under(real, os.path.realpath(root))):
                return True
        return False

    def check_device(self, path: str, kind: str) -> str:
        """The real path of device `path` of `kind` ("directory" or "block"), or AgentError
        (denied_path, outside_roots) saying which rule refused it and how to fix it."""
        real = os.path.realpath(path)
        for candidate in dict.fromkeys([path, real]):
            problem = denied_problem(candidate, kind, self.extra_denied)
            if problem:
                raise AgentError("denied_path", f"device {_shown(path, real)} on {self.node}: {candidate} {problem}",
                                 "give a directory on a data file system (e.g. under /exports or /data), or a block "
                                 "device node under /dev", errno.EACCES)
        if not self._under_a_root(path, real, kind):
            what = "block devices (add /dev to the roots)" if kind == "block" else "directories"
            raise AgentError(
                "outside_roots",
                f"device {_shown(path, real)} on {self.node} is not under this agent's device roots "
                f"({', '.join(self.roots)}) for {what}",
                "put the device under one of those roots, or restart kadalu-agent on the node with "
                "--device-root DIR (KADALU_DEVICE_ROOTS) naming its parent", errno.EACCES)
        return real

    def check_brick(self, path: str, registry: DeviceRegistry) -> str:
        """The real path of brick `path` when it lies strictly inside a directory device this agent
        accepted, and inside its roots; AgentError otherwise. Call before touching anything."""
        if os.path.islink(path):
            raise AgentError("symlink", f"brick path {path} on {self.node} is a symbolic link",
                             "a brick must be a real directory: remove the link, or use another brick path",
                             errno.ELOOP)
        real = os.path.realpath(path)
        if registry.directory_holding(real) is None:
            raise AgentError(
                "outside_devices",
                f"brick {_shown(path, real)} is not inside a device that {self.node}'s agent accepted",
                "register the brick's parent directory on this node (`kadalu device add -c CLUSTER NODE --path DIR "
                "--wait`) and give bricks inside it; nothing was touched", errno.EACCES)
        try:
            self.check_device(path, "directory")
        except AgentError as exc:  # the roots were narrowed since the device was accepted
            raise AgentError("outside_devices", f"brick {path}: {exc.message}", exc.hint, exc.errno) from None
        return real
