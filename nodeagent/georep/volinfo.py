"""The answer gsyncd expects from `gluster --xml volume info <vol>` (it asks on both sides and goes
Faulty without one; no glusterd runs here), built from a checked VolumeSpec, and the small
executable that prints it from gsyncd's gluster-command-dir."""
import os
from pathlib import Path
from xml.sax.saxutils import escape

from contracts.checks import check_address
from contracts.volume_spec import VolumeSpec
from nodeagent.gluster.processes import write_atomic

_TYPES = {"distribute": "Distribute", "replicate": "Replicate", "arbiter": "Replicate", "disperse": "Disperse"}


def volume_info_xml(spec: VolumeSpec) -> str:
    """glusterd's XML for one volume, with the fields gsyncd reads (id, type, counts, bricks)."""
    size = spec.set_size
    bricks = "".join(
        f'<brick uuid="{escape(b.node_id)}">{escape(b.address)}:{escape(b.path)}<name>{escape(b.address)}:'
        f"{escape(b.path)}</name><hostUuid>{escape(b.node_id)}</hostUuid><isArbiter>0</isArbiter></brick>"
        for b in spec.bricks)
    replica = spec.replica_count if spec.type in ("replicate", "arbiter") else 1
    disperse = spec.disperse_count if spec.type == "disperse" else 0
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cliOutput><opRet>0</opRet><opErrno>0"
            "</opErrno><opErrstr/><volInfo><volumes><volume>"
            f"<name>{escape(spec.name)}</name><id>{escape(spec.id)}</id><status>1</status><statusStr>Started</statusStr>"
            f"<brickCount>{len(spec.bricks)}</brickCount><distCount>{size}</distCount>"
            f"<replicaCount>{replica}</replicaCount><arbiterCount>{spec.arbiter_count}</arbiterCount>"
            f"<disperseCount>{disperse}</disperseCount><redundancyCount>{spec.redundancy_count}</redundancyCount>"
            f"<type>0</type><typeStr>{_TYPES[spec.type]}</typeStr><transport>0</transport>"
            f"<bricks>{bricks}</bricks><optCount>0</optCount><options/></volume><count>1</count></volumes>"
            "</volInfo></cliOutput>\n")


_SHIM = '''#!{python}
# kadalu geo-replication: answers `gluster --xml volume info {name}` for gsyncd (no glusterd runs here).
import sys
args = [a for a in sys.argv[1:] if not a.startswith("--remote-host=")]
if args[:3] == ["--xml", "volume", "info"] and args[3:] in ([], ["{name}"]):
    sys.stdout.write(open({xml!r}).read())
    sys.exit(0)
sys.stderr.write("kadalu: only `gluster --xml volume info {name}` is answered here\\n")
sys.exit(1)
'''


_CLIENT = '''#!/usr/bin/python3 -I
# kadalu geo-replication: gsyncd's remote side mounts from localhost:24007; no glusterd runs here, the
# node's agent serves volfiles on its own address.
import os, sys
args = ["--volfile-server={address}" if a == "--volfile-server=localhost" else a for a in sys.argv[1:]]
os.execv({glusterfs!r}, [{glusterfs!r}] + args)
'''


def write_shim(bin_dir: Path, spec: VolumeSpec, glusterfs: str, address: str | None = None) -> None:
    """`gluster` (prints the volume's XML) and `glusterfs` (the real client: gsyncd mounts with it;
    with `address`, a wrapper that mounts from this node's volfile server instead of localhost)."""
    bin_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    xml = bin_dir.parent / f"{spec.name}.volinfo.xml"
    write_atomic(xml, volume_info_xml(spec))
    write_atomic(bin_dir / "gluster", _SHIM.format(python="/usr/bin/python3",
                                                   name=spec.name, xml=str(xml)))
    os.chmod(bin_dir / "gluster", 0o700)
    link = bin_dir / "glusterfs"
    if address is not None:
        link.unlink(missing_ok=True)
        write_atomic(link, _CLIENT.format(address=check_address(address), glusterfs=glusterfs))
        os.chmod(link, 0o700)
    elif not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(glusterfs)
