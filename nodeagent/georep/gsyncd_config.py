"""The gsyncd config file of one session on one master node ([vars], read by `gsyncd -c`).

Everything in it comes from the checked spec and the agent's own paths: the user's config keys
(contracts/georep_config.py allows only harmless ones), then kadalu's, which always win."""
import configparser
import io

from contracts import georep_config
from contracts.georep_specs import GeoRepSessionSpec
from nodeagent.georep import paths

SHIM_PLACEHOLDER = "/kadalu-georep-shim"  # rewritten by the remote node's forced command to its own shim


def bricks_value(spec_bricks) -> str:
    return ",".join(f"{b.node_id}:{b.address}:{b.path}" for b in spec_bricks)


def render(state_root, spec: GeoRepSessionSpec, address: str) -> str:
    d = paths.session_dir(state_root, spec.session_id)
    master = spec.master
    values = {k: v for k, v in georep_config.checked_all(spec.config).items()}
    key = paths.key_file(state_root, spec.session_id)
    ssh_options = (f"-oPasswordAuthentication=no -oStrictHostKeyChecking=no -oUserKnownHostsFile=/dev/null "
                   f"-oBatchMode=yes -i {key}")
    values.update({
        "glusterd-workdir": str(d / "workdir"), "gluster-logdir": str(d / "log"), "gluster-rundir": str(d / "run"),
        "gsyncd-miscdir": str(d / "misc"), "pid-file": str(paths.pid_file(state_root, spec.session_id)),
        "primary-bricks": bricks_value(master.bricks),
        "secondary-bricks": ",".join(f"{b.node_id}:{b.address}:{b.path}" for b in spec.remote_bricks),
        "primary-volume-id": master.id, "secondary-volume-id": spec.remote_volume_id,
        "primary-replica-count": str(master.replica_count if master.type in ("replicate", "arbiter") else 1),
        # 0 unless disperse: gsyncd's default 1 makes every brick its own subvolume
        "primary-disperse-count": str(master.disperse_count if master.type == "disperse" else 0),
        "ssh-command": paths.SSH, "ssh-options": ssh_options, "ssh-options-tar": ssh_options,
        "ssh-port": str(spec.ssh_port), "remote-gsyncd": paths.GSYNCD, "rsync-command": "/usr/bin/rsync",
        "gluster-command-dir": str(d / "bin"),
        "secondary-gluster-command-dir": SHIM_PLACEHOLDER if spec.remote_in_plane else "/usr/sbin",
        "gluster-params": f"aux-gfid-mount acl volfile-server={address}",
        # without it rsync 3.x copied nothing into the lazily unmounted remote mount
        "secondary-access-mount": "true",
        # a remote managed elsewhere: its volume id is not known here, so no lock name would match;
        # gsyncd's own choice (the node-uuid AFR answers) decides there
        "use-meta-volume": "true" if spec.remote_in_plane else "false",
        "meta-volume-mnt": str(paths.meta_mount(state_root, spec.session_id)),
    })
    cp = configparser.RawConfigParser()
    cp.add_section("vars")
    for name in sorted(values):
        cp.set("vars", name, values[name])
    out = io.StringIO()
    cp.write(out)
    return out.getvalue()
