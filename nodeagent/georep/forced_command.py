"""The forced command of a geo-replication key in authorized_keys (standard library only: sshd runs
it as `/usr/bin/python3 -I <this file> <shim dir>`).

A master may run only what gsyncd needs on this node, and nothing through a shell:
- `<...>/gsyncd secondary ...`: gsyncd's remote side, told to use this session's shim directory;
- `<...>/gluster --xml --remote-host=... volume info <vol>`: this session's answer;
- `rsync --server ...` writing into a gsyncd auxiliary mount (a temporary `gsyncd-aux-mount-*`).
Anything else is refused."""
import os
import shlex
import sys
import tempfile

GSYNCD = "/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd"
RSYNC = "/usr/bin/rsync"


def plan(command: str, shim_dir: str, tmp: str) -> list[str] | None:
    """The argv to run for the master's `command`, or None when it is not allowed."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if not argv:
        return None
    name = os.path.basename(argv[0])
    if name == "gsyncd" and argv[1:2] == ["secondary"]:
        out, rest = [GSYNCD, "secondary"], argv[2:]
        while rest:
            arg = rest.pop(0)
            if arg == "--secondary-gluster-command-dir":
                rest = rest[1:]
                continue
            out.append(arg)
        return out + ["--secondary-gluster-command-dir", shim_dir]
    if name == "gluster":
        return [os.path.join(shim_dir, "gluster")] + argv[1:]
    if name == "rsync" and "--server" in argv[1:] and len(argv) > 2:
        rel = os.path.relpath(os.path.realpath(argv[-1]), tmp)
        if not rel.startswith("..") and rel.split(os.sep)[0].startswith("gsyncd-aux-mount-"):
            return [RSYNC] + argv[1:]
    return None


def main() -> int:
    shim_dir = sys.argv[1] if len(sys.argv) > 1 else ""
    argv = plan(os.environ.get("SSH_ORIGINAL_COMMAND", ""), shim_dir, os.path.realpath(tempfile.gettempdir()))
    if argv is None or not os.path.isabs(shim_dir):
        sys.stderr.write("kadalu geo-replication: this key runs gsyncd only\n")
        return 1
    env = {k: v for k, v in os.environ.items() if k != "SSH_ORIGINAL_COMMAND"}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    os.execve(argv[0], argv, env)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
