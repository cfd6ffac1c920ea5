"""The option values glusterd 10.3 writes into its graphs for a volume without options.

Two sources, both glusterd's (xlators/mgmt/glusterd/src/glusterd-volgen.c, glusterd-volume-set.c):
- the default value of a row of its volume-set table (`glusterd_volopt_map[]`, the `.value` of the
  row), written onto every translator of the row's type when the option is not set
  (volgen_graph_set_options_generic). Which rows reach which graph follows glusterd's option
  handlers: the self-heal daemon's io-stats, for example, gets log-level and threads only;
- options glusterd stores on every volume it creates (glusterd-volume-ops.c, `volume create`):
  transport.address-family inet, storage.fips-mode-rchecksum on, cluster.granular-entry-heal on
  (replicate), performance.client-io-threads off (replicate). Kadalu stores none of them: they
  are defaults here, so a volume's stored options are only what its administrator set.

Volume options are applied over these (volgen.options), so a set option replaces the default in
place. tests/integration/test_glusterd_parity.py holds these tables to what a real glusterd writes.
"""
from volgen.options import GraphKind

# {graph kind: {xlator type: {key: value}}}; a type missing here gets no default options.
BRICK = {
    "storage/posix": {"fips-mode-rchecksum": "on"},
    "features/trash": {"trash-dir": ".trashcan", "trash-internal-op": "off"},
    "features/changelog": {"changelog-barrier-timeout": "120", "changelog-notification": "off"},
    "features/bitrot-stub": {"bitrot": "disable"},
    "features/locks": {"enforce-mandatory-lock": "off"},
    "features/worm": {"worm": "off", "worm-file-level": "off", "worm-files-deletable": "on"},
    "features/read-only": {"read-only": "off"},
    "features/leases": {"leases": "off"},
    "features/upcall": {"cache-invalidation": "off"},
    "features/selinux": {"selinux": "on"},
    "features/marker": {"quota-version": "0", "xtime": "off", "gsync-force-xtime": "off", "quota": "off",
                        "inode-quota": "off"},
    "features/barrier": {"barrier": "disable", "barrier-timeout": "120"},
    "features/quota": {"server-quota": "off", "deem-statfs": "off"},
    "debug/io-stats": {"log-level": "INFO", "threads": "16", "latency-measurement": "off",
                       "count-fop-hits": "off", "global-threading": "off"},
    "protocol/server": {"transport.socket.ssl-enabled": "off", "transport.socket.keepalive": "1",
                        "transport.socket.keepalive-time": "20", "transport.socket.keepalive-interval": "2",
                        "transport.socket.keepalive-count": "9", "transport.listen-backlog": "1024"},
}

_CLIENT_CONNECTION = {
    "ping-timeout": "42", "strict-locks": "off", "transport.tcp-user-timeout": "0",
    "transport.socket.ssl-enabled": "off", "transport.socket.keepalive-time": "20",
    "transport.socket.keepalive-interval": "2", "transport.socket.keepalive-count": "9",
}
_AFR = {"use-compound-fops": "off", "use-anonymous-inode": "yes"}

CLIENT = {
    # send-gids: the brick sees the caller's supplementary groups (group permissions), as under
    # glusterd; the self-heal daemon runs as root and does not send them (glusterd's shd graph).
    "protocol/client": {"send-gids": "true", **_CLIENT_CONNECTION},
    "cluster/replicate": _AFR,
    "cluster/distribute": {"lock-migration": "off", "force-migration": "off"},
    "features/utime": {"noatime": "on"},
    "performance/readdir-ahead": {"parallel-readdir": "off", "rda-request-size": "131072", "rda-cache-limit": "10MB"},
    "performance/nl-cache": {"nl-cache-limit": "10MB"},
    "debug/io-stats": {"log-level": "INFO", "threads": "16", "latency-measurement": "off",
                       "count-fop-hits": "off", "global-threading": "off"},
}

SHD = {
    "protocol/client": _CLIENT_CONNECTION,
    "cluster/replicate": {**_AFR, "background-self-heal-count": "0"},
    "debug/io-stats": {"log-level": "INFO", "threads": "16"},
}

DEFAULTS: dict[GraphKind, dict[str, dict[str, str]]] = {"brick": BRICK, "client": CLIENT, "shd": SHD}


def defaults(kind: GraphKind, type_: str) -> dict[str, str]:
    return dict(DEFAULTS[kind].get(type_, {}))
